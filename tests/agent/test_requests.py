"""Every bad request is a 400 naming its field, and starts no process at all."""

from __future__ import annotations

import base64
import json
import subprocess
import sys

import pytest

from tests.agent.conftest import LambdaContext
from tests.agent.servers import ROOT

BAD = {
    "no task": ({"execute": True}, "task"),
    "empty task": ({"task": "   "}, "task"),
    "task not a string": ({"task": ["a"]}, "task"),
    "task over 100 KB": ({"task": "x" * (100 * 1024 + 1)}, "task"),
    "execute not a bool": ({"task": "t", "execute": "yes"}, "execute"),
    "model not allowed": ({"task": "t", "model": "claude-opus-4-1"}, "model"),
    "max_turns over the ceiling": ({"task": "t", "max_turns": 11}, "max_turns"),
    "max_turns zero": ({"task": "t", "max_turns": 0}, "max_turns"),
    "max_turns a bool": ({"task": "t", "max_turns": True}, "max_turns"),
    "budget over the ceiling": ({"task": "t", "max_budget_usd": 2.5}, "max_budget_usd"),
    "budget negative": ({"task": "t", "max_budget_usd": -1}, "max_budget_usd"),
    "budget a string": ({"task": "t", "max_budget_usd": "1"}, "max_budget_usd"),
    "depth negative": ({"task": "t", "depth": -1}, "depth"),
    "unknown field": ({"task": "t", "exec": True}, "exec"),
    "event a list": (["task"], "JSON object"),
    "http body not json": ({"body": "{not json"}, "body"),
    "http body an array": ({"body": "[1]"}, "body"),
    "http body bad base64": ({"body": "!!", "isBase64Encoded": True}, "body"),
}


def error_of(result: dict) -> str:
    body = result["body"]
    return (json.loads(body) if isinstance(body, str) else body)["error"]


@pytest.fixture
def no_process(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    started: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        started.append(args)
        raise AssertionError("a process was started for a bad request")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    return started


@pytest.mark.parametrize(("event", "field"), BAD.values(), ids=BAD.keys())
def test_bad_request_is_a_400_naming_the_field(lambda_function, no_process, event, field):
    result = lambda_function.handler(event, LambdaContext())

    assert result["statusCode"] == 400
    assert field in error_of(result)
    assert no_process == []


def test_depth_over_the_limit_is_refused_without_starting_claude(lambda_function, no_process):
    result = lambda_function.handler({"task": "t", "depth": 3}, LambdaContext())

    assert result["statusCode"] == 400
    assert "recursion limit 2" in result["body"]["error"]
    assert no_process == []


def test_bad_http_request_is_answered_as_http(lambda_function, no_process):
    result = lambda_function.handler({"body": json.dumps({"execute": True})}, LambdaContext())

    assert result["statusCode"] == 400
    assert "task" in json.loads(result["body"])["error"]


def test_base64_http_body_is_decoded(lambda_function, no_process):
    body = base64.b64encode(json.dumps({"task": "t", "depth": 9}).encode()).decode()
    result = lambda_function.handler({"body": body, "isBase64Encoded": True}, LambdaContext())

    assert "depth" in json.loads(result["body"])["error"]


def test_misconfigured_function_is_a_500_naming_the_variable(lambda_function, faalf_env):
    faalf_env.setenv("FAALF_DEFAULT_MODEL", "claude-opus-4-1")
    result = lambda_function.handler({"task": "t"}, LambdaContext())

    assert result["statusCode"] == 500
    assert "FAALF_DEFAULT_MODEL" in result["body"]["error"]


def test_too_little_time_left_is_a_500_before_any_process(lambda_function, no_process):
    result = lambda_function.handler({"task": "t"}, LambdaContext(remaining_ms=2_500))

    assert result["statusCode"] == 500
    assert "time" in result["body"]["error"]
    assert no_process == []


LOG_THE_EVENT = """
import json, sys
import lambda_function
from tests.agent.conftest import LambdaContext
event = json.loads(sys.argv[1])
print(json.dumps(lambda_function.handler(event, LambdaContext())))
"""


def test_the_event_is_never_logged_whatever_powertools_is_told(tmp_path):
    """A child's event carries its cost nonce, an HTTP event its caller's bearer token: neither
    goes to the logs, even with POWERTOOLS_LOGGER_LOG_EVENT set on the function."""
    nonce, token = "ab" * 32, "Bearer the-callers-token"
    event = {"body": json.dumps({"task": "", "cost_nonce": nonce}),
             "headers": {"authorization": token}}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", LOG_THE_EVENT, json.dumps(event)],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{ROOT}:{ROOT / 'agent_image'}",
             "POWERTOOLS_LOGGER_LOG_EVENT": "true", "FAALF_WORK_ROOT": str(tmp_path),
             "FAALF_API_KEY_SECRET": "unused", "AWS_LAMBDA_FUNCTION_NAME": "f"},
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip

    assert '"statusCode": 400' in done.stdout, done.stderr[-2000:]  # the handler ran
    assert nonce not in done.stdout + done.stderr
    assert "the-callers-token" not in done.stdout + done.stderr
