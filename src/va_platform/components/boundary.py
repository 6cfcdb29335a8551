"""VaWorkloadBoundary: the ceiling of every role the stack creates for its workloads.

A deploy session may write any inline policy on the roles it deploys (`pulumi up` writes each
function's policy), and pass them to Lambda or the Scheduler: without a ceiling, one
``"Action": "*"`` on an execution role is an administrator one function away. Every execution,
schedule and agent role therefore carries ``va-<env>-workload-boundary`` as its permissions
boundary, and the deploy role may create or change a role only with that boundary attached
(``iam:PermissionsBoundary``, deploy_policy.py). Whatever policy such a role is given, it can do
no more than this document allows: the union of what the stack's workloads need, on this
environment's ARNs, the secrets whose tags say they are this environment's and the calling
role's owner's (``Environment``, ``Owner`` = the role's own ``Owner`` tag), and the statements
the stack config declares; never IAM, STS beyond the agent roles, the audit services, KMS
administration, secrets' ownership tags, session tags, public or redeployed functions.

The boundary is administrator-owned: the deploy role may read it and nothing else (an explicit
Deny), so a change to it (a new agent statement, say) is applied by an administrator's
`pulumi up` (docs/operations.md), like the deploy role's own policies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from va_platform import standard
from va_platform.components.agent.profile import AgentProfile, bedrock_model_arns
from va_platform.components.base import VaComponent
from va_platform.components.context import VaContext
from va_platform.components.lambda_function.spec import (
    BUCKET_OBJECT_ACTIONS,
    TABLE_ACTIONS,
    VIA_SECRETS_MANAGER,
    FunctionSpec,
    destination_action_of,
)
from va_platform.components.lambda_function.triggers import by_kind
from va_platform.standard import allow_statement as allow

# What a workload role may never do, whatever policy it is given.
IDENTITY_AND_ACCOUNT = (
    "iam:*", "organizations:*", "account:*", "sso:*", "identitystore:*", "ram:*",
)  # fmt: skip
AUDIT_SERVICES = (
    "cloudtrail:*", "config:*", "guardduty:*", "securityhub:*", "access-analyzer:*",
    "detective:*", "inspector2:*", "macie2:*", "logs:DeleteLogGroup", "logs:DeleteLogStream",
    "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy", "logs:DisassociateKmsKey",
    "cloudwatch:DeleteAlarms", "cloudwatch:DisableAlarmActions", "cloudwatch:PutMetricAlarm",
    "sns:DeleteTopic", "sns:SetTopicAttributes", "sns:Unsubscribe",
)  # fmt: skip
KMS_ADMINISTRATION = (
    "kms:Create*", "kms:Put*", "kms:Schedule*", "kms:Cancel*", "kms:Disable*", "kms:Enable*",
    "kms:Delete*", "kms:Update*", "kms:Revoke*", "kms:Retire*", "kms:Import*", "kms:Replicate*",
    "kms:TagResource", "kms:UntagResource", "kms:Connect*",
)  # fmt: skip
# Public or rewritten functions and the other ways to run code as another role.
CONTROL_PLANE = (
    "lambda:AddPermission", "lambda:RemovePermission", "lambda:CreateFunctionUrlConfig",
    "lambda:UpdateFunctionUrlConfig", "lambda:CreateFunction", "lambda:UpdateFunctionCode",
    "lambda:UpdateFunctionConfiguration", "lambda:CreateEventSourceMapping",
    "lambda:UpdateEventSourceMapping", "lambda:PublishLayerVersion",
    "lambda:AddLayerVersionPermission", "scheduler:*", "events:PutRule", "events:PutTargets",
    "events:PutPermission", "cloudformation:*", "ec2:RunInstances", "ecs:RunTask",
    "codebuild:*", "glue:*", "sagemaker:*", "ssm:SendCommand", "ssm:StartSession",
)  # fmt: skip
ENI_MANAGE = (
    "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)  # fmt: skip
UNSCOPABLE = (
    "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
)  # fmt: skip
QUEUE_ACTIONS = (
    "sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
)  # fmt: skip
SECRET_READ = "secretsmanager:GetSecretValue"
# A secret outside va/<env>/* read by its tags (SecretsTaggedForThisEnvironmentAndOwner).
SECRET_TAG_READS = ("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret")
SECRET_TAGGING = ("secretsmanager:TagResource", "secretsmanager:UntagResource")
OWNERSHIP_TAGS = ("Environment", "Owner")
# IAM's policy variable: the Owner tag of the role making the request.
OWNER_OF_THE_CALLER = "${aws:PrincipalTag/Owner}"


def _sid(*parts: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in parts)


def declared_statements(
    functions: Sequence[FunctionSpec],
    agents: Sequence[AgentProfile],
    region: str,
    account: str,
) -> list[dict[str, Any]]:
    """What the stack config lets a workload reach beyond the environment's own names: each
    function's ``statements``, destinations, what its triggers declare (existing queues) and
    its existing secrets (with their keys), each agent profile's ``statements`` and Bedrock
    models. Sids are prefixed with the purpose (unique per policy)."""
    found: list[dict[str, Any]] = []
    for fn in functions:
        found += [allow(_sid(fn.purpose, st.sid), st.actions, st.resources) for st in fn.statements]
        for i, arn in enumerate(fn.destinations.arns):
            # The action follows the service in the ARN; an Output ARN gives an Output action.
            action: Any = destination_action_of(arn)
            target: Any = arn
            found.append(allow(_sid(fn.purpose, "Destination", str(i)), [action], [target]))
        for kind, triggers in by_kind(fn.triggers):
            found += [{**st, "Sid": _sid(fn.purpose, st["Sid"])} for st in kind.declared(triggers)]
        found += _existing_secrets(fn, region, account)
    for profile in agents:
        found += [
            allow(_sid(profile.purpose, st.sid), st.actions, st.resources)
            for st in profile.statements
        ]
        if profile.auth_mode == "bedrock":
            models = sorted(
                {a for m in profile.models for a in bedrock_model_arns(region, account, m)}
            )
            found.append(
                allow(
                    _sid(profile.purpose, "Models"),
                    ("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"),
                    models,
                )
            )
    return found


def _existing_secrets(fn: FunctionSpec, region: str, account: str) -> list[dict[str, Any]]:
    """A function's existing secrets (any name or ARN) and their keys: one statement each, as
    either may be an Output (sorting a statement's resources needs them known)."""
    found = []
    for i, secret in enumerate(fn.existing_secrets):
        n = str(i + 1)
        resource: Any = secret.resource(region, account)
        found.append(allow(_sid(fn.purpose, "ExistingSecret", n), [SECRET_READ], [resource]))
        if secret.kms_key_arn is not None:
            key: Any = secret.kms_key_arn
            found.append(
                allow(_sid(fn.purpose, "ExistingSecretKey", n), ["kms:Decrypt"], [key],
                      VIA_SECRETS_MANAGER)
            )  # fmt: skip
    return found


def deny(sid: str, actions: Sequence[str], resources: Sequence[str] = ("*",)) -> dict[str, Any]:
    return {**allow(sid, actions, list(resources)), "Effect": "Deny"}


def workload_boundary(
    env: str, region: str, account: str, declared: Sequence[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """The boundary document of ``env`` in ``account``/``region``."""
    standard.validate_environment(env)
    prefix = f"{standard.NAME_PREFIX}-{env}-"
    arn = f"{region}:{account}"
    agent_roles = f"arn:aws:iam::{account}:role/{prefix}*-agent-role"
    statements = [
        allow(
            "OwnLogs",
            ("logs:CreateLogStream", "logs:PutLogEvents"),
            [f"arn:aws:logs:{arn}:log-group:{standard.LOG_GROUP_PREFIX}{prefix}*"],
        ),
        allow("QueuesOfThisEnvironment", QUEUE_ACTIONS, [f"arn:aws:sqs:{arn}:{prefix}*"]),
        allow(
            "SecretsOfThisEnvironment",
            ("secretsmanager:GetSecretValue",),
            [f"arn:aws:secretsmanager:{arn}:secret:{standard.NAME_PREFIX}/{env}/*"],
        ),
        # A secret anywhere in the account and region (a team's existing `billing/stripe-key`)
        # whose tags say it is this environment's and the calling role's owner's: the team
        # that owns the secret tags it so (Environment=<env>, Owner=<owner>); roles carry their
        # Owner tag (VaContext), which a deploy session never sets to another owner's, nor a
        # secret's Owner or Environment (deploy_policy.py, below). Its key: the next statement.
        allow(
            "SecretsTaggedForThisEnvironmentAndOwner",
            SECRET_TAG_READS,
            [f"arn:aws:secretsmanager:{arn}:secret:*"],
            {
                "StringEquals": {
                    "aws:ResourceTag/Environment": env,
                    "aws:ResourceTag/Owner": OWNER_OF_THE_CALLER,
                },
                "Null": {"aws:PrincipalTag/Owner": "false"},
            },
        ),
        allow(
            "KeysOfThisEnvironment",
            ("kms:Decrypt",),
            [f"arn:aws:kms:{arn}:key/*"],
            {"StringEquals": {"aws:ResourceTag/Environment": env}},
        ),
        # Lambda creates a function's network interfaces as its execution role: only in this
        # environment's subnets and security groups (their tags), so a function a session
        # attaches to another team's or environment's VPC gets no interface there.
        allow(
            "NetworkInterfacesInThisAccount",
            ("ec2:CreateNetworkInterface",),
            [f"arn:aws:ec2:{arn}:network-interface/*"],
        ),
        allow(
            "NetworkInterfacesInThisEnvironmentsSubnets",
            ("ec2:CreateNetworkInterface",),
            [f"arn:aws:ec2:{arn}:subnet/*", f"arn:aws:ec2:{arn}:security-group/*"],
            {"StringEquals": {"aws:ResourceTag/Environment": env}},
        ),
        allow("OwnNetworkInterfaces", ENI_MANAGE, [f"arn:aws:ec2:{arn}:network-interface/*"]),
        allow("NoResourceLevelPermissions", UNSCOPABLE, ["*"]),
        allow(
            "TablesOfThisEnvironment",
            sorted(TABLE_ACTIONS),
            [f"arn:aws:dynamodb:{arn}:table/{prefix}*"],
        ),
        allow(
            "ObjectsOfThisEnvironment", sorted(BUCKET_OBJECT_ACTIONS), [f"arn:aws:s3:::{prefix}*/*"]
        ),
        allow(
            "FunctionsOfThisEnvironment",
            ("lambda:InvokeFunction",),
            [f"arn:aws:lambda:{arn}:function:{prefix}*"],
        ),
        allow("AgentRolesOfThisEnvironment", ("sts:AssumeRole",), [agent_roles]),
        *[dict(st) for st in declared],
        deny("NoIdentityOrAccountChanges", IDENTITY_AND_ACCOUNT),
        {
            "Sid": "NoStsBeyondTheAgentRoles",
            "Effect": "Deny",
            "Action": "sts:*",
            "NotResource": agent_roles,
        },
        deny("NoAuditChanges", AUDIT_SERVICES),
        deny("NoKeyAdministration", KMS_ADMINISTRATION),
        # Which secrets a workload reads by their tags is their owners' to say, never a
        # workload's (whatever a declared statement allows): not a secret's tags (any case of
        # the keys: condition keys match tag keys ignoring case), not its own Owner through
        # session tags (aws:PrincipalTag includes them) when it assumes an agent role.
        {
            **deny("NoSecretRetagging", SECRET_TAGGING),
            "Condition": {
                "ForAnyValue:StringEqualsIgnoreCase": {"aws:TagKeys": list(OWNERSHIP_TAGS)}
            },
        },
        deny("NoSessionTags", ("sts:TagSession",)),
        deny("NoPublicOrRedeployedCode", CONTROL_PLANE),
    ]
    return {"Version": "2012-10-17", "Statement": statements}


@dataclass(frozen=True)
class VaWorkloadBoundaryArgs:
    """The environment, where it runs, and what its workloads reach beyond its own names."""

    # Environment and owner (names and tags; the environment scopes every statement).
    context: VaContext
    # The stack's region: the statements name its ARNs.
    region: str
    # The stack's account: the statements name its ARNs.
    account_id: str
    # What the stack's specs reach beyond the environment's names: declared_statements(...).
    declared: Sequence[Mapping[str, Any]] = ()


class VaWorkloadBoundary(VaComponent):
    """The managed policy ``va-<env>-workload-boundary`` (an administrator applies it)."""

    MODULE = "iam"

    def __init__(
        self, name: str, args: VaWorkloadBoundaryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args.context, opts=opts)
        ctx = args.context
        policy_name = standard.boundary_name(ctx.environment)
        self.document = workload_boundary(
            ctx.environment, args.region, args.account_id, args.declared
        )
        self.policy = aws.iam.Policy(
            f"{name}-policy",
            name=policy_name,
            description=f"Permissions boundary of every {ctx.environment} workload role",
            # A program's own Outputs (a destination, a queue) may stand in the declared statements.
            policy=pulumi.Output.json_dumps(self.document),
            tags=ctx.tags(standard.BOUNDARY_PURPOSE, policy_name),
            opts=self.child_opts(),
        )
        self.arn: pulumi.Output[str] = self.policy.arn
        self.register_outputs({"arn": self.arn})
