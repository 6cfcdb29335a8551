"""Which commit a build comes from: names artifacts and image tags after it (seed 000)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def git_commit(directory: Path) -> tuple[str | None, bool]:
    """(commit, whether files under ``directory`` differ from it); (None, True) outside git."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=directory, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        status = subprocess.run(
            ["git", "status", "--porcelain", "--", "."],
            cwd=directory, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None, True
    return commit, bool(status)


def content_revision(content_sha256_hex: str) -> str:
    """For what should change only with its content (layers): 12 hex digits of its hash."""
    return content_sha256_hex[:12]


def revision(commit: str | None, dirty: bool, content_sha256_hex: str) -> str:
    """The commit for a clean tree; otherwise commit + content hash, so the name still changes
    exactly when the content does (a dirty tree has no commit that describes it)."""
    if commit and not dirty:
        return commit
    return f"{commit or 'nogit'}-dirty-{content_revision(content_sha256_hex)}"
