"""Fixtures for the agent handler tests: the real CLI, moto, a fresh container per test."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from tests.agent.servers import BuildDirError, Moto, install_claude_cli, moto_server

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "agent_image"))

API_KEY = "sk-ant-api03-FAALF-TEST-KEY-do-not-leak-0123456789"
SECRET_NAME = "va/dev/anthropic-api-key"


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object the handler and Powertools read."""

    remaining_ms: int = 120_000
    aws_request_id: str = "req-0001"
    function_name: str = "va-dev-agent-lambda"
    memory_limit_in_mb: int = 2048
    invoked_function_arn: str = (
        "arn:aws:lambda:eu-central-1:123456789012:function:va-dev-agent-lambda"
    )

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


class RuntimeEndedError(Exception):
    """What ``end_runtime`` raises in these in-process tests instead of ending pytest."""


def refuse_to_exit(why: str) -> None:
    raise RuntimeEndedError(why)


class CurrentStdout:
    """Writes to whatever ``sys.stdout`` is now: pytest swaps it in only when the test runs."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


@pytest.fixture(scope="session")
def claude_bin() -> Path:
    """The CLI, in the build directory the function's uid can reach; if there is none, the
    session stops at once with the one line that says why (rather than 40 PermissionErrors)."""
    try:
        return install_claude_cli()
    except BuildDirError as exc:
        pytest.exit(f"agent tests: {exc}", returncode=3)


@pytest.fixture(scope="session")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Moto]:
    with moto_server(tmp_path_factory.mktemp("moto")) as server:
        client = boto3.client(
            "secretsmanager",
            endpoint_url=server.url,
            region_name="eu-central-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        client.create_secret(Name=SECRET_NAME, SecretString=API_KEY)
        yield server


@pytest.fixture
def work_root(tmp_path: Path) -> Path:
    root = tmp_path / "lambda-tmp"
    root.mkdir()
    return root


@pytest.fixture
def faalf_env(
    monkeypatch: pytest.MonkeyPatch, moto: Moto, claude_bin: Path, work_root: Path
) -> pytest.MonkeyPatch:
    """The environment an agent profile's VaLambda gives the function, pointed at the local servers."""
    for name, value in {
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": moto.url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "eu-central-1",
        "AWS_DEFAULT_REGION": "eu-central-1",
        "FAALF_API_KEY_SECRET": SECRET_NAME,
        "FAALF_CLAUDE_BIN": str(claude_bin),
        "FAALF_ALLOWED_MODELS": "claude-haiku-4-5,claude-sonnet-4-5",
        "FAALF_DEFAULT_MODEL": "claude-haiku-4-5",
        "FAALF_MAX_TURNS": "10",
        "FAALF_MAX_BUDGET_USD": "2",
        "FAALF_MAX_DEPTH": "2",
        "FAALF_WORK_ROOT": str(work_root),
        "FAALF_SAFETY_MARGIN_S": "2",
        # The tests run as root, where the CLI refuses --dangerously-skip-permissions without it.
        # Lambda runs the image as a non-root user and does not need it.
        "IS_SANDBOX": "1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    return monkeypatch


@pytest.fixture
def lambda_function(
    faalf_env: pytest.MonkeyPatch,
) -> Iterator[object]:
    """The handler module with a fresh container: a new proxy, an empty secret cache.

    The logger's stream is the ``sys.stdout`` of its first import; point it at the test's, so
    ``capsys`` sees the JSON log lines exactly as CloudWatch would.
    """
    from aws_lambda_powertools.utilities import parameters

    module = importlib.import_module("lambda_function")
    faalf_env.setattr(module.logger.registered_handler, "stream", CurrentStdout())
    parameters.clear_caches()
    container = module.Container()
    faalf_env.setattr(module, "CONTAINER", container)
    faalf_env.setattr(module, "end_runtime", refuse_to_exit)
    yield module
    if container.proxy is not None:
        container.proxy.close()
    parameters.clear_caches()
