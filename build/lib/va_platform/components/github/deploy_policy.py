"""What `pulumi up` of one VA stack needs, and nothing more: the deploy role's policy, as data.

Every mutating action is scoped to this environment's names (``va-<env>-*``, ``va/<env>/*``,
``/aws/lambda/va-<env>-*``) or, where AWS names resources by id only (EC2, KMS keys, event
source mappings, HTTP APIs), to this account and region; ``*`` only for the actions AWS's Service
Authorization Reference lists no resource types for (va-iam and
tests/components/test_iam_catalogue.py check it against that catalogue). No ``service:*``.
Roles are passed only to the service that assumes them: execution roles to Lambda, schedule roles
to EventBridge Scheduler. The statements are grouped by service into customer-managed policies
(IAM's inline quota, 10,240 characters per role, was too small). The role never changes its own
rights: it may only read those policies (``policy/va-<env>-ghdeploy-*-policy``), attach only
``ReadOnlyAccess`` (to the preview role), and an explicit Deny covers its own role and policies;
an administrator applies changes to them. tests/components/test_deploy_role.py checks that
together they allow creating, refreshing, updating and deleting every other resource the program
declares, and that each fits IAM's size quota.
"""

from __future__ import annotations

from typing import Any

from va_platform import standard
from va_platform.standard import allow_statement as allow

OIDC_HOST = "token.actions.githubusercontent.com"
REPOSITORY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$"

EC2_MUTATIONS = (
    "ec2:CreateVpc", "ec2:DeleteVpc", "ec2:ModifyVpcAttribute", "ec2:CreateSubnet",
    "ec2:DeleteSubnet", "ec2:ModifySubnetAttribute", "ec2:CreateRouteTable",
    "ec2:DeleteRouteTable", "ec2:AssociateRouteTable", "ec2:DisassociateRouteTable",
    "ec2:CreateRoute", "ec2:DeleteRoute", "ec2:ReplaceRoute", "ec2:CreateInternetGateway",
    "ec2:DeleteInternetGateway", "ec2:AttachInternetGateway", "ec2:DetachInternetGateway",
    "ec2:AllocateAddress", "ec2:ReleaseAddress", "ec2:CreateNatGateway", "ec2:DeleteNatGateway",
    "ec2:CreateSecurityGroup", "ec2:DeleteSecurityGroup", "ec2:AuthorizeSecurityGroupIngress",
    "ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress",
    "ec2:RevokeSecurityGroupEgress", "ec2:CreateVpcEndpoint", "ec2:DeleteVpcEndpoints",
    "ec2:ModifyVpcEndpoint", "ec2:CreateTags", "ec2:DeleteTags",
)  # fmt: skip
# AWS's Service Authorization Reference lists the vpc resource type for this one read.
EC2_SCOPED_READS = ("ec2:DescribeVpcAttribute",)
EC2_DESCRIBE = (
    "ec2:DescribeVpcs", "ec2:DescribeSubnets",
    "ec2:DescribeRouteTables", "ec2:DescribeInternetGateways", "ec2:DescribeAddresses",
    "ec2:DescribeAddressesAttribute", "ec2:DescribeNatGateways", "ec2:DescribeSecurityGroups",
    "ec2:DescribeSecurityGroupRules", "ec2:DescribeVpcEndpoints", "ec2:DescribePrefixLists",
    "ec2:DescribeAvailabilityZones", "ec2:DescribeNetworkInterfaces", "ec2:DescribeTags",
)  # fmt: skip
IAM_ROLES = (
    "iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:UpdateRole",
    "iam:UpdateRoleDescription", "iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole",
    "iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy", "iam:ListRolePolicies",
    "iam:DetachRolePolicy", "iam:ListAttachedRolePolicies",
    "iam:ListInstanceProfilesForRole",
)  # fmt: skip
IAM_OIDC = (
    "iam:CreateOpenIDConnectProvider", "iam:DeleteOpenIDConnectProvider",
    "iam:GetOpenIDConnectProvider", "iam:TagOpenIDConnectProvider",
    "iam:UntagOpenIDConnectProvider", "iam:UpdateOpenIDConnectProviderThumbprint",
    "iam:AddClientIDToOpenIDConnectProvider", "iam:RemoveClientIDFromOpenIDConnectProvider",
)  # fmt: skip
LAMBDA = (
    "lambda:CreateFunction", "lambda:DeleteFunction", "lambda:GetFunction",
    "lambda:GetFunctionConfiguration", "lambda:UpdateFunctionCode",
    "lambda:UpdateFunctionConfiguration", "lambda:ListVersionsByFunction", "lambda:TagResource",
    "lambda:UntagResource", "lambda:ListTags", "lambda:PutFunctionConcurrency",
    "lambda:DeleteFunctionConcurrency", "lambda:GetFunctionConcurrency",
    "lambda:PutFunctionEventInvokeConfig", "lambda:UpdateFunctionEventInvokeConfig",
    "lambda:GetFunctionEventInvokeConfig", "lambda:DeleteFunctionEventInvokeConfig",
    "lambda:PutFunctionRecursionConfig", "lambda:GetFunctionRecursionConfig",
    "lambda:PutRuntimeManagementConfig", "lambda:GetRuntimeManagementConfig",
    "lambda:GetFunctionCodeSigningConfig", "lambda:PublishLayerVersion",
    "lambda:GetLayerVersion", "lambda:DeleteLayerVersion",
    # Releases (publish: true) and what triggers attach to a function or its `live` alias.
    "lambda:PublishVersion", "lambda:CreateAlias", "lambda:GetAlias", "lambda:UpdateAlias",
    "lambda:DeleteAlias", "lambda:AddPermission", "lambda:RemovePermission", "lambda:GetPolicy",
    "lambda:CreateFunctionUrlConfig", "lambda:GetFunctionUrlConfig",
    "lambda:UpdateFunctionUrlConfig", "lambda:DeleteFunctionUrlConfig",
    "lambda:PutProvisionedConcurrencyConfig", "lambda:GetProvisionedConcurrencyConfig",
    "lambda:DeleteProvisionedConcurrencyConfig",
)  # fmt: skip
# Queue triggers. AWS names a mapping by UUID only, and authorizes its creation on '*' (the
# function it feeds is the condition key lambda:FunctionArn).
EVENT_SOURCE_MAPPINGS = (
    "lambda:GetEventSourceMapping", "lambda:UpdateEventSourceMapping",
    "lambda:DeleteEventSourceMapping", "lambda:TagResource", "lambda:UntagResource",
    "lambda:ListTags",
)  # fmt: skip
SCHEDULES = (
    "scheduler:CreateSchedule", "scheduler:GetSchedule", "scheduler:UpdateSchedule",
    "scheduler:DeleteSchedule",
)  # fmt: skip
EVENT_RULES = (
    "events:PutRule", "events:DescribeRule", "events:DeleteRule", "events:PutTargets",
    "events:RemoveTargets", "events:ListTargetsByRule", "events:TagResource",
    "events:UntagResource", "events:ListTagsForResource",
)  # fmt: skip
LOGS = (
    "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy",
    "logs:DeleteRetentionPolicy", "logs:TagResource", "logs:UntagResource",
    "logs:ListTagsForResource",
    # The stack key on a log group that exists (the provider associates it, not recreates it).
    "logs:AssociateKmsKey", "logs:DisassociateKmsKey",
)  # fmt: skip
SQS = (
    "sqs:CreateQueue", "sqs:DeleteQueue", "sqs:GetQueueAttributes", "sqs:SetQueueAttributes",
    "sqs:GetQueueUrl", "sqs:TagQueue", "sqs:UntagQueue", "sqs:ListQueueTags",
)  # fmt: skip
SNS = (
    "sns:CreateTopic", "sns:DeleteTopic", "sns:GetTopicAttributes", "sns:SetTopicAttributes",
    "sns:TagResource", "sns:UntagResource", "sns:ListTagsForResource", "sns:Subscribe",
)  # fmt: skip
# Using the stack key (VaKey) as the deployer: Lambda creates a grant and encrypts the env vars
# with the caller's rights and decrypts them when the provider reads the function back; Secrets
# Manager encrypts and decrypts secret values as the caller (AWS: Lambda "Securing environment
# variables", Secrets Manager "Secret encryption and decryption").
KMS_USE = ("kms:CreateGrant", "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey")
KMS_KEYS = (
    "kms:DescribeKey", "kms:EnableKeyRotation", "kms:GetKeyRotationStatus", "kms:GetKeyPolicy",
    "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource",
    "kms:ListResourceTags", "kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
)  # fmt: skip
SECRETS = (
    "secretsmanager:CreateSecret", "secretsmanager:DeleteSecret",
    "secretsmanager:DescribeSecret", "secretsmanager:UpdateSecret",
    "secretsmanager:PutSecretValue", "secretsmanager:GetSecretValue",
    "secretsmanager:GetResourcePolicy", "secretsmanager:TagResource",
    "secretsmanager:UntagResource",
)  # fmt: skip
DYNAMODB = (
    "dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:DescribeTable",
    "dynamodb:UpdateTable", "dynamodb:DescribeContinuousBackups",
    "dynamodb:UpdateContinuousBackups", "dynamodb:DescribeTimeToLive", "dynamodb:TagResource",
    "dynamodb:UntagResource", "dynamodb:ListTagsOfResource",
)  # fmt: skip
S3_BUCKETS = (
    "s3:CreateBucket", "s3:DeleteBucket", "s3:ListBucket", "s3:GetBucketLocation",
    "s3:GetBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock",
    "s3:GetEncryptionConfiguration", "s3:PutEncryptionConfiguration", "s3:GetBucketVersioning",
    "s3:PutBucketVersioning", "s3:GetBucketOwnershipControls", "s3:PutBucketOwnershipControls",
    "s3:GetBucketTagging", "s3:PutBucketTagging", "s3:GetBucketPolicy", "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy", "s3:GetBucketAcl", "s3:GetBucketCORS", "s3:GetBucketWebsite",
    "s3:GetBucketLogging", "s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration",
    "s3:GetAccelerateConfiguration", "s3:GetBucketRequestPayment",
    "s3:GetBucketObjectLockConfiguration", "s3:GetReplicationConfiguration",
    # Bucket triggers: the bucket's one notification configuration.
    "s3:PutBucketNotification", "s3:GetBucketNotification",
)  # fmt: skip
S3_OBJECTS = (
    "s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:GetObjectVersion",
    "s3:PutObjectTagging", "s3:GetObjectTagging",
)  # fmt: skip
ALARMS = (
    "cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms",
    "cloudwatch:TagResource", "cloudwatch:UntagResource", "cloudwatch:ListTagsForResource",
)  # fmt: skip
ECR = (
    "ecr:CreateRepository", "ecr:DeleteRepository", "ecr:DescribeRepositories",
    "ecr:PutLifecyclePolicy", "ecr:GetLifecyclePolicy", "ecr:DeleteLifecyclePolicy",
    "ecr:PutImageScanningConfiguration", "ecr:PutImageTagMutability", "ecr:TagResource",
    "ecr:UntagResource", "ecr:ListTagsForResource", "ecr:BatchCheckLayerAvailability",
    "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage",
    "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:DescribeImages",
    # Creating an image function: Lambda adds its pull statement to the repository's policy
    # with the caller's permissions.
    "ecr:GetRepositoryPolicy", "ecr:SetRepositoryPolicy",
)  # fmt: skip
# HTTP APIs (http triggers via: api). API Gateway authorizes by HTTP verb on paths of ids
# (arn:aws:apigateway:<region>::/apis/<id>/...), with no account in the ARN (it is the caller's):
# scoped to this region's HTTP APIs, their routes, integrations, authorizers and stages, and
# their tags (/tags/<the tagged resource's ARN>).
API_GATEWAY = ("apigateway:GET", "apigateway:POST", "apigateway:PATCH", "apigateway:DELETE")
# AWS's Service Authorization Reference lists no resource type for these: granted on any ARN,
# AWS denies them. Each group's policy holds its own services' ones.
UNSCOPABLE_NETWORK = EC2_DESCRIBE
UNSCOPABLE_COMPUTE = (
    "ecr:GetAuthorizationToken", "lambda:ListLayerVersions", "lambda:ListEventSourceMappings",
)  # fmt: skip
UNSCOPABLE_DATA = (
    "kms:CreateKey", "kms:ListAliases", "logs:DescribeLogGroups", "sns:GetSubscriptionAttributes",
    "sns:SetSubscriptionAttributes", "sns:Unsubscribe",
    # An HTTP API stage's access logs: API Gateway sets up the delivery as the caller.
    "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
)  # fmt: skip
# The deploy role's own managed policies (va-<env>-ghdeploy-<group>-policy): an administrator
# creates and changes them; `pulumi up` as the deploy role only reads them (refresh, diff).
MANAGED_POLICIES = (
    "iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions", "iam:ListPolicyTags",
)  # fmt: skip
READ_ONLY_POLICY_ARN = "arn:aws:iam::aws:policy/ReadOnlyAccess"
# What would change the deploy role's own rights; denied to it (an administrator applies them).
OWN_ROLE_CHANGES = (
    "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
    "iam:UpdateAssumeRolePolicy", "iam:PutRolePermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary", "iam:DeleteRole", "iam:UpdateRole",
    "iam:UpdateRoleDescription", "iam:TagRole", "iam:UntagRole",
)  # fmt: skip
OWN_POLICY_CHANGES = (
    "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicyVersion",
    "iam:DeletePolicy", "iam:TagPolicy", "iam:UntagPolicy",
)  # fmt: skip
# The preview role reads configuration, never data or secret values.
PREVIEW_DENIED = (
    "secretsmanager:GetSecretValue", "ssm:GetParameter", "ssm:GetParameters",
    "ssm:GetParametersByPath", "s3:GetObject", "s3:GetObjectVersion", "dynamodb:GetItem",
    "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan", "sqs:ReceiveMessage",
    "kms:Decrypt", "lambda:GetFunction",
)  # fmt: skip


# IAM: a customer-managed policy holds at most 6,144 characters (white space not counted), and a
# role takes at most 10 of them (the default quota). The deploy policy outgrew the 10,240
# characters a role's inline policies may hold together, so it is split by service group.
MANAGED_POLICY_MAX_CHARS = 6_144
MAX_ATTACHED_POLICIES = 10
DEPLOY_GROUPS = ("iam", "network", "compute", "data")


def deny(sid: str, actions: tuple[str, ...], resources: list[str]) -> dict[str, Any]:
    return {**allow(sid, actions, resources), "Effect": "Deny"}


def deploy_policies(env: str, region: str, account: str) -> dict[str, dict[str, Any]]:
    """The deploy role's policies for the stack of ``env`` in ``account``/``region``, by group
    (``iam``, ``network``, ``compute``, ``data``): together, what `pulumi up` of that stack
    needs; each one a customer-managed policy ``va-<env>-ghdeploy-<group>-policy``."""
    standard.validate_environment(env)
    prefix = f"{standard.NAME_PREFIX}-{env}-"
    arn = f"{region}:{account}"
    groups: dict[str, list[dict[str, Any]]] = {
        "iam": [
            allow(
                "IamRolesOfThisEnvironment", IAM_ROLES, [f"arn:aws:iam::{account}:role/{prefix}*"]
            ),
            allow(
                "PassExecutionRolesToLambda",
                ("iam:PassRole",),
                [f"arn:aws:iam::{account}:role/{prefix}*-lambda-role"],
                {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
            ),
            allow(
                "PassScheduleRolesToScheduler",
                ("iam:PassRole",),
                [f"arn:aws:iam::{account}:role/{prefix}*-schedule-role"],
                {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}},
            ),
            allow(
                "GithubOidcProvider",
                IAM_OIDC,
                [f"arn:aws:iam::{account}:oidc-provider/{OIDC_HOST}"],
            ),
            allow(
                "OwnManagedPolicies",
                MANAGED_POLICIES,
                [f"arn:aws:iam::{account}:policy/{prefix}ghdeploy-*-policy"],
            ),
            # Only what the program attaches as the deploy role (ReadOnlyAccess, to the preview
            # role): any other managed policy on a role of the environment (AdministratorAccess,
            # to itself) would make the session an admin.
            allow(
                "AttachWhatTheStackAttaches",
                ("iam:AttachRolePolicy",),
                [f"arn:aws:iam::{account}:role/{prefix}*"],
                {"ArnLike": {"iam:PolicyARN": READ_ONLY_POLICY_ARN}},
            ),
            # A deploy session never rewrites its own rights: not its role's policies, trust
            # or boundary, not a version of its own managed policies. The Allows above would
            # let it (the role is a resource of the stack it deploys); an explicit Deny wins.
            # So a change to this module is applied by an administrator (docs/operations.md).
            deny(
                "NeverItsOwnRole",
                OWN_ROLE_CHANGES,
                [f"arn:aws:iam::{account}:role/{prefix}ghdeploy-role"],
            ),
            deny(
                "NeverItsOwnPolicies",
                OWN_POLICY_CHANGES,
                [f"arn:aws:iam::{account}:policy/{prefix}ghdeploy-*-policy"],
            ),
        ],
        "network": [
            allow(
                "Ec2InThisAccountAndRegion",
                (*EC2_MUTATIONS, *EC2_SCOPED_READS),
                [f"arn:aws:ec2:{arn}:*"],
            ),
            allow("NoResourceLevelPermissions", UNSCOPABLE_NETWORK, ["*"]),
        ],
        "compute": [
            allow(
                "LambdaOfThisEnvironment",
                LAMBDA,
                [
                    f"arn:aws:lambda:{arn}:function:{prefix}*",
                    f"arn:aws:lambda:{arn}:layer:{prefix}*",
                ],
            ),
            allow(
                "CreateEventSourceMappingsForThisEnvironment",
                ("lambda:CreateEventSourceMapping",),
                ["*"],
                {"ArnLike": {"lambda:FunctionArn": f"arn:aws:lambda:{arn}:function:{prefix}*"}},
            ),
            allow(
                "EventSourceMappingsInThisAccountAndRegion",
                EVENT_SOURCE_MAPPINGS,
                [f"arn:aws:lambda:{arn}:event-source-mapping:*"],
            ),
            allow(
                "SchedulesOfThisEnvironment",
                SCHEDULES,
                [f"arn:aws:scheduler:{arn}:schedule/default/{prefix}*"],
            ),
            allow(
                "EventRulesOfThisEnvironment",
                EVENT_RULES,
                [
                    f"arn:aws:events:{arn}:rule/{prefix}*",
                    f"arn:aws:events:{arn}:rule/*/{prefix}*",
                ],
            ),
            allow(
                "RepositoriesOfThisEnvironment", ECR, [f"arn:aws:ecr:{arn}:repository/{prefix}*"]
            ),
            allow(
                "HttpApisInThisAccountAndRegion",
                API_GATEWAY,
                [
                    f"arn:aws:apigateway:{region}::/apis",
                    f"arn:aws:apigateway:{region}::/apis/*",
                    f"arn:aws:apigateway:{region}::/tags/*",
                ],
            ),
            allow("NoResourceLevelPermissions", UNSCOPABLE_COMPUTE, ["*"]),
        ],
        "data": [
            allow(
                "LogGroupsOfThisEnvironment",
                LOGS,
                [
                    f"arn:aws:logs:{arn}:log-group:{standard.LOG_GROUP_PREFIX}{prefix}*",
                    f"arn:aws:logs:{arn}:log-group:{prefix}*",  # HTTP APIs' access logs
                ],
            ),
            allow("QueuesOfThisEnvironment", SQS, [f"arn:aws:sqs:{arn}:{prefix}*"]),
            allow("TopicsOfThisEnvironment", SNS, [f"arn:aws:sns:{arn}:{prefix}*"]),
            allow(
                "KmsKeysAndAliasesInThisAccountAndRegion",
                KMS_KEYS,
                [f"arn:aws:kms:{arn}:key/*", f"arn:aws:kms:{arn}:alias/{prefix}*"],
            ),
            allow("UseKeysInThisAccountAndRegion", KMS_USE, [f"arn:aws:kms:{arn}:key/*"]),
            allow(
                "SecretsOfThisEnvironment",
                SECRETS,
                [f"arn:aws:secretsmanager:{arn}:secret:{standard.NAME_PREFIX}/{env}/*"],
            ),
            allow("TablesOfThisEnvironment", DYNAMODB, [f"arn:aws:dynamodb:{arn}:table/{prefix}*"]),
            allow("BucketsOfThisEnvironment", S3_BUCKETS, [f"arn:aws:s3:::{prefix}*"]),
            allow("ArtifactObjects", S3_OBJECTS, [f"arn:aws:s3:::{prefix}artifacts-bucket/*"]),
            allow("AlarmsOfThisEnvironment", ALARMS, [f"arn:aws:cloudwatch:{arn}:alarm:{prefix}*"]),
            allow("NoResourceLevelPermissions", UNSCOPABLE_DATA, ["*"]),
        ],
    }
    return {group: {"Version": "2012-10-17", "Statement": groups[group]} for group in DEPLOY_GROUPS}


def preview_deny_policy() -> dict[str, Any]:
    """ReadOnlyAccess reads data too; the preview role must see configuration only."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "NoDataOrSecretReads",
                "Effect": "Deny",
                "Action": sorted(PREVIEW_DENIED),
                "Resource": "*",
            },
        ],
    }


def trust_policy(provider_arn: str, subjects: list[str]) -> dict[str, Any]:
    """Assumable only with a GitHub OIDC token for STS whose subject is one of ``subjects``."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{OIDC_HOST}:aud": "sts.amazonaws.com",
                        f"{OIDC_HOST}:sub": subjects,
                    }
                },
            }
        ],
    }


def preview_subjects(repository: str) -> list[str]:
    return [f"repo:{repository}:pull_request"]


def deploy_subjects(repository: str, env: str) -> list[str]:
    """prod deploys from the `prod` GitHub environment (reviewers); others from main."""
    if env == "prod":
        return [f"repo:{repository}:environment:prod"]
    return [f"repo:{repository}:ref:refs/heads/main"]
