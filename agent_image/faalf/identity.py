"""The agent's AWS identity: never the function role's, at most a per-profile agent role's.

The function role holds what the handler needs (the key secret, logs, network interfaces, the
dead-letter queue, invoking its own function). The agent runs shell commands as the handler's
user, so whatever credentials it is handed, a prompt injection can use. It is therefore handed
none of the function role's: if the profile declares statements of its own, they belong to a
separate agent role (``FAALF_AGENT_ROLE_ARN``), assumed per invocation with the shortest
duration STS allows; otherwise the agent gets no AWS credentials at all.

The session name is random (``faalf-<32 hex>``), never the request id: the agent reads its own
session name (``sts get-caller-identity``), and a request id is what the Lambda Runtime API
takes to answer an invocation. The handler logs the pair, so CloudTrail's session name still
leads to the request.
"""

from __future__ import annotations

import secrets
from typing import Any

# STS's minimum; a Lambda invocation lasts at most 900 s too.
SESSION_SECONDS = 900
SESSION_PREFIX = "faalf-"  # the agent role's trust policy admits faalf-* session names only
_sts: Any = None


class AgentRoleError(Exception):
    """The agent role could not be assumed (named, with the AWS error code)."""


def session_name() -> str:
    """``faalf-<32 random hex>``: 38 characters STS accepts, naming no invocation."""
    return SESSION_PREFIX + secrets.token_hex(16)


def agent_credentials(role_arn: str | None, session: str) -> dict[str, str]:
    """The environment variables that give the agent its identity: empty without a role."""
    if role_arn is None:
        return {}
    global _sts
    if _sts is None:
        import boto3  # only here: a function without an agent role never pays the import

        _sts = boto3.client("sts")
    try:
        creds = _sts.assume_role(
            RoleArn=role_arn,
            RoleSessionName=session,
            DurationSeconds=SESSION_SECONDS,
        )["Credentials"]
    except Exception as exc:  # noqa: BLE001 - botocore's ClientError, NoCredentialsError, ...
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
        raise AgentRoleError(f"could not assume the agent role {role_arn} ({code})") from None
    return {
        "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
        "AWS_SESSION_TOKEN": creds["SessionToken"],
    }
