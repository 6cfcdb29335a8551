"""The real parts the e2e tests run against: the Claude Code CLI from npm and moto's server.

The CLI is installed once into ``<build dir>/claude-code/<version>`` at the version the
Dockerfile pins, so tests and image run the same binary. The build directory is not in the
clone: the hostile-agent tests run the handler, and so the CLI, as a uid of its own, which
cannot reach into a clone under a private directory (root's home, ``mktemp -d``). It is
``/var/tmp/faalf-tests-<euid>`` (or ``FAALF_TEST_BUILD_DIR``), which every uid can traverse and
only we can write: checked on every use, since what is built there is executed by root too.
moto runs as its own process on 127.0.0.1 with request recording on, which is how the tests
count Secrets Manager calls.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "agent_image" / "Dockerfile"


class BuildDirError(RuntimeError):
    """The shared build directory is not one only we can write, or some uid cannot reach it."""


def build_dir() -> Path:
    """The directory the tests build into, which every uid can traverse and only we can write.

    Created 0755 if missing; refused (one line saying why) if it is a symlink, is owned by
    another user, is writable by others, or sits below a directory other users cannot traverse.
    """
    path = Path(os.environ.get("FAALF_TEST_BUILD_DIR") or f"/var/tmp/faalf-tests-{os.geteuid()}")
    if not path.is_absolute():
        raise BuildDirError(f"FAALF_TEST_BUILD_DIR={path}: give an absolute path")
    for parent in reversed(path.parents):
        if not os.stat(parent).st_mode & stat.S_IXOTH:
            raise BuildDirError(
                f"{parent} is not traversable by other users, so the agent's uid could not reach "
                f"{path}: set FAALF_TEST_BUILD_DIR to a directory under a world-traversable one"
            )
    with suppress(FileExistsError):
        path.mkdir(mode=0o755)
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise BuildDirError(f"{path} is not a directory (a symlink?): remove it")
    if info.st_uid != os.geteuid():
        raise BuildDirError(f"{path} belongs to uid {info.st_uid}, not to us: remove it")
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise BuildDirError(f"{path} is writable by others: remove it")
    os.chmod(path, 0o755)  # traversable by the agent's uid, whatever our umask made it
    return path


@contextmanager
def build_lock(name: str) -> Iterator[None]:
    """One test session at a time builds ``name`` (other clones share the build directory)."""
    with open(build_dir() / f".{name}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def readable_by_all(path: Path) -> None:
    """What the agent's uid executes must be readable (and its folders traversable) by it."""
    subprocess.run(["chmod", "-R", "a+rX,go-w", str(path)], check=True)


def pinned_cli_version() -> str:
    match = re.search(r"^ARG CLAUDE_CODE_VERSION=(\S+)$", DOCKERFILE.read_text(), re.M)
    if not match:
        raise RuntimeError(f"{DOCKERFILE}: no 'ARG CLAUDE_CODE_VERSION=<version>' line")
    return match.group(1)


def install_claude_cli(version: str | None = None) -> Path:
    """The CLI's native binary, installed from npm on first use (about 10 s, 360 MB)."""
    version = version or pinned_cli_version()
    prefix = build_dir() / "claude-code" / version
    binary = prefix / "node_modules" / ".bin" / "claude"
    done = prefix / ".installed"  # written last: a half-finished install is redone
    with build_lock("claude-code"):
        if done.exists():
            return binary
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm is needed to install @anthropic-ai/claude-code for the tests")
        shutil.rmtree(prefix, ignore_errors=True)
        prefix.mkdir(parents=True)
        subprocess.run(
            [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund",
             "--loglevel=error", f"@anthropic-ai/claude-code@{version}"],
            check=True,
        )  # fmt: skip
        if not binary.exists():
            raise RuntimeError(
                f"npm installed @anthropic-ai/claude-code@{version} without {binary}"
            )
        readable_by_all(prefix.parent)
        done.touch()
    return binary


@dataclass(frozen=True)
class Moto:
    url: str
    recording: Path

    def calls(self, target: str) -> int:
        """How many requests with ``X-Amz-Target: <target>`` moto has served."""
        if not self.recording.exists():
            return 0
        count = 0
        for line in self.recording.read_text().splitlines():
            headers = json.loads(line).get("headers", {})
            if headers.get("X-Amz-Target") == target:
                count += 1
        return count


@contextmanager
def moto_server(workdir: Path) -> Iterator[Moto]:
    recording = workdir / "moto-recording.jsonl"
    env = os.environ | {"MOTO_ENABLE_RECORDING": "1", "MOTO_RECORDER_FILEPATH": str(recording)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", "0"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    try:
        assert proc.stderr is not None
        url = None
        for line in proc.stderr:  # werkzeug prints the bound address once it listens
            match = re.search(r"Running on (http://127\.0\.0\.1:\d+)", line)
            if match:
                url = match.group(1)
                break
        if url is None:
            raise RuntimeError(f"moto server exited with {proc.wait()} before listening")
        # werkzeug logs every request to stderr: keep draining it, or moto blocks on a full pipe.
        threading.Thread(target=proc.stderr.read, daemon=True).start()
        yield Moto(url, recording)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stderr:
            proc.stderr.close()
