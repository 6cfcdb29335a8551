"""The handler end to end: real Claude Code CLI, moto's Secrets Manager, the stand-in API."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.agent.conftest import API_KEY, LambdaContext
from tests.agent.standin import HANG, StandIn, bash, say, write
from tests.agent.test_hostile_agent import cost_lines

HELLO = [write("hello.py", "print('hello world')\n"), say("Wrote hello.py")]


def invoke(module: Any, event: object, **context: Any) -> dict[str, Any]:
    return module.handler(event, LambdaContext(**context))


@pytest.fixture
def api(faalf_env: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Any:
    turns = getattr(request, "param", HELLO)
    with StandIn(turns) as standin:
        faalf_env.setenv("ANTHROPIC_BASE_URL", standin.url)
        yield standin


def test_hello_world_executed_returns_its_stdout(lambda_function, api):
    result = invoke(lambda_function, {"task": "write hello world", "execute": True})

    assert result["statusCode"] == 200
    body = result["body"]
    assert body["execution_results"] == [
        {"file": "hello.py", "stdout": "hello world\n", "stderr": None, "return_code": 0,
         "timed_out": False, "truncated": False}
    ]  # fmt: skip
    assert (body["claude_output"], body["claude_error"], body["return_code"]) == (
        "Wrote hello.py", None, 0,
    )  # fmt: skip


def test_response_reports_cost_turns_model_and_session(lambda_function, api):
    body = invoke(lambda_function, {"task": "write hello world"})["body"]

    assert body["cost_usd"] > 0
    assert body["num_turns"] == 2
    assert body["model"] == "claude-haiku-4-5"
    assert body["session_id"]
    assert body["duration_ms"] >= body["claude_duration_ms"] > 0


def test_scripts_are_not_run_without_execute(lambda_function, api):
    body = invoke(lambda_function, {"task": "write hello world"})["body"]

    assert body["execution_results"] == []


def test_upstream_receives_the_real_key_and_never_the_placeholder(lambda_function, api):
    invoke(lambda_function, {"task": "write hello world"})

    keys = {r.headers.get("X-Api-Key") or r.headers.get("x-api-key") for r in api.requests}
    assert keys == {API_KEY}


def test_cli_sees_only_a_per_invocation_placeholder_key(lambda_function, api, monkeypatch):
    seen: list[dict[str, str]] = []
    real_run = lambda_function.agent.run_claude

    def spy(ws, req, settings, env, deadline):
        seen.append(dict(env))
        return real_run(ws, req, settings, env, deadline)

    monkeypatch.setattr(lambda_function.agent, "run_claude", spy)
    invoke(lambda_function, {"task": "write hello world"})

    assert seen[0]["ANTHROPIC_API_KEY"].startswith("faalf-session-")
    assert API_KEY not in json.dumps(seen)


def test_key_appears_nowhere_in_response_or_logs(lambda_function, api, capsys):
    result = invoke(lambda_function, {"task": "write hello world", "execute": True})
    logs = capsys.readouterr()

    assert API_KEY not in json.dumps(result)
    assert API_KEY not in logs.out + logs.err
    assert "invocation done" in logs.out  # the logs were captured, so the check means something


@pytest.mark.parametrize(
    "api",
    [[write("dump.py", "import os, json\nprint(json.dumps(dict(os.environ)))\n"), say("ok")]],
    indirect=True,
)
def test_executed_script_environment_has_no_key(lambda_function, api):
    body = invoke(lambda_function, {"task": "dump env", "execute": True})["body"]
    env = json.loads(body["execution_results"][0]["stdout"])

    assert API_KEY not in json.dumps(env)
    assert not {k for k in env if k.startswith(("ANTHROPIC", "CLAUDE"))}
    assert env["AWS_REGION"] == "eu-central-1"
    assert "AWS_ACCESS_KEY_ID" not in env  # no agent role here: no AWS credentials at all


@pytest.mark.parametrize("api", [[bash("env; cat /proc/self/environ"), say("ok")]], indirect=True)
def test_agent_bash_env_dump_shows_no_key(lambda_function, api):
    invoke(lambda_function, {"task": "print your environment"})
    results = list(api.tool_results())

    assert any("FAALF_DEPTH=0" in r for r in results)  # the dump reached the model
    assert not any(API_KEY in r for r in results)


@pytest.mark.parametrize(
    "api", [[bash("nohup sleep 300 > /dev/null 2>&1 & echo started"), HANG]], indirect=True
)
def test_hanging_api_is_cut_off_before_the_deadline(lambda_function, api, work_root, monkeypatch):
    before = lambda_function.agent.process.descendants(os.getpid())
    started = time.monotonic()
    body = invoke(lambda_function, {"task": "never answered"}, remaining_ms=6_000)["body"]
    elapsed = time.monotonic() - started

    assert elapsed < 6.0  # remaining 6 s minus the 2 s margin: stopped at ~4 s
    assert body["timed_out"] is True
    assert "deadline" in body["claude_error"]
    assert any("started" in r for r in api.tool_results())  # the agent left a process behind
    assert lambda_function.agent.process.descendants(os.getpid()) == before  # ... now gone
    assert list(work_root.iterdir()) == []


def test_workspace_is_removed_after_the_invocation(lambda_function, api, work_root):
    invoke(lambda_function, {"task": "write hello world", "execute": True})

    assert list(work_root.iterdir()) == []


def test_stale_workspace_of_a_killed_invocation_is_swept(lambda_function, api, work_root):
    stale = work_root / "faalf-killed"
    (stale / "work").mkdir(parents=True)

    invoke(lambda_function, {"task": "write hello world"})

    assert not stale.exists()


def test_two_invocations_fetch_the_secret_once(lambda_function, api, moto):
    before = moto.calls("secretsmanager.GetSecretValue")

    invoke(lambda_function, {"task": "one"})
    invoke(lambda_function, {"task": "two"})

    assert moto.calls("secretsmanager.GetSecretValue") - before == 1


def test_model_budget_and_turns_reach_the_cli(
    lambda_function, api, faalf_env, claude_bin, tmp_path
):
    argv_file = tmp_path / "argv.json"
    wrapper = tmp_path / "claude"
    wrapper.write_text(
        "#!/usr/bin/env python3\nimport json, os, sys\n"
        f"open({str(argv_file)!r}, 'w').write(json.dumps(sys.argv[1:]))\n"
        f"os.execv({str(claude_bin)!r}, [{str(claude_bin)!r}, *sys.argv[1:]])\n"
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    faalf_env.setenv("FAALF_CLAUDE_BIN", str(wrapper))

    request = {"task": "hi", "model": "claude-sonnet-4-5", "max_turns": 3, "max_budget_usd": 0.5}
    result = invoke(lambda_function, request)
    argv = json.loads(argv_file.read_text())

    assert result["statusCode"] == 200
    assert argv[argv.index("--model") + 1] == "claude-sonnet-4-5"
    assert argv[argv.index("--max-turns") + 1] == "3"
    assert argv[argv.index("--max-budget-usd") + 1] == "0.5"
    assert {"-p", "--dangerously-skip-permissions"} <= set(argv)
    assert api.main_requests[0].body["model"] == "claude-sonnet-4-5"


def test_http_event_body_is_unwrapped_and_answered_as_http(lambda_function, api):
    event = {"body": json.dumps({"task": "write hello world", "execute": True}),
             "isBase64Encoded": False, "requestContext": {"http": {"method": "POST"}}}  # fmt: skip
    result = invoke(lambda_function, event)

    assert result["statusCode"] == 200
    assert result["headers"] == {"content-type": "application/json"}
    assert json.loads(result["body"])["execution_results"][0]["stdout"] == "hello world\n"


@pytest.mark.parametrize(
    "api", [[write("big.py", "print('x' * 100_000)\n"), say("ok")]], indirect=True
)
def test_script_output_over_the_cap_is_truncated(lambda_function, api, faalf_env):
    faalf_env.setenv("FAALF_OUTPUT_CAP_BYTES", "4096")
    result = invoke(lambda_function, {"task": "print a lot", "execute": True})["body"]

    run = result["execution_results"][0]
    assert run["truncated"] is True
    assert len(run["stdout"]) == 4096


@pytest.mark.parametrize(
    "api", [[write("loop.py", "while True:\n    pass\n"), say("ok")]], indirect=True
)
def test_script_over_its_timeout_is_stopped(lambda_function, api, faalf_env):
    faalf_env.setenv("FAALF_SCRIPT_TIMEOUT_S", "1")
    run = invoke(lambda_function, {"task": "loop", "execute": True})["body"]["execution_results"][0]

    assert run["timed_out"] is True
    assert run["return_code"] is None


def test_cost_is_emitted_as_embedded_metric_lines_adding_up_to_the_reported_cost(
    lambda_function, api, capsys
):
    body = invoke(lambda_function, {"task": "write hello world"})["body"]
    lines = cost_lines(capsys.readouterr().out, "req-0001")

    assert lines[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "VA/FAALF"
    assert sum(sum(line["AgentCostUSD"]) for line in lines) == pytest.approx(body["cost_usd"])


def test_cost_metric_names_the_function_whatever_the_powertools_service(
    lambda_function, api, capsys, faalf_env
):
    faalf_env.setenv("POWERTOOLS_SERVICE_NAME", "costreview")  # VaLambda sets the purpose
    invoke(lambda_function, {"task": "write hello world"}, function_name="va-dev-costreview-lambda")
    lines = cost_lines(capsys.readouterr().out, "req-0001")

    assert {line["service"] for line in lines} == {"va-dev-costreview-lambda"}


def test_logs_are_json_with_the_request_id(lambda_function, api, capsys):
    invoke(lambda_function, {"task": "write hello world"}, aws_request_id="req-logs-7")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    done = next(line for line in lines if line.get("message") == "invocation done")

    assert done["function_request_id"] == "req-logs-7"


def test_unreadable_secret_is_a_500_naming_it(lambda_function, api, faalf_env):
    faalf_env.setenv("FAALF_API_KEY_SECRET", "va/dev/missing-key")
    result = invoke(lambda_function, {"task": "hi"})

    assert result["statusCode"] == 500
    assert "va/dev/missing-key" in result["body"]["error"]
    assert "ResourceNotFoundException" in result["body"]["error"]
    assert api.requests == []


def test_workspace_files_stay_under_the_work_root(lambda_function, api, work_root, monkeypatch):
    roots: list[Path] = []
    real = lambda_function.agent.claude_env

    def spy(ws, *args):
        roots.append(ws.root)
        return real(ws, *args)

    monkeypatch.setattr(lambda_function.agent, "claude_env", spy)
    invoke(lambda_function, {"task": "write hello world"})

    assert roots[0].parent == work_root


def make_wheel(directory: Path) -> Path:
    """A minimal pure-Python wheel, so pip runs for real without reaching an index."""
    files = {
        "faalfdemo/__init__.py": "VALUE = 'from a wheel'\n",
        "faalfdemo-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: faalfdemo\nVersion: 1.0\n",
        "faalfdemo-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\n"
        "Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for name, text in files.items():
        digest = hashlib.sha256(text.encode()).digest()
        b64 = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        record.append(f"{name},sha256={b64},{len(text.encode())}")
    record.append("faalfdemo-1.0.dist-info/RECORD,,")
    files["faalfdemo-1.0.dist-info/RECORD"] = "\n".join(record) + "\n"
    wheel = directory / "faalfdemo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return wheel


def test_pip_install_by_the_agent_is_importable_by_its_scripts(
    lambda_function, faalf_env, tmp_path
):
    wheel = make_wheel(tmp_path)
    turns = [
        bash(f"python3 -m pip install --no-index --no-deps --quiet {wheel}"),
        write("use.py", "import faalfdemo\nprint(faalfdemo.VALUE)\n"),
        say("ok"),
    ]
    with StandIn(turns) as api:
        faalf_env.setenv("ANTHROPIC_BASE_URL", api.url)
        body = invoke(lambda_function, {"task": "pip install and use", "execute": True})["body"]

    assert body["execution_results"][0]["stdout"] == "from a wheel\n"


def test_handler_process_is_not_dumpable_once_it_holds_the_key(lambda_function, api):
    invoke(lambda_function, {"task": "write hello world"})

    assert lambda_function.process.is_dumpable() is False
