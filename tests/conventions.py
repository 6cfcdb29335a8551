"""The VA conventions read back, for tests of what the program and components built.

The shared standard (``policies/va_guard/standard.py``) only builds names; reading them back is
what tests do, so the parsers live here. Tags are judged by the pack's own tagging rule.
"""

from __future__ import annotations

import re
from typing import Any

from policies.va_guard import standard, tagging
from policies.va_guard.framework import Resource

REVISION_RE = re.compile(r"[0-9a-z][0-9a-z-]{0,63}")
ARTIFACT_TYPES = ("lambda", "layer")


def parse_physical_name(name: str) -> tuple[str, str, str] | None:
    """(env, purpose, type) of a convention-following name, or None when it does not follow it."""
    m = standard.PHYSICAL_NAME_RE.match(name) if isinstance(name, str) else None
    if m is None or m["env"] not in standard.ENVIRONMENTS:
        return None
    return m["env"], m["purpose"], m["type"]


def parse_secret_name(name: str) -> tuple[str, str] | None:
    m = standard.SECRET_NAME_RE.match(name) if isinstance(name, str) else None
    if m is None or m["env"] not in standard.ENVIRONMENTS:
        return None
    return m["env"], m["name"]


def parse_artifact_key(key: str) -> tuple[str, str] | None:
    """(function or layer name, revision) of an artifact key, or None if it is not one."""
    stem, dot, ext = key.rpartition(".")
    if not dot or ext != "zip":
        return None
    for type_ in ARTIFACT_TYPES:
        owner, sep, rev = stem.partition(f"-{type_}-")
        named = sep and parse_physical_name(f"{owner}-{type_}")
        if named and REVISION_RE.fullmatch(rev):
            return f"{owner}-{type_}", rev
    return None


def tag_violations(type_: str, tags: dict[str, Any]) -> list[str]:
    """What the pack's va-tagging rule says about a resource with these tags (defaults)."""
    resource = Resource.of(type_, "r", f"urn:pulumi:t::p::{type_}::r", {"tags": tags})
    return tagging.FAMILY.evaluate(resource, tagging.FAMILY.config(None))[0]
