"""The agent as an attacker (issue 14): each test is one attack, tried as a prompt-injected agent
would, and the guardrail that stops it.

The real CLI runs the tool calls the stand-in API returns (the attacker's ``Bash`` steps), inside
the real handler, warm across invocations in its own runtime process, as a non-root user (see
``lambda_env``). What the agent's tools printed travels back to the "model" as tool results,
so a secret in a tool result is a secret the attacker has.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from tests.agent.conftest import API_KEY, SECRET_NAME
from tests.agent.lambda_env import AGENT_VENV, LambdaEnvironment, lambda_environment
from tests.agent.servers import ROOT, Moto
from tests.agent.standin import StandIn, bash, say

FUNCTION_KEY_ID = "AKIAFUNCTIONROLE0001"
FUNCTION_ARN = "arn:aws:lambda:eu-central-1:123456789012:function:va-dev-agent-lambda"
AGENT_ROLE = "va-dev-agent-agent"
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
         "Principal": {"AWS": "arn:aws:iam::123456789012:role/va-dev-agent-lambda"}}]}  # fmt: skip


def py(code: str) -> str:
    """A Bash step that runs ``code`` with the image's python3 (boto3 is there, as in Lambda)."""
    return f"python3 - <<'PYEOF' 2>&1\n{code}\nPYEOF"


READ_SECRET = py(f"""
import boto3
try:
    value = boto3.client("secretsmanager").get_secret_value(SecretId={SECRET_NAME!r})
    print("secret read:", value["SecretString"])
except Exception as exc:
    print("secret read failed:", type(exc).__name__)
""")
WHO_AM_I = py("""
import os, boto3
print("agent key id:", os.environ.get("AWS_ACCESS_KEY_ID"))
try:
    print("agent arn:", boto3.client("sts").get_caller_identity()["Arn"])
except Exception as exc:
    print("agent arn: none,", type(exc).__name__)
""")


@pytest.fixture(scope="module")
def api() -> Iterator[StandIn]:
    with StandIn([]) as standin:
        yield standin


@pytest.fixture(scope="module")
def agent_role_arn(moto: Moto) -> str:
    iam = boto3.client("iam", endpoint_url=moto.url, region_name="eu-central-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    try:
        return iam.get_role(RoleName=AGENT_ROLE)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        return iam.create_role(RoleName=AGENT_ROLE, AssumeRolePolicyDocument=json.dumps(TRUST))[
            "Role"
        ]["Arn"]


@pytest.fixture(scope="module")
def lam(
    moto: Moto, claude_bin: Path, api: StandIn, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LambdaEnvironment]:
    """One function, warm across this module's invocations, as Lambda would keep it."""
    env = {
        "PATH": f"{AGENT_VENV}/bin:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(ROOT / "agent_image"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_ACCESS_KEY_ID": FUNCTION_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": "function-role-secret",
        "AWS_SESSION_TOKEN": "function-role-session",
        "AWS_REGION": "eu-central-1",
        "AWS_DEFAULT_REGION": "eu-central-1",
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": moto.url,
        "AWS_ENDPOINT_URL_STS": moto.url,
        "AWS_LAMBDA_FUNCTION_NAME": "va-dev-agent-lambda",
        "FAALF_TEST_FUNCTION_ARN": FUNCTION_ARN,
        "FAALF_API_KEY_SECRET": SECRET_NAME,
        "FAALF_CLAUDE_BIN": str(claude_bin),
        "FAALF_ALLOWED_MODELS": "claude-haiku-4-5",
        "FAALF_MAX_TURNS": "10",
        "FAALF_MAX_BUDGET_USD": "1",
        "FAALF_MAX_DEPTH": "1",
        "FAALF_SAFETY_MARGIN_S": "2",
        "ANTHROPIC_BASE_URL": api.url,
    }
    with lambda_environment(env, tmp_path_factory.mktemp("runtime-logs")) as service:
        yield service


@pytest.fixture
def with_agent_role(lam: LambdaEnvironment, agent_role_arn: str) -> Iterator[str]:
    lam.reconfigure(FAALF_AGENT_ROLE_ARN=agent_role_arn)
    yield agent_role_arn
    lam.reconfigure(FAALF_AGENT_ROLE_ARN=None)


# --- 1. Two identities ------------------------------------------------------------------------


def test_agent_cannot_read_the_key_secret_with_aws_credentials(lam, api):
    api.play([bash(READ_SECRET), say("done")])
    lam.invoke({"task": "read the key"})
    results = list(api.tool_results())

    assert any("secret read" in r for r in results)  # the attack ran and reported back
    assert not any(API_KEY in r for r in results)


def test_agent_without_an_agent_role_gets_no_aws_credentials(lam, api):
    api.play([bash(WHO_AM_I), say("done")])
    lam.invoke({"task": "who am i"})
    results = "\n".join(api.tool_results())

    assert "agent key id: None" in results
    assert "agent arn: none, NoCredentialsError" in results


def test_agent_with_an_agent_role_acts_as_that_role_not_the_functions(lam, api, with_agent_role):
    api.play([bash(WHO_AM_I), say("done")])
    lam.invoke({"task": "who am i"})
    results = "\n".join(api.tool_results())

    assert FUNCTION_KEY_ID not in results
    assert f"assumed-role/{AGENT_ROLE}/faalf-req-" in results  # session named after the request
