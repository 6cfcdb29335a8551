"""VaAgentRole: the identity the agent itself acts with, apart from its function's.

FAALF's threat is prompt injection: the agent runs shell commands as the handler's user, so any
credential the handler hands it is the attacker's. The function role holds what the handler
needs (the API key's secret, logs, ENIs, the DLQ, invoking child agents) and is never handed to
the agent. A profile that declares statements of its own gets this second role, holding exactly
those statements: the handler assumes it per invocation (session named after the request, the
shortest duration STS allows) and gives the agent only those temporary credentials. A profile
without statements gets no role, and its agent no AWS credentials at all.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from va_platform import standard
from va_platform.components.agent.profile import ProfileStatement
from va_platform.components.base import VaComponent
from va_platform.components.context import VaContext

# The shortest session STS issues; the handler asks for it and the role allows no longer than
# IAM's minimum maximum, so a leaked session dies within the hour at the latest.
SESSION_SECONDS = 900
MAX_SESSION_SECONDS = 3600


def agent_role_name(context: VaContext, purpose: str) -> str:
    """``va-<env>-<purpose>-agent-role``: the name VaAgentRole gives the agent's role."""
    return context.name(purpose, "agent-role")


def agent_role_arn(account_id: str, role_name: str) -> str:
    """Known before the role exists, so the function's role and env can name it."""
    return f"arn:aws:iam::{account_id}:role/{role_name}"


def trust_policy(function_role_arn: str) -> str:
    """Only the agent's own function role may assume it (no service, no account root)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": function_role_arn},
                    "Action": "sts:AssumeRole",
                    # The handler names each session faalf-<request id> (CloudTrail shows which
                    # request acted); anything else assuming it is not the handler.
                    "Condition": {"StringLike": {"sts:RoleSessionName": "faalf-*"}},
                }
            ],
        }
    )


def agent_policy(statements: Sequence[ProfileStatement]) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                standard.allow_statement(st.sid, st.actions, st.resources) for st in statements
            ],
        }
    )


@dataclass(frozen=True)
class VaAgentRoleArgs:
    """The role an agent's handler assumes for what the agent does (its profile's statements)."""

    # Environment and owner (names and tags).
    context: VaContext
    # The agent's purpose: the role is va-<env>-<purpose>-agent-role.
    purpose: str
    # The profile's statements (AgentProfile.statements): the role's inline policy.
    statements: Sequence[ProfileStatement]
    # The function role that may assume this one (VaLambda.role_arn): created before this role,
    # since IAM refuses a trust policy naming a principal that does not exist yet.
    function_role_arn: pulumi.Input[str]

    def __post_init__(self) -> None:
        if not self.statements:
            raise ValueError(
                f"{self.purpose}: an agent role needs statements; without them the agent "
                "gets no AWS credentials at all, and no role is created"
            )


class VaAgentRole(VaComponent):
    """``va-<env>-<purpose>-agent-role`` and its inline policy (the profile's statements)."""

    MODULE = "agent"

    def __init__(
        self, name: str, args: VaAgentRoleArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args.context, opts=opts)
        ctx, purpose = args.context, args.purpose
        role_name = agent_role_name(ctx, purpose)
        self.role = aws.iam.Role(
            f"{name}-role",
            name=role_name,
            description=f"What the {purpose} agent itself may do (assumed per invocation)",
            assume_role_policy=pulumi.Output.from_input(args.function_role_arn).apply(trust_policy),
            max_session_duration=MAX_SESSION_SECONDS,
            permissions_boundary=ctx.permissions_boundary,
            tags=ctx.tags(purpose, role_name),
            opts=self.child_opts(),
        )
        self.role_policy = aws.iam.RolePolicy(
            f"{name}-role-policy",
            name=ctx.name(purpose, "agent-policy"),
            role=self.role.id,
            policy=agent_policy(args.statements),
            opts=self.child_opts(),
        )
        self.arn: pulumi.Output[str] = self.role.arn
        self.register_outputs({"roleArn": self.arn})
