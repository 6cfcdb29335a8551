"""Decode a resource's properties once per request, not once per policy (pulumi-policy 1.21.0).

Why: the SDK's ``Analyze`` runs ``unknown_checking_proxy(deserialize_properties(
MessageToDict(...)))`` on the resource's and on its provider's properties for *every* policy
object, and ``AnalyzeStack`` does it for every resource of the stack once per stack policy.
With va-guard's 11 policies that decoding, not the rules, was most of the pack's time (see the
README's "The policy pack" performance section): 11 no-op policies alone took longer than the
issue's 10 s budget for 5,000 resources.

What this does: while one ``Analyze`` or ``AnalyzeStack`` request is being served, those three
functions as ``pulumi_policy.policy`` calls them, and the servicer's ``_get_provider_resource``
and ``_get_resource_options``, return the value they already returned for the *same object*
earlier in that request. The memo lives on the serving thread and is dropped
when the request ends; it holds a strong reference to every argument, so an object identity it
matches cannot be a recycled id, and a request's messages are never modified while it is
served. Every policy still gets the properties it would have got: equal values, decoded from
the same message. The one difference: the policies of a request share one (read-only to every
va-guard rule) mapping instead of each getting a copy; the rules never write to their inputs,
and ``tests/policies/test_shared_decoding.py`` checks that the pack's responses are the same
with and without sharing for generated resources.

When it applies: only on the SDK version it was written against, and only while the source of
the SDK functions it relies on is byte-for-byte what was reviewed (digest below). Otherwise
``install()`` leaves the SDK alone and says why; the pack then runs at the SDK's own speed.
``VA_GUARD_SHARED_DECODING=0`` in the pack's environment turns it off.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import os
import threading
from collections.abc import Callable
from typing import Any

import pulumi_policy.policy as sdk
from google.protobuf import json_format
from pulumi_policy.version import VERSION

REVIEWED_VERSION = "1.21.0"
# sha256 over the source of the SDK code whose call pattern this module relies on.
REVIEWED_DIGEST = "823e036c145e1d02ced69a21762e280d3b986aca873f552e875d26b320fcdc76"
SWITCH = "VA_GUARD_SHARED_DECODING"

# The SDK internals reviewed for sharing (see above).
_SERVICER = sdk._PolicyAnalyzerServicer
_RELIED_ON: tuple[Callable[..., Any], ...] = (
    _SERVICER.Analyze,
    _SERVICER.AnalyzeStack,
    _SERVICER._get_provider_resource,
    _SERVICER._get_resource_options,
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


class _Request(threading.local):
    """The memo of the request the current thread is serving (None outside a request)."""

    memo: dict[tuple[str, int], tuple[Any, Any]] | None = None


_request = _Request()


def sdk_digest() -> str:
    """The digest of the SDK code this module relies on, as installed."""
    sha = hashlib.sha256()
    for fn in _RELIED_ON:
        sha.update(inspect.getsource(fn).encode())
    return sha.hexdigest()


def refusal() -> str | None:
    """Why sharing must not be installed here, or None when it may."""
    if os.environ.get(SWITCH, "1") == "0":
        return f"{SWITCH}=0"
    if VERSION != REVIEWED_VERSION:
        return f"pulumi-policy {VERSION} is installed; sharing was reviewed for {REVIEWED_VERSION}"
    try:
        digest = sdk_digest()
    except (OSError, TypeError):
        return "the pulumi-policy source cannot be read to check it is the reviewed one"
    if digest != REVIEWED_DIGEST:
        return "the pulumi-policy source differs from the reviewed one (digest mismatch)"
    return None


def installed() -> bool:
    return getattr(_SERVICER.Analyze, "_va_shared", False)


def install() -> str | None:
    """Share decoding within each request; returns why it did not, or None when installed.

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
