"""The pack's own name and version, as every stack report states them.

A team reads its preview to learn which version of va-guard judged its stack (the Pulumi CLI
shows the version only where it ran the pack itself, and an organisation's policy group may
pin an older one). The version is the one ``pulumi policy publish`` publishes under:
``version`` in ``PulumiPolicy.yaml`` beside this package, read once; the pack ships that file
with its code, so it cannot drift from what was published.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

PACK_NAME = "va-guard"
POLICY_FILE = Path(__file__).resolve().parents[1] / "PulumiPolicy.yaml"
UNKNOWN_VERSION = "unknown"
# ``version: 0.2.0`` (optionally quoted, optionally commented) at the top level of the file.
_VERSION_RE = re.compile(r"""^version:\s*["']?([0-9A-Za-z.+-]+)["']?\s*(?:#.*)?$""", re.MULTILINE)


def pack_version(path: Path = POLICY_FILE) -> str:
    """``version`` of ``PulumiPolicy.yaml``; "unknown" when the file or the key is missing (the
    pack still runs: a missing version must not stop a stack's checks)."""
    return _read(path)


@cache
def _read(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return UNKNOWN_VERSION
    match = _VERSION_RE.search(text)
    return match[1] if match else UNKNOWN_VERSION


def judged_by(stack: object = None) -> str:
    """The notice that opens every stack report: which pack, at which version, which stack
    (as the engine named it; unnamed when it did not)."""
    named = f" {stack}" if stack else " (the engine did not name it)"
    return f"{PACK_NAME} {pack_version()} judged this stack{named}"
