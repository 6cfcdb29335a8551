"""The agent's AWS identity: never the function role's, at most a per-profile agent role's.

The function role holds what the handler needs (the key secret, logs, network interfaces, the
dead-letter queue, invoking its own function). The agent runs shell commands as the handler's
user, so whatever credentials it is handed, a prompt injection can use. It is therefore handed
none of the function role's: if the profile declares statements of its own, they belong to a
separate agent role (``FAALF_AGENT_ROLE_ARN``), assumed per invocation with the shortest
duration STS allows and a session name naming the request (so CloudTrail ties every call the
agent makes to the request); otherwise the agent gets no AWS credentials at all.
"""

from __future__ import annotations

import re
from typing import Any

# STS's minimum; a Lambda invocation lasts at most 900 s too.
SESSION_SECONDS = 900
_SESSION_NAME_CHARS = re.compile(r"[^\w+=,.@-]")
_sts: Any = None


class AgentRoleError(Exception):
    """The agent role could not be assumed (named, with the AWS error code)."""


def session_name(request_id: str) -> str:
    """``faalf-<request id>``, in the characters and length (2-64) STS accepts."""
    return ("faalf-" + _SESSION_NAME_CHARS.sub("-", request_id))[:64]


def agent_credentials(role_arn: str | None, request_id: str) -> dict[str, str]:
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
            RoleSessionName=session_name(request_id),
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
