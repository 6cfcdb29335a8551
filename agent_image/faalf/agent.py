"""One agent run: a fresh workspace, Claude Code under a deadline, then the scripts it wrote.

Every environment handed to a child is built here from an allow-list, never copied from ours:
the handler's own environment is the Lambda runtime's, and what the agent can see is exactly
what is listed below (the Anthropic key is never among it).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faalf import process
from faalf.bedrock import TOKEN_PREFIX
from faalf.proxy import CHILD_PATH
from faalf.request import AgentRequest
from faalf.settings import Settings

WORKSPACE_PREFIX = "faalf-"
# The region only: never the function role's credentials (see ``identity``). The agent's own,
# if its profile has an agent role, are added per invocation.
AWS_PASSTHROUGH = ("AWS_REGION", "AWS_DEFAULT_REGION")
QUIET_CLI = {
    "DISABLE_AUTOUPDATER": "1",
    "DISABLE_TELEMETRY": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
}
MODEL_ALIASES = (
    "ANTHROPIC_SMALL_FAST_MODEL", "ANTHROPIC_DEFAULT_HAIKU_MODEL", "ANTHROPIC_DEFAULT_SONNET_MODEL",
    "ANTHROPIC_DEFAULT_OPUS_MODEL", "CLAUDE_CODE_SUBAGENT_MODEL",
)  # fmt: skip
SKIP_DIRS = frozenset({"__pycache__", "site-packages", "node_modules"})
MAX_WALK_ENTRIES = 200_000
# Scripts found but not run (past the limit or the deadline) that the response lists; the rest
# are only counted. Each listed one costs its name, and an agent can leave 100,000 of them.
MAX_LISTED_NOT_RUN = 100
MAX_SESSION_ID = 128  # the CLI's session id is a UUID; what its report says is not trusted


@dataclass(frozen=True)
class Workspace:
    """``root`` holds everything of one invocation; only ``work`` is the agent's project."""

    root: Path

    @property
    def work(self) -> Path:
        return self.root / "work"

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def packages(self) -> Path:
        return self.root / "packages"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def capture(self) -> Path:
        return self.root / "capture"


def workspace(base: Path) -> Workspace:
    """A fresh tree under the work root (``/tmp``), which the handler empties after the run.

    Everything the agent's tools read or write by default lives in it: its project, ``HOME``
    (the CLI's config, its user-level ``CLAUDE.md``), caches and ``TMPDIR``. The work root
    itself is the only parent the agent can write to (Lambda's filesystem is read-only but
    ``/tmp``), and it is emptied after every run and checked empty before the next: a
    ``CLAUDE.md`` left there never reaches another invocation's CLI.
    """
    ws = Workspace(Path(tempfile.mkdtemp(prefix=WORKSPACE_PREFIX, dir=base)))
    for sub in (ws.work, ws.home, ws.packages, ws.tmp, ws.capture, ws.home / ".claude"):
        sub.mkdir(mode=0o700, parents=True, exist_ok=True)
    return ws


def common_env(
    ws: Workspace, request: AgentRequest, settings: Settings, credentials: Mapping[str, str]
) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": str(ws.home),
        "TMPDIR": str(ws.tmp),
        # `pip install` by the agent lands in the workspace, and scripts import from there.
        "PIP_TARGET": str(ws.packages),
        "PIP_CACHE_DIR": str(ws.tmp / "pip-cache"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PYTHONPATH": str(ws.packages),
        "PYTHONUNBUFFERED": "1",
        "FAALF_DEPTH": str(request.depth),
        "FAALF_MAX_DEPTH": str(settings.max_depth),
    }
    for name in AWS_PASSTHROUGH:
        if name in os.environ:
            env[name] = os.environ[name]
    env.update({k: v for k, v in os.environ.items() if k.startswith("AWS_ENDPOINT_URL")})
    env.update(credentials)
    return env


def claude_env(
    ws: Workspace,
    request: AgentRequest,
    settings: Settings,
    proxy_url: str,
    token: str,
    credentials: Mapping[str, str],
) -> dict[str, str]:
    env = common_env(ws, request, settings, credentials) | QUIET_CLI
    env["CLAUDE_CONFIG_DIR"] = str(ws.home / ".claude")
    if settings.auth_mode == "bedrock":
        # Unsigned Bedrock requests to the proxy, which checks, signs and meters them; the
        # token rides in the path, as the CLI sends no credentials in this mode.
        env["CLAUDE_CODE_USE_BEDROCK"] = "1"
        env["CLAUDE_CODE_SKIP_BEDROCK_AUTH"] = "1"
        env["ANTHROPIC_BEDROCK_BASE_URL"] = proxy_url + TOKEN_PREFIX + token
    else:
        env["ANTHROPIC_BASE_URL"] = proxy_url
        env["ANTHROPIC_API_KEY"] = token
    # faalf-invoke asks the handler for a child agent here (see ``children``).
    env["FAALF_INVOKE_URL"] = proxy_url + CHILD_PATH
    env["FAALF_TOKEN"] = token
    # The proxy enforces both; telling the CLI saves it requests that would be refused.
    env["CLAUDE_CODE_MAX_OUTPUT_TOKENS"] = str(settings.max_output_tokens)
    # Every model alias the CLI may use on its own (background tasks, subagents) is the
    # request's model, so none of its requests asks for one the proxy refuses.
    for alias in MODEL_ALIASES:
        env[alias] = request.model
    if settings.is_sandbox is not None:
        env["IS_SANDBOX"] = settings.is_sandbox
    return env


def script_env(
    ws: Workspace, request: AgentRequest, settings: Settings, credentials: Mapping[str, str]
) -> dict[str, str]:
    return common_env(ws, request, settings, credentials)


def system_prompt(request: AgentRequest, settings: Settings) -> str:
    if request.depth >= settings.max_depth:
        delegate = "You are at the maximum depth: do not start child agents."
    else:
        delegate = (
            "To delegate a subtask to a child agent, use only the `faalf-invoke` command "
            "(it passes your depth on); never invoke Lambda functions any other way."
        )
    return (
        f"You run as FAALF inside an AWS Lambda sandbox at recursion depth {request.depth} of at "
        f"most {settings.max_depth}. The working directory is removed after this request. "
        f"{delegate} Python packages you need: `pip install <name>` (they are importable by "
        "scripts). Put Python scripts in the working directory as .py files; if the request "
        "asks for execution they are run after you finish, in path order."
    )


def claude_argv(request: AgentRequest, settings: Settings) -> list[str]:
    return [
        settings.claude_bin,
        "-p",
        "--output-format", "json",
        "--dangerously-skip-permissions",
        "--no-session-persistence",
        "--max-turns", str(request.max_turns),
        "--model", request.model,
        "--max-budget-usd", f"{request.max_budget_usd:g}",
        "--append-system-prompt", system_prompt(request, settings),
    ]  # fmt: skip


@dataclass(frozen=True)
class CliOutcome:
    finished: process.Finished
    wall_ms: int
    report: dict[str, Any]

    @property
    def output(self) -> str:
        result = self.report.get("result")
        return result if isinstance(result, str) else self.finished.stdout.text

    # The report is the CLI's stdout, which the agent can write too (its parent's descriptor,
    # through /proc, before killing it): only fields of the expected type and size are used.
    @property
    def num_turns(self) -> int | None:
        turns = self.report.get("num_turns")
        return turns if isinstance(turns, int) and not isinstance(turns, bool) else None

    @property
    def session_id(self) -> str | None:
        session = self.report.get("session_id")
        return session if isinstance(session, str) and len(session) <= MAX_SESSION_ID else None

    @property
    def error(self) -> str | None:
        if self.finished.timed_out:
            return "Claude Code did not finish before the function's deadline and was stopped"
        failed = self.finished.return_code != 0 or self.report.get("is_error") is True
        if not failed:
            return None
        detail = self.finished.stderr.text.strip() or str(self.report.get("subtype") or "")
        return detail or f"Claude Code exited with code {self.finished.return_code}"


def run_claude(
    ws: Workspace,
    request: AgentRequest,
    settings: Settings,
    env: Mapping[str, str],
    deadline: float,
) -> CliOutcome:
    started = time.monotonic()
    finished = process.run(
        claude_argv(request, settings),
        env=env,
        cwd=ws.work,
        timeout_s=deadline - started,
        cap=settings.output_cap_bytes,
        scratch=ws.capture,
        stdin=request.task,
    )
    wall_ms = round((time.monotonic() - started) * 1000)
    return CliOutcome(finished, wall_ms, _report(finished.stdout.text))


def _report(stdout: str) -> dict[str, Any]:
    """The CLI's JSON result; anything else (a crash, a cut-off run) gives an empty report."""
    try:
        report = json.loads(stdout)
    except (ValueError, RecursionError):  # RecursionError: nested thousands of levels deep
        return {}
    return report if isinstance(report, dict) else {}


def scripts(work: Path) -> list[Path]:
    """The .py files the agent wrote, in path order, skipping hidden, cache and package trees.

    Walked with a stack, not recursion: the agent may build a tree thousands of levels deep.
    Symlinks are never followed nor run; folders too deep to open are skipped.
    """
    found: list[Path] = []
    folders = [work]
    visited = 0
    while folders and visited < MAX_WALK_ENTRIES:
        try:
            with os.scandir(folders.pop()) as entries:
                listed = list(entries)
        except OSError:
            continue
        visited += len(listed)
        for entry in listed:
            if entry.is_symlink():
                continue
            if entry.is_dir():
                if not entry.name.startswith(".") and entry.name not in SKIP_DIRS:
                    folders.append(Path(entry.path))
            elif entry.name.endswith(".py") and entry.is_file():
                found.append(Path(entry.path))
    return sorted(found, key=lambda p: p.relative_to(work).as_posix())


@dataclass(frozen=True)
class ScriptRuns:
    """One entry per script run, then per script not run up to ``MAX_LISTED_NOT_RUN``."""

    results: list[dict[str, Any]]
    not_listed: int = 0  # scripts found, neither run nor listed


def run_scripts(
    ws: Workspace,
    request: AgentRequest,
    settings: Settings,
    deadline: float,
    credentials: Mapping[str, str],
) -> ScriptRuns:
    env = script_env(ws, request, settings, credentials)
    results: list[dict[str, Any]] = []
    not_run = 0
    for index, path in enumerate(scripts(ws.work)):
        name = path.relative_to(ws.work).as_posix()
        left = deadline - time.monotonic()
        if index >= settings.max_scripts or left <= 0:
            not_run += 1
            if not_run <= MAX_LISTED_NOT_RUN:
                why = "the per-request script limit" if left > 0 else "the function's deadline"
                results.append(_skipped(name, f"not run: {why} was reached"))
            continue
        done = process.run(
            [sys.executable, str(path)],
            env=env,
            cwd=ws.work,
            timeout_s=min(settings.script_timeout_s, left),
            cap=settings.output_cap_bytes,
            scratch=ws.capture,
        )
        stderr = done.stderr.text or None
        if done.timed_out:
            stderr = (stderr or "") + f"\n[stopped: exceeded {settings.script_timeout_s:g} s]"
        results.append(
            {
                "file": name,
                "stdout": done.stdout.text,
                "stderr": stderr,
                "return_code": done.return_code,
                "timed_out": done.timed_out,
                "truncated": done.stdout.truncated or done.stderr.truncated,
            }
        )
    return ScriptRuns(results, max(0, not_run - MAX_LISTED_NOT_RUN))


def _skipped(name: str, why: str) -> dict[str, Any]:
    return {
        "file": name, "stdout": "", "stderr": why, "return_code": None,
        "timed_out": False, "truncated": False,
    }  # fmt: skip
