"""Everything va-guard relies on inside pulumi-policy, in one place, behind one guard.

The SDK's public contract is small: a policy gets ``args`` (read-only property proxies) and a
``report_violation`` that reports at the policy's one enforcement level. Three things the pack
does for speed or for its advisory notices go beyond that contract; they live here, and only
here (see ``docs/adr/0001-sdk-compat.md``):

1. **Shared decoding.** The SDK's ``Analyze`` runs ``unknown_checking_proxy(
   deserialize_properties(MessageToDict(...)))`` on a resource's and its provider's properties
   for *every* policy object, and ``AnalyzeStack`` does it for every resource once per stack
   policy: with va-guard's 11 policies that decoding, not the rules, was most of the pack's time.
   ``install()`` makes those calls (and the servicer's ``_get_provider_resource`` and
   ``_get_resource_options``) return, within one request on one thread, the value already
   computed for the *same object*. The memo holds its arguments (an identity it matches cannot
   be a recycled id) and is dropped when the request ends. The policies of a request then share
   one read-only mapping; the rules never write to their inputs.
2. **One Resource per request.** With decoding shared, the families of one request get the very
   same property objects, so they share one ``framework.Resource`` (its tags read once):
   ``reuse()``.
3. **The notice hand-over.** A family reports violations at its own level; what it could not
   check, its warnings and the exemptions it used must still be visible, as advisories. The
   SDK's ``Analyze`` runs one request's policies in list order on the serving thread, so a
   family leaves its notices on a thread-local board (``hand_over``) and ``va-notices``, the
   pack's last policy, takes them (``take_notices``).

Plus a fast path in ``props``: the SDK's own proxy classes (``_DictProxy``/``_ListProxy``) are
answered from a type table instead of the ``collections.abc`` machinery (``proxy_types()``).

**The guard.** All of this applies only on the SDK version it was written against, and only
while the source of the SDK code it relies on is byte-for-byte the reviewed one (digest below);
``VA_GUARD_SDK_COMPAT=0`` in the pack's environment turns it off. ``refusal()`` says why not.

4. **What the engine says that the SDK drops.** The engine's ``ConfigureStack`` names the
   organization, project and stack it analyses; pulumi-policy 1.21 keeps only the stack's tags.
   And the engine marks each secret value in a resource's properties (``{<sig>: <secret sig>,
   "value": ...}``, where the program put it); the SDK unwraps them before a policy sees them.
   The pack scopes exemptions by stack and refuses secrets in plain configuration, so
   ``install_engine_facts()`` wraps the servicer's ``ConfigureStack``, ``Analyze`` and
   ``AnalyzeStack`` (gRPC methods of the analyzer protocol, their requests public proto
   messages) to keep the stack (``stack_identity()``) and, for the request being served, where
   each resource's secrets are (``secret_paths()``, read from the request's own properties).
   Unlike 1-3 this is not for speed: the pack's answers depend on it, so it is installed
   whenever the servicer has those methods, on any SDK version and with
   ``VA_GUARD_SDK_COMPAT=0`` too; where it cannot be, the stack stays unnamed and stack-scoped
   exemptions do not apply (fail closed), which the stack's report says.

**The fallback** when the guard refuses keeps the pack's answers identical, at the SDK's own
speed: the SDK decodes per policy; props uses the abstract ``Mapping``/``Sequence`` checks;
every family builds its own Resource; and instead of a hand-over, ``va-notices`` works the
notices out itself, running every family that has run in this process again on the resource,
with the config that family last received (``framework.notices_policies``). That relies only
on what any SDK version does: calling enabled policies with their own config, never disabled
ones. ``tests/policies/test_sdk_compat.py`` compares the pack's diagnostics with the guard on
and refusing, over gRPC.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pulumi_policy.policy as sdk
import pulumi_policy.proxy as sdk_proxy
from google.protobuf import json_format
from pulumi_policy.version import VERSION

REVIEWED_VERSION = "1.21.0"
# sha256 over the source of the SDK code listed in _RELIED_ON, as reviewed.
REVIEWED_DIGEST = "9b6dadd4b1fca8ef150f24dc86f20081584f2df5d37194affba4dac8f8ee7f47"
SWITCH = "VA_GUARD_SDK_COMPAT"

_SERVICER = sdk._PolicyAnalyzerServicer
# The SDK code whose behaviour the three workarounds and the props fast path rely on.
_RELIED_ON: tuple[Any, ...] = (
    _SERVICER.Analyze,  # policies in list order, on the serving thread; decoding per policy
    _SERVICER.AnalyzeStack,
    _SERVICER._get_provider_resource,
    _SERVICER._get_resource_options,
    sdk_proxy._DictProxy,  # a Mapping, never a list; raises UnknownValueError on unknowns
    sdk_proxy._ListProxy,  # a Sequence, never a mapping
)
REQUESTS = ("Analyze", "AnalyzeStack")
# Servicer methods of (self, message) and pulumi_policy.policy functions of (value): their
# result is shared within a request.
SHARED_METHODS = ("_get_provider_resource", "_get_resource_options")
SHARED_FUNCTIONS = ("deserialize_properties", "unknown_checking_proxy")
# Everything install() replaces, as (owner, attribute): for the tests to put back.
PATCH_POINTS: tuple[tuple[Any, str], ...] = (
    *((_SERVICER, name) for name in (*REQUESTS, *SHARED_METHODS)),
    *((sdk, name) for name in (*SHARED_FUNCTIONS, "json_format")),
)

T = TypeVar("T")


# --- the guard -----------------------------------------------------------------------------


def sdk_digest() -> str:
    """The digest of the SDK code this module relies on, as installed."""
    sha = hashlib.sha256()
    for code in _RELIED_ON:
        sha.update(inspect.getsource(code).encode())
    return sha.hexdigest()


def refusal() -> str | None:
    """Why the workarounds must not be used here, or None when they may."""
    if os.environ.get(SWITCH, "1") == "0":
        return f"{SWITCH}=0"
    if VERSION != REVIEWED_VERSION:
        return f"pulumi-policy {VERSION} is installed; reviewed for {REVIEWED_VERSION}"
    try:
        digest = sdk_digest()
    except (OSError, TypeError):
        return "the pulumi-policy source cannot be read to check it is the reviewed one"
    if digest != REVIEWED_DIGEST:
        return "the pulumi-policy source differs from the reviewed one (digest mismatch)"
    return None


def installed() -> bool:
    """Whether ``install()`` took effect in this process (the pack's ``__main__`` calls it)."""
    return getattr(_SERVICER.Analyze, "_va_shared", False)


def install() -> str | None:
    """Turn the workarounds on; returns why it did not, or None when they are on.

    Call before ``PolicyPack(...)``: the server binds the servicer's methods when it starts.
    """
    if installed():
        return None
    reason = refusal()
    if reason is not None:
        return reason
    for name in REQUESTS:
        setattr(_SERVICER, name, _one_request(getattr(_SERVICER, name)))
    for name in SHARED_METHODS:
        setattr(_SERVICER, name, _shared(name, getattr(_SERVICER, name), arity=2))
    for name in SHARED_FUNCTIONS:
        setattr(sdk, name, _shared(name, getattr(sdk, name), arity=1))
    sdk.json_format = _JsonFormat()
    return None


# --- props: the SDK's proxy types ------------------------------------------------------------


def proxy_types() -> tuple[tuple[type, ...], tuple[type, ...]]:
    """(mapping proxies, list proxies) that ``props`` may answer from its type table; none
    when the guard refuses (then the abstract ``Mapping``/``Sequence`` checks answer)."""
    if refusal() is not None:
        return (), ()
    return (sdk_proxy._DictProxy,), (sdk_proxy._ListProxy,)


# --- 1. shared decoding ----------------------------------------------------------------------


class _Request(threading.local):
    """The memo of the request the current thread is serving (None outside a request)."""

    memo: dict[tuple[str, int], tuple[Any, Any]] | None = None


_request = _Request()


def _one_request(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def serve(self: Any, request: Any, context: Any) -> Any:
        if _request.memo is not None:  # not re-entered by the SDK; kept correct if it ever is
            return method(self, request, context)
        _request.memo = {}
        try:
            return method(self, request, context)
        finally:
            _request.memo = None

    serve._va_shared = True  # type: ignore[attr-defined]
    return serve


def _shared(name: str, fn: Callable[..., Any], arity: int) -> Callable[..., Any]:
    """``fn`` with its result shared within a request, keyed on its last argument's identity;
    calls of another shape, or outside a request, go straight through."""

    @functools.wraps(fn)
    def shared(*args: Any, **kwargs: Any) -> Any:
        memo = _request.memo
        if memo is None or len(args) != arity or kwargs:
            return fn(*args, **kwargs)
        subject = args[-1]
        key = (name, id(subject))
        hit = memo.get(key)
        if hit is not None and hit[0] is subject:
            return hit[1]
        value = fn(*args)
        memo[key] = (subject, value)
        return value

    return shared


class _JsonFormat:
    """``google.protobuf.json_format`` as ``pulumi_policy.policy`` sees it: ``MessageToDict``
    shared within a request, everything else the module itself."""

    def __init__(self) -> None:
        self._module = json_format
        self.MessageToDict = _shared("MessageToDict", json_format.MessageToDict, arity=1)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


# --- 2. one Resource per request -------------------------------------------------------------


class _LastBuilt(threading.local):
    """The last value built on this thread, with the objects it was built from (kept alive, so
    an identity match cannot be a recycled id)."""

    entry: tuple[Any, Any, tuple[str, ...], Any] | None = None


_last_built = _LastBuilt()


def reuse(props: Any, provider_props: Any, names: tuple[str, ...], build: Callable[[], T]) -> T:
    """``build()``, or what it returned last on this thread for the very same property objects
    and names; always ``build()`` when the workarounds are off (no object is shared then)."""
    if not installed():
        return build()
    last = _last_built.entry
    if last is not None and last[0] is props and last[1] is provider_props and last[2] == names:
        return last[3]
    value = build()
    _last_built.entry = (props, provider_props, names, value)
    return value


# --- 3. the notice hand-over -----------------------------------------------------------------


class _Notices(threading.local):
    def __init__(self) -> None:
        self.subject = ""
        self.by_policy: dict[str, list[str]] = {}


_notices = _Notices()


def hand_over(subject: str, policy: str, notices: list[str]) -> None:
    """Leave a policy's notices for the notices policy that runs after it in the same request."""
    if _notices.subject != subject:
        _notices.subject, _notices.by_policy = subject, {}
    _notices.by_policy[policy] = notices  # a policy's own entry is replaced, never piles up


def take_notices(subject: str) -> list[tuple[str, str]]:
    """(policy, notice) handed over for ``subject`` in this request, in policy order."""
    if _notices.subject != subject:
        return []
    taken = [(p, msg) for p, msgs in _notices.by_policy.items() for msg in msgs]
    _notices.subject, _notices.by_policy = "", {}
    return taken


# --- 4. what the engine says that the SDK drops ---------------------------------------------


@dataclass(frozen=True)
class StackIdentity:
    """The stack being analysed, as the engine named it in ``ConfigureStack``; with the values
    of its secret config (to tell a secret read from config from a literal; never shown) and
    whether the engine sent the stack's config at all."""

    organization: str
    project: str
    stack: str
    secret_values: frozenset[str] = field(default=frozenset(), repr=False, compare=False)
    config_sent: bool = False

    def __str__(self) -> str:
        return f"{self.organization}/{self.project}/{self.stack}"


_stack: StackIdentity | None = None


def stack_identity() -> StackIdentity | None:
    """The stack the engine said it analyses; None before ``ConfigureStack`` (or when the
    hook could not be installed)."""
    return _stack


FACT_METHODS = ("ConfigureStack", "Analyze", "AnalyzeStack")


def engine_facts_refusal() -> str | None:
    """Why the engine's stack identity and secret marks cannot be kept on this SDK, or None."""
    missing = [m for m in FACT_METHODS if not callable(getattr(_SERVICER, m, None))]
    if missing:
        return f"the SDK's analyzer has no {', '.join(missing)}"
    return None


def install_engine_facts() -> str | None:
    """Keep what ``ConfigureStack`` says and where each request's secrets are (idempotent);
    returns why not, or None."""
    reason = engine_facts_refusal()
    if reason is not None:
        return reason
    if not getattr(_SERVICER.Analyze, "_va_facts", False):
        for name in ("Analyze", "AnalyzeStack"):
            setattr(_SERVICER, name, _with_marks(getattr(_SERVICER, name)))
    method = _SERVICER.ConfigureStack
    if getattr(method, "_va_facts", False):
        return None

    @functools.wraps(method)
    def configure_stack(self: Any, request: Any, context: Any) -> Any:
        config = dict(getattr(request, "config", {}) or {})
        secret_keys = set(getattr(request, "config_secret_keys", ()) or ())
        remember_stack(
            getattr(request, "organization", ""),
            getattr(request, "project", ""),
            getattr(request, "stack", ""),
            {v for k, v in config.items() if k in secret_keys},
            bool(config),
        )
        return method(self, request, context)

    configure_stack._va_facts = True  # type: ignore[attr-defined]
    setattr(_SERVICER, "ConfigureStack", configure_stack)  # noqa: B010 - mypy: a method
    return None


def remember_stack(
    organization: str,
    project: str,
    stack: str,
    secret_values: Iterable[str] = (),
    config_sent: bool = False,
) -> None:
    """Record the analysed stack; a request naming no stack leaves it unnamed."""
    global _stack
    names = (organization, project, stack)
    _stack = (
        StackIdentity(*names, frozenset(v for v in secret_values if v), config_sent)
        if all(isinstance(n, str) and n for n in names)
        else None
    )


# Where the engine marks a value secret: ``{SIG_KEY: SECRET_SIG, "value": ...}``.
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
SecretPath = tuple[str | int, ...]


class _Marks(threading.local):
    """The properties (proto Structs, by URN) of the request this thread is serving, and the
    secret paths read from them so far."""

    structs: dict[str, Any] | None = None
    paths: dict[str, frozenset[SecretPath]] | None = None


_marks = _Marks()


def _with_marks(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def serve(self: Any, request: Any, context: Any) -> Any:
        resources = getattr(request, "resources", None)
        if resources is not None:  # AnalyzeStack
            structs = {r.urn: r.properties for r in resources}
        else:
            structs = {request.urn: request.properties}
        saved = _marks.structs, _marks.paths
        _marks.structs, _marks.paths = structs, {}
        try:
            return method(self, request, context)
        finally:
            _marks.structs, _marks.paths = saved

    serve._va_facts = True  # type: ignore[attr-defined]
    return serve


def secret_paths(urn: str) -> frozenset[SecretPath]:
    """Where the engine marked the properties of ``urn`` secret, in the request being served:
    paths of keys and list indexes (``("environment", "variables", "DB")``); a marked value's
    own insides are not listed. Empty outside a request or for another resource."""
    structs, paths = _marks.structs, _marks.paths
    if not structs or paths is None or urn not in structs:
        return frozenset()
    found = paths.get(urn)
    if found is None:
        out: list[SecretPath] = []
        for key, value in structs[urn].fields.items():
            _walk(value, (key,), out)
        found = paths[urn] = frozenset(out)
    return found


def _walk(value: Any, path: SecretPath, out: list[SecretPath]) -> None:
    kind = value.WhichOneof("kind")
    if kind == "struct_value":
        fields = value.struct_value.fields
        sig = fields.get(SIG_KEY)
        if sig is not None and sig.string_value == SECRET_SIG:
            out.append(path)
            return
        for key, item in fields.items():
            _walk(item, (*path, key), out)
    elif kind == "list_value":
        for i, item in enumerate(value.list_value.values):
            _walk(item, (*path, i), out)
