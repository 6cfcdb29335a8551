"""An agent profile as a function: its VaLambda on the FAALF image and, for a profile with
statements, the VaAgentRole only that function's role may assume.

``agent_lambda`` is the one place this is put together: a stack program calls it for each
profile (the resources at the program's top level), and ``VaAgent`` wraps it as one component
(what the component provider serves to other languages).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import pulumi

from va_platform.components.agent.profile import (
    ANTHROPIC_KEY_SECRET,
    AgentProfile,
    agent_handler_statements,
)
from va_platform.components.agent.role import (
    VaAgentRole,
    VaAgentRoleArgs,
    agent_role_arn,
    agent_role_name,
)
from va_platform.components.base import VaComponent
from va_platform.components.context import VaContext
from va_platform.components.lambda_function.component import (
    LambdaNetworking,
    VaLambda,
    VaLambdaArgs,
)


@dataclass(frozen=True)
class AgentFunctionArgs:
    """What an agent's function is built on besides its profile."""

    # Environment and owner (names and tags); its permissions_boundary goes on every role.
    context: VaContext
    # The FAALF image in ECR, by digest (VaAgentImage.image_uri).
    image_uri: pulumi.Input[str]
    # Where it runs: VaNetwork.lambda_networking(), or LambdaNetworking.from_ids(...).
    networking: LambdaNetworking
    # The SNS topic its alarms notify (VaAlarmTopic.arn).
    alarm_topic_arn: pulumi.Input[str]
    # The stack's region: the function's own ARN and its Bedrock models' ARNs.
    region: str
    # The stack's account: the function's own ARN and its agent role's.
    account_id: pulumi.Input[str]
    # The image's instruction set (AgentImageSettings.architecture).
    architecture: Literal["x86_64", "arm64"] = "x86_64"
    # The stack's VA secrets by name (VaSecret.arn): the function gets those its profile reads
    # (anthropic-api-key in api-key mode).
    secret_arns: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # Days its log groups keep logs.
    log_retention_days: int = 30
    # The stack's customer-managed key (VaKey) for env vars and logs.
    kms_key_arn: pulumi.Input[str] | None = None


def agent_lambda(
    name: str,
    profile: AgentProfile,
    args: AgentFunctionArgs,
    opts: pulumi.ResourceOptions | None = None,
) -> tuple[VaLambda, VaAgentRole | None]:
    """The agent's function ``name`` and, for a profile with statements, its agent role
    ``<name>-agent`` (both with ``opts``: a parent, say)."""
    ctx = args.context
    spec = profile.function_spec(args.architecture)
    account = pulumi.Output.from_input(args.account_id)
    role_name = agent_role_name(ctx, profile.purpose)
    role_arn = account.apply(lambda a: agent_role_arn(a, role_name)) if profile.statements else None
    function = VaLambda(
        name,
        VaLambdaArgs(
            context=ctx,
            spec=spec,
            networking=args.networking,
            alarm_topic_arn=args.alarm_topic_arn,
            secret_arns={
                ref.name: args.secret_arns[ref.name]
                for ref in spec.secrets
                if ref.name in args.secret_arns
            },
            log_retention_days=args.log_retention_days,
            kms_key_arn=args.kms_key_arn,
            image_uri=args.image_uri,
            extra_statements=agent_handler_statements(
                profile, ctx.name(profile.purpose, "lambda"), args.region, account, role_arn
            ),
            extra_alarms=profile.alarms(),
            extra_env={"FAALF_AGENT_ROLE_ARN": role_arn} if role_arn is not None else {},
        ),
        opts=opts,
    )
    agent_role = None
    if profile.statements:
        agent_role = VaAgentRole(
            f"{name}-agent",
            VaAgentRoleArgs(
                context=ctx,
                purpose=profile.purpose,
                statements=profile.statements,
                function_role_arn=function.role_arn,
            ),
            opts=opts,
        )
    return function, agent_role


@dataclass(frozen=True)
class VaAgentArgs:
    """One agent profile and what its function is built on."""

    # The profile: models, budget, depth, memory, statements (AgentProfile).
    profile: AgentProfile
    # The image, network, alarm topic, secrets, region and account of its function.
    function: AgentFunctionArgs

    def __post_init__(self) -> None:
        if self.profile.needs_api_key and ANTHROPIC_KEY_SECRET not in self.function.secret_arns:
            raise ValueError(
                f"{self.profile.purpose}: authMode api-key reads the {ANTHROPIC_KEY_SECRET} "
                "secret: give its ARN in secret_arns (VaSecret.arn), or use authMode bedrock"
            )


class VaAgent(VaComponent):
    """One FAALF agent as a component: its function (a VaLambda from the image, the handler's
    role) and, for a profile with statements, its agent role; what ``agent_lambda`` makes."""

    MODULE = "agent"

    def __init__(
        self, name: str, args: VaAgentArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args.function.context, opts=opts)
        self.function, self.agent_role = agent_lambda(
            f"{name}-function", args.profile, args.function, opts=self.child_opts()
        )
        self.arn: pulumi.Output[str] = self.function.arn
        self.role_arn: pulumi.Output[str] = self.function.role_arn
        self.register_outputs(
            {
                "functionName": self.function.function_name,
                "arn": self.arn,
                "roleArn": self.role_arn,
                **({"agentRoleArn": self.agent_role.arn} if self.agent_role else {}),
            }
        )
