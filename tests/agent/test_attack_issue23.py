"""Attacks of the issue-23 review: an agent that reaches another invocation, breaks the
container for the next caller, or spends below list price; and a harness that only ran from a
world-readable clone.

Same harness as ``test_hostile_agent.py``: the real handler, warm in a runtime process of its own
as a non-root uid, the real Claude Code CLI, and a stand-in Messages API playing the attacker's
tool calls. Each test was seen failing against the code before its fix.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agent.lambda_env import LambdaEnvironment, lambda_environment
from tests.agent.servers import Moto
from tests.agent.standin import StandIn
from tests.agent.test_hostile_agent import pytestmark as hostile_pytestmark

pytestmark = hostile_pytestmark


@pytest.fixture(scope="module")
def api() -> Iterator[StandIn]:
    with StandIn([]) as standin:
        yield standin


@pytest.fixture(scope="module")
def lam(
    moto: Moto, claude_bin: Path, api: StandIn, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LambdaEnvironment]:
    """The function of ``test_hostile_agent`` (same environment), warm across this module."""
    from tests.agent import test_hostile_agent as hostile

    env = hostile.function_env(moto, claude_bin, api)
    with lambda_environment(env, tmp_path_factory.mktemp("runtime-logs")) as service:
        yield service


def as_sandbox_user(lam: LambdaEnvironment, argv: list[str]) -> subprocess.CompletedProcess[str]:
    """``argv`` started as the harness starts the runtime: as the function's uid, in its
    environment (``setpriv`` would not do: it resolves the program as root)."""
    return subprocess.run(
        argv, env=lam.env, cwd="/", capture_output=True, text=True, check=False,
        user=lam.uid, group=lam.uid, extra_groups=[],
    )  # fmt: skip


# --- 7. A clone in a private directory: the sandbox uid cannot run what the tests built --------

REACH_EVERYTHING = """
import os, subprocess, sys
import lambda_function  # the handler, from the function's PYTHONPATH
open(sys.argv[1]).close()  # the runtime loop the harness starts
subprocess.run([os.environ["FAALF_CLAUDE_BIN"], "--version"], check=True, capture_output=True)
print("reached")
"""


def test_sandbox_uid_reaches_the_interpreter_handler_and_cli_the_tests_built(lam):
    argv = [str(lam.build.python), "-c", REACH_EVERYTHING, str(lam.build.runtime_client)]
    try:
        done = as_sandbox_user(lam, argv)
    except PermissionError as exc:
        pytest.fail(f"the function's uid cannot execute {exc.filename}")

    assert done.stdout.strip() == "reached", done.stderr[-500:]
