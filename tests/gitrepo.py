"""A copy of this project in a fresh git repository, for tests that need real commits (revisions
named after the last change, plans diffed against a ref)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.paths import PROJECT_ROOT

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
    "PATH": "/usr/bin:/bin", "HOME": "/tmp",
}  # fmt: skip
# What a program run never reads: left out to keep the copy small.
NOT_COPIED = ("tests/", "bench/", ".github/", "docs/")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, env=GIT_ENV, capture_output=True, text=True, check=True
    ).stdout


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def project_copy(root: Path) -> Path:
    """The project's tracked (and untracked, not ignored) files under ``root``, committed once."""
    tracked = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, check=True,
    ).stdout.split("\0")  # fmt: skip
    for rel in filter(None, tracked):
        source = PROJECT_ROOT / rel
        if source.is_file() and not rel.startswith(NOT_COPIED):
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / rel)
    git(root, "init", "-q")
    commit(root, "initial")
    return root
