"""What each child sees: the CLI's and the scripts' environments, built from allow-lists."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from faalf import agent, process
from faalf.request import AgentRequest
from faalf.settings import Settings

REQUEST = AgentRequest("t", execute=True, model="m", max_turns=3, max_budget_usd=1.0, depth=1)


@pytest.fixture
def ws(tmp_path: Path) -> agent.Workspace:
    return agent.Workspace(tmp_path)


@pytest.fixture(autouse=True)
def handler_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Lambda runtime's own variables, which must not all reach the children."""
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "role-session")
    monkeypatch.setenv("_HANDLER", "lambda_function.handler")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-from-the-handler-env")


def test_bedrock_cli_env_has_bedrock_on_and_no_anthropic_key(ws):
    settings = Settings.from_env({"FAALF_AUTH_MODE": "bedrock", "AWS_REGION": "eu-central-1"})
    env = agent.claude_env(ws, REQUEST, settings, "http://127.0.0.1:1", "faalf-session-x", {})

    assert env["CLAUDE_CODE_USE_BEDROCK"] == "1"
    assert env["ANTHROPIC_BEDROCK_BASE_URL"] == "http://127.0.0.1:1/s/faalf-session-x"
    assert "ANTHROPIC_API_KEY" not in env


def test_function_role_credentials_never_reach_the_agent(ws):
    settings = Settings.from_env({"FAALF_API_KEY_SECRET": "s"})
    env = agent.claude_env(ws, REQUEST, settings, "http://127.0.0.1:1", "t", {})

    assert not {k for k in env if k.startswith(("AWS_ACCESS", "AWS_SECRET", "AWS_SESSION"))}


def test_agent_role_credentials_are_the_agents_identity(ws):
    settings = Settings.from_env({"FAALF_API_KEY_SECRET": "s"})
    creds = {"AWS_ACCESS_KEY_ID": "ASIAAGENT", "AWS_SECRET_ACCESS_KEY": "x",
             "AWS_SESSION_TOKEN": "agent-session"}  # fmt: skip
    env = agent.script_env(ws, REQUEST, settings, creds)

    assert env["AWS_SESSION_TOKEN"] == "agent-session"


def test_api_key_cli_env_carries_only_the_token_and_the_proxy(ws):
    settings = Settings.from_env({"FAALF_API_KEY_SECRET": "s"})
    env = agent.claude_env(ws, REQUEST, settings, "http://127.0.0.1:1", "faalf-session-x", {})

    assert (env["ANTHROPIC_API_KEY"], env["ANTHROPIC_BASE_URL"]) == (
        "faalf-session-x", "http://127.0.0.1:1",
    )  # fmt: skip
    assert env["HOME"] == str(ws.home)
    assert env["CLAUDE_CONFIG_DIR"] == str(ws.home / ".claude")
    assert "_HANDLER" not in env


def test_script_env_is_the_allow_list_only(ws):
    settings = Settings.from_env({"FAALF_API_KEY_SECRET": "s"})
    env = agent.script_env(ws, REQUEST, settings, {})

    assert not {k for k in env if k.startswith(("ANTHROPIC", "CLAUDE", "_"))}
    assert env["PYTHONPATH"] == env["PIP_TARGET"] == str(ws.packages)
    assert env["FAALF_DEPTH"] == "1"


def test_system_prompt_at_the_depth_limit_forbids_child_agents():
    settings = Settings.from_env({"FAALF_API_KEY_SECRET": "s", "FAALF_MAX_DEPTH": "1"})

    assert "do not start child agents" in agent.system_prompt(REQUEST, settings)
    assert "faalf-invoke" not in agent.system_prompt(REQUEST, settings)


def test_scripts_are_found_in_path_order_skipping_hidden_and_package_trees(tmp_path):
    for name in ("b.py", "a/z.py", "a/b.py", ".venv/x.py", "__pycache__/c.py",
                 "lib/site-packages/p.py", "notes.txt"):  # fmt: skip
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")

    found = [p.relative_to(tmp_path).as_posix() for p in agent.scripts(tmp_path)]

    assert found == ["a/b.py", "a/z.py", "b.py"]


def test_scripts_not_run_are_listed_up_to_a_cap_and_the_rest_counted(tmp_path):
    ws = agent.workspace(tmp_path)
    for i in range(agent.MAX_LISTED_NOT_RUN + 50):
        (ws.work / f"s{i:04d}.py").write_text("")
    settings = Settings.from_env({"FAALF_API_KEY_SECRET": "s", "FAALF_MAX_SCRIPTS": "0"})

    runs = agent.run_scripts(ws, REQUEST, settings, time.monotonic() + 60, {})

    assert (len(runs.results), runs.not_listed) == (agent.MAX_LISTED_NOT_RUN, 50)


def cli_outcome(stdout: str) -> agent.CliOutcome:
    finished = process.Finished(
        return_code=-9, stdout=process.Captured(stdout, False),
        stderr=process.Captured("", False), timed_out=False, pgid=1,
    )  # fmt: skip
    return agent.CliOutcome(finished, 1, agent._report(stdout))


def test_a_cli_report_the_agent_forged_gives_no_unbounded_fields():
    # The agent can write its parent CLI's stdout (/proc/<cli>/fd/1), then kill the CLI.
    outcome = cli_outcome(json.dumps({"session_id": "\U0001f600" * 500_000, "num_turns": [[]] * 9}))

    assert (outcome.session_id, outcome.num_turns) == (None, None)


def test_a_cli_report_nested_too_deep_to_parse_is_no_report():
    assert cli_outcome("[" * 100_000).report == {}
