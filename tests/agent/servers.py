"""The real parts the e2e tests run against: the Claude Code CLI from npm and moto's server.

The CLI is installed once into ``.va-build/claude-code/<version>`` at the version the Dockerfile
pins, so tests and image run the same binary. moto runs as its own process on 127.0.0.1 with
request recording on, which is how the tests count Secrets Manager calls.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "agent_image" / "Dockerfile"
CACHE = ROOT / ".va-build" / "claude-code"


def pinned_cli_version() -> str:
    match = re.search(r"^ARG CLAUDE_CODE_VERSION=(\S+)$", DOCKERFILE.read_text(), re.M)
    if not match:
        raise RuntimeError(f"{DOCKERFILE}: no 'ARG CLAUDE_CODE_VERSION=<version>' line")
    return match.group(1)


def install_claude_cli(version: str | None = None) -> Path:
    """The CLI's native binary, installed from npm on first use (about 10 s, 360 MB)."""
    version = version or pinned_cli_version()
    prefix = CACHE / version
    binary = prefix / "node_modules" / ".bin" / "claude"
    if binary.exists():
        return binary
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed to install @anthropic-ai/claude-code for the e2e tests")
    prefix.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--loglevel=error",
         f"@anthropic-ai/claude-code@{version}"],
        check=True,
    )  # fmt: skip
    if not binary.exists():
        raise RuntimeError(f"npm installed @anthropic-ai/claude-code@{version} without {binary}")
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
