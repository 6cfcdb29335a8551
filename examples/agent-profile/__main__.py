"""A team's own FAALF agent: a profile (models, budget, what the agent may touch), run from the
platform's agent image, in the platform's network, with the platform's Anthropic key; all three
read from the platform stack. The agent acts with a role of its own, holding only the profile's
statements."""

import pulumi
import pulumi_aws as aws

from va_platform import standard
from va_platform.components import (
    AgentProfile,
    LambdaNetworking,
    VaAgentRole,
    VaAgentRoleArgs,
    VaContext,
    VaLambda,
    VaLambdaArgs,
    agent_handler_statements,
    agent_role_arn,
    agent_role_name,
)

config = pulumi.Config()
env = pulumi.get_stack()
# Every role the library creates carries the environment's workload boundary, which an
# administrator creates once per account (the platform's docs/operations.md); va-guard refuses a
# role Lambda or the Scheduler assumes without it.
boundary = aws.get_caller_identity_output().account_id.apply(
    lambda account: standard.boundary_arn(env, account)
)
ctx = VaContext(environment=env, owner=config.require("owner"), permissions_boundary=boundary)
platform = pulumi.StackReference(config.require("platformStack"))
region = "eu-central-1"
account = aws.get_caller_identity_output().account_id
subnets = platform.get_output("privateSubnetIds")

profile = AgentProfile.model_validate(
    {
        "purpose": "research",
        "maxBudgetUsd": 0.5,
        "statements": [
            {
                "sid": "ReadPapersTable",
                "actions": ["dynamodb:GetItem", "dynamodb:Query"],
                "resources": [
                    "arn:aws:dynamodb:eu-central-1:123456789012:table/va-dev-papers-dynamodb"
                ],
            }
        ],
    }
)
spec = profile.function_spec()
role_arn = account.apply(lambda a: agent_role_arn(a, agent_role_name(ctx, profile.purpose)))
agent = VaLambda(
    "research-agent",
    VaLambdaArgs(
        context=ctx,
        spec=spec,
        networking=LambdaNetworking.from_ids(
            vpc_id=platform.get_output("vpcId"),
            subnet_ids=[subnets[0], subnets[1]],
            security_group_ids=[platform.get_output("lambdaSecurityGroupId")],
            region=region,
            account_id=account,
        ),
        alarm_topic_arn=platform.get_output("alarmTopicArn"),
        image_uri=platform.get_output("agentImageUri"),
        secret_arns={
            ref.name: platform.get_output("anthropicKeySecretArn") for ref in spec.secrets
        },
        extra_statements=agent_handler_statements(
            profile, ctx.name(profile.purpose, "lambda"), region, account, role_arn
        ),
        extra_alarms=profile.alarms(),
        extra_env={"FAALF_AGENT_ROLE_ARN": role_arn},
    ),
)
VaAgentRole(
    "research-agent-role",
    VaAgentRoleArgs(
        context=ctx,
        purpose=profile.purpose,
        statements=profile.statements,
        function_role_arn=agent.role_arn,
    ),
)
pulumi.export("agentFunctionName", agent.function.name)
