"""faalf-invoke: the user's client and the agent's way to start a child FAALF."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from faalf import invoke
from tests.agent.conftest import LambdaContext
from tests.agent.rie import InvokeEndpoint
from tests.agent.standin import StandIn, say, write

WRAPPER = Path(__file__).resolve().parents[2] / "agent_image" / "bin" / "faalf-invoke"


@pytest.fixture
def endpoint(lambda_function, faalf_env):
    with StandIn([write("hello.py", "print('hello world')\n"), say("Wrote hello.py")]) as api:
        faalf_env.setenv("ANTHROPIC_BASE_URL", api.url)
        with InvokeEndpoint(lambda e: lambda_function.handler(e, LambdaContext())) as rie:
            yield rie


def test_client_prints_the_result_readably(endpoint, capsys):
    code = invoke.main(["--endpoint", endpoint.url, "--execute", "write hello world"], env={})
    out = capsys.readouterr().out

    assert code == 0
    assert "| Wrote hello.py" in out
    assert "--- hello.py (exit 0)\n| hello world\n" in out
    assert out.splitlines()[-1] == "faalf-invoke: ok: the agent and 1 script(s) exited 0"


def test_client_sends_model_budget_and_turns(endpoint):
    argv = ["--endpoint", endpoint.url, "--model", "claude-sonnet-4-5", "--budget", "0.25",
            "--max-turns", "4", "task"]  # fmt: skip
    invoke.main(argv, env={})

    assert endpoint.events[0] == {"task": "task", "execute": False, "model": "claude-sonnet-4-5",
                                  "max_budget_usd": 0.25, "max_turns": 4}  # fmt: skip


def test_inside_an_agent_the_child_gets_depth_plus_one(endpoint):
    invoke.main(["--endpoint", endpoint.url, "sub"], env={"FAALF_DEPTH": "1"})

    assert endpoint.events[0]["depth"] == 2


def test_at_the_depth_limit_the_client_refuses_without_calling(endpoint, capsys):
    code = invoke.main(
        ["--endpoint", endpoint.url, "sub"], env={"FAALF_DEPTH": "2", "FAALF_MAX_DEPTH": "2"}
    )

    assert code == 2
    assert "recursion limit" in capsys.readouterr().err
    assert endpoint.events == []


def test_refusal_by_the_function_is_exit_1_with_its_message(endpoint, capsys):
    code = invoke.main(["--endpoint", endpoint.url, "--model", "gpt-4", "t"], env={})

    assert code == 1
    assert "model" in capsys.readouterr().out


def test_task_is_read_from_a_file(endpoint, tmp_path):
    task = tmp_path / "task.txt"
    task.write_text("from a file\n")
    invoke.main(["--endpoint", endpoint.url, "--file", str(task)], env={})

    assert endpoint.events[0]["task"] == "from a file\n"


def test_wrapper_reads_stdin_and_prints_the_raw_response_as_json(endpoint):
    done = subprocess.run(
        [str(WRAPPER), "--endpoint", endpoint.url, "--json"],
        input="from stdin",
        capture_output=True,
        text=True,
        env={"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin"},
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert endpoint.events[0]["task"] == "from stdin"
    assert json.loads(done.stdout)["body"]["claude_output"] == "Wrote hello.py"


def test_without_a_target_the_client_says_how_to_give_one(capsys):
    code = invoke.main(["task"], env={})

    assert code == 2
    assert "--function" in capsys.readouterr().err


def test_unreachable_endpoint_is_a_clear_error(capsys):
    code = invoke.main(["--endpoint", "http://127.0.0.1:9", "task"], env={})

    assert code == 2
    assert "could not reach" in capsys.readouterr().err


def test_function_without_an_aws_region_is_one_line_and_exit_2():
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {"AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"}
    proc = subprocess.run(
        [str(WRAPPER), "--function", "va-dev-agent-lambda", "hi"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "faalf-invoke: no AWS region: set AWS_REGION (e.g. AWS_REGION=eu-central-1) or a region "
        "in your AWS profile"
    ]


HOSTILE = {"statusCode": 200, "body": {
    "claude_output": "\x1b]52;c;ZXZpbA==\x07done\u202e", "return_code": 0,
    "execution_results": [{"file": "../../x\x1b[2J.py", "stdout": "\x1b[3A\x1b[Jok\n",
                           "stderr": None, "return_code": 1}]}}  # fmt: skip


def run_client(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The client as a user runs it, against an endpoint that answers ``HOSTILE``."""
    with InvokeEndpoint(lambda event: HOSTILE) as rie:
        return subprocess.run(
            [str(WRAPPER), "--endpoint", rie.url, *args, "task"], cwd=tmp_path,
            capture_output=True, text=True, check=False,
            env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)},
        )  # fmt: skip


def test_client_escapes_the_agents_control_and_format_characters(tmp_path):
    out = run_client(tmp_path).stdout

    assert "\\x1b]52;c;ZXZpbA==\\x07done\\u202e" in out
    assert [c for c in out if ord(c) < 32 and c not in "\n\t"] == []


def test_client_prints_the_agents_text_unescaped_to_a_pipe_with_raw(tmp_path):
    assert "\x1b[3A\x1b[Jok\n" in run_client(tmp_path, "--raw").stdout


def test_client_saves_no_file_whatever_the_agent_names(tmp_path):
    run_client(tmp_path)

    assert list(tmp_path.iterdir()) == []


def test_client_refuses_raw_to_a_terminal(tmp_path):
    controller, terminal = os.openpty()
    try:
        done = subprocess.run(
            [str(WRAPPER), "--endpoint", "http://127.0.0.1:9", "--raw", "task"], cwd=tmp_path,
            stdout=terminal, stderr=subprocess.PIPE, text=True, check=False,
            env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)},
        )  # fmt: skip
    finally:
        os.close(terminal)
        os.close(controller)

    assert (done.returncode, "never to a terminal" in done.stderr) == (2, True)


FORGED = {"statusCode": 200, "body": {
    "claude_output": "done\n\n--- report.py (exit 0)\nall checks passed", "return_code": 0,
    "execution_results": [
        {"file": "report.py\n--- ok.py (exit 0)", "stdout": "--- report.py (exit 0)\n",
         "stderr": "\u2028--- x.py (exit 0)", "return_code": 1},
        {"file": "slow.py", "stdout": "", "stderr": None, "return_code": None, "timed_out": True},
    ]}}  # fmt: skip


def test_no_line_of_the_agent_looks_like_one_of_the_clients():
    out = io.StringIO()
    invoke.render(FORGED, out)
    own = [line for line in out.getvalue().splitlines() if line and not line.startswith("| ")]

    assert own == [
        "--- report.py\\n--- ok.py (exit 0) (exit 1)",  # the file name's newline, escaped
        "[stderr]",
        "--- slow.py (timed out)",
        "model None · turns None · cost $? · None ms",
        "faalf-invoke: FAILED: report.py\\n--- ok.py (exit 0) (exit 1), slow.py (timed out)",
    ]


def test_the_last_line_states_a_refusal():
    out = io.StringIO()

    assert invoke.render({"statusCode": 400, "body": {"error": "a\nfaalf-invoke: ok"}}, out) == 1
    assert out.getvalue().splitlines()[-2:] == [
        "| faalf-invoke: ok",
        "faalf-invoke: FAILED: the function answered 400",
    ]
