"""What `pulumi up` of one VA stack needs, and nothing more: the deploy role's policy, as data.

Every mutating action is scoped to this environment's names (``va-<env>-*``, ``va/<env>/*``,
``/aws/lambda/va-<env>-*``) or, where AWS names resources by id only (EC2, KMS keys, event
source mappings, HTTP APIs), to this environment by condition (its ``Environment``/``Project``
tags on what exists, the same tags on what a call creates, ``lambda:FunctionArn``); ``*`` only
for the actions AWS's Service Authorization Reference lists no resource types for (va-iam and
tests/components/test_iam_catalogue.py check it against that catalogue). No ``service:*``.
What keeps the record (log groups, alarms, the alarm topic and its subscription, the keys) is
never removed or silenced by a deploy session (``NEVER_HIDE_TRACKS``). Where no condition key
bounds the value a call sets, the role creates and never changes: alarms (written once), key
policies (set at CreateKey), role sessions (set at CreateRole); and a log group retention it
shortens is put back by the retention guard.
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
from va_platform.components import retention_guard
from va_platform.standard import allow_statement as allow

OIDC_HOST = "token.actions.githubusercontent.com"
# <owner>/<repo> as GitHub allows them (VaGithubOidcRoleArgs.repository).
REPOSITORY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$"

# Creating EC2 resources: the new resource only tagged for this environment (aws:RequestTag),
# and every existing resource the call names (the VPC of a subnet or security group; the
# subnet, address, route tables and security groups of a NAT gateway or endpoint) only if it is
# this environment's (aws:ResourceTag, EC2_CHANGES' statement), so nothing is created in prod's
# or another team's network. AWS's catalogue lists aws:RequestTag on the named resources too:
# each statement pairs creations with the types they create and none that any of them names,
# so a dev tag on the new resource never opens another environment's VPC.
# (tests/components/test_deploy_role_attacks.py checks the pairing against the catalogue.)
EC2_CREATED = {
    "ec2:CreateVpc": "vpc", "ec2:CreateInternetGateway": "internet-gateway",
    "ec2:AllocateAddress": "elastic-ip", "ec2:CreateSubnet": "subnet",
    "ec2:CreateRouteTable": "route-table", "ec2:CreateSecurityGroup": "security-group",
    "ec2:CreateNatGateway": "natgateway", "ec2:CreateVpcEndpoint": "vpc-endpoint",
}  # fmt: skip
EC2_CREATE_GROUPS = (
    ("ec2:CreateVpc", "ec2:CreateInternetGateway", "ec2:AllocateAddress"),  # name nothing else
    ("ec2:CreateSubnet", "ec2:CreateRouteTable", "ec2:CreateSecurityGroup"),  # name a VPC
    ("ec2:CreateNatGateway", "ec2:CreateVpcEndpoint"),  # name VPCs, subnets, addresses, ...
)
EC2_CREATES = tuple(EC2_CREATED)
# Changing or deleting what exists, and naming it in a creation: only resources tagged for this
# environment (the program tags every EC2 resource it creates, at creation), so another team's
# or prod's VPC, routes and security groups are out of reach although EC2 names them by id.
EC2_CHANGES = (
    *EC2_CREATES, "ec2:AttachInternetGateway",
    "ec2:DeleteVpc", "ec2:ModifyVpcAttribute", "ec2:DeleteSubnet", "ec2:ModifySubnetAttribute",
    "ec2:DeleteRouteTable", "ec2:AssociateRouteTable", "ec2:DisassociateRouteTable",
    "ec2:CreateRoute", "ec2:DeleteRoute", "ec2:ReplaceRoute", "ec2:DeleteInternetGateway",
    "ec2:DetachInternetGateway", "ec2:ReleaseAddress", "ec2:DeleteNatGateway",
    "ec2:DeleteSecurityGroup", "ec2:AuthorizeSecurityGroupIngress",
    "ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress",
    "ec2:RevokeSecurityGroupEgress", "ec2:ModifyVpcEndpoint", "ec2:DeleteVpcEndpoints",
    "ec2:DeleteTags",
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
# Writes to a role that IAM authorizes with the role's permissions boundary as the condition key
# iam:PermissionsBoundary (AWS's Service Authorization Reference): allowed only on roles that
# carry va-<env>-workload-boundary, or create them with it.
ROLE_WRITES = (
    "iam:CreateRole", "iam:DeleteRole", "iam:UpdateAssumeRolePolicy",
    "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
)  # fmt: skip
ROLE_READS = (
    "iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies",
    "iam:ListInstanceProfilesForRole",
)  # fmt: skip
# A role's maximum session (UpdateRole) is set at CreateRole and changed by an administrator:
# no condition key bounds MaxSessionDuration (iam:PermissionsBoundary says which boundary the
# role carries, nothing of its session), and an agent role's could grow to 12 hours.
ADMINISTERED_ROLE_SETTINGS = ("iam:UpdateRole",)
# No boundary key for these (they change labels, not rights); denied on the identity roles.
ROLE_LABELS = ("iam:TagRole", "iam:UntagRole", "iam:UpdateRoleDescription")
IAM_ROLES = (*ROLE_WRITES, *ROLE_READS, *ROLE_LABELS)
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
    "lambda:DeleteAlias", "lambda:RemovePermission", "lambda:GetPolicy",
    "lambda:GetFunctionUrlConfig", "lambda:DeleteFunctionUrlConfig",
    "lambda:PutProvisionedConcurrencyConfig", "lambda:GetProvisionedConcurrencyConfig",
    "lambda:DeleteProvisionedConcurrencyConfig",
)  # fmt: skip
# Who may invoke a function: only the services the stack's triggers use (lambda:Principal), so
# never "*" (a public function); function URLs only with IAM auth (lambda:FunctionUrlAuthType).
INVOKING_SERVICES = ("apigateway.amazonaws.com", "events.amazonaws.com", "s3.amazonaws.com")
FUNCTION_URLS = ("lambda:CreateFunctionUrlConfig", "lambda:UpdateFunctionUrlConfig")
# Queue triggers. AWS names a mapping by UUID only, and authorizes its creation on '*': the
# function it feeds is the condition key lambda:FunctionArn, on every call that names a mapping.
EVENT_SOURCE_MAPPINGS = (
    "lambda:GetEventSourceMapping", "lambda:UpdateEventSourceMapping",
    "lambda:DeleteEventSourceMapping",
)  # fmt: skip
EVENT_SOURCE_MAPPING_TAGS = ("lambda:TagResource", "lambda:UntagResource", "lambda:ListTags")
SCHEDULES = (
    "scheduler:CreateSchedule", "scheduler:GetSchedule", "scheduler:UpdateSchedule",
    "scheduler:DeleteSchedule",
)  # fmt: skip
EVENT_RULES = (
    "events:PutRule", "events:DescribeRule", "events:DeleteRule",
    "events:RemoveTargets", "events:ListTargetsByRule", "events:TagResource",
    "events:UntagResource", "events:ListTagsForResource",
)  # fmt: skip
# A rule's targets: only this environment's functions (events:TargetArn), never another
# account's event bus, queue or topic (a rule on the default bus matching every event would
# forward the account's events, CloudTrail's API calls included, after the session's hour).
EVENT_TARGETS = ("events:PutTargets",)
# Never logs:DeleteLogGroup (NEVER_HIDE_TRACKS). PutRetentionPolicy stays (`pulumi up` sets
# retention right after CreateLogGroup) and no condition key bounds retentionInDays (AWS's
# catalogue: aws:ResourceTag only): a shortened retention is put back by the administrator's
# retention guard (components/retention_guard.py), which the role may not disarm.
LOGS = (
    "logs:CreateLogGroup", "logs:PutRetentionPolicy",
    "logs:DeleteRetentionPolicy", "logs:TagResource", "logs:UntagResource",
    "logs:ListTagsForResource",
    # The stack key on a log group that exists (the provider associates it, not recreates it).
    "logs:AssociateKmsKey", "logs:DisassociateKmsKey",
)  # fmt: skip
SQS = (
    "sqs:CreateQueue", "sqs:DeleteQueue", "sqs:GetQueueAttributes", "sqs:SetQueueAttributes",
    "sqs:GetQueueUrl", "sqs:TagQueue", "sqs:UntagQueue", "sqs:ListQueueTags",
)  # fmt: skip
# The environment's topic is its alarm path, an administrator's (NEVER_HIDE_TRACKS): created
# (the provider sets its key with SetTopicAttributes after CreateTopic), changed (its key, its
# policy) and deleted by an administrator only; a deploy session reads it and subscribes to it.
SNS = ("sns:GetTopicAttributes", "sns:ListTagsForResource")
# The alarm topic's subscription is an e-mail address (alarm_topic.py): a session subscribes
# nothing else (sns:Protocol), so no queue, function or URL of its choosing receives the alarms.
SUBSCRIPTION_PROTOCOLS = ("email",)
# Using the stack key (VaKey) as the deployer: Lambda creates a grant and encrypts the env vars
# with the caller's rights and decrypts them when the provider reads the function back; Secrets
# Manager encrypts and decrypts secret values as the caller (AWS: Lambda "Securing environment
# variables", Secrets Manager "Secret encryption and decryption").
KMS_USE = ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey")
# A key gets its policy at CreateKey; a later change (kms:PutKeyPolicy) is an administrator's:
# no condition key inspects the policy document, and a rewritten one could grant the deploy
# role or an outside account Decrypt, or lock CloudWatch out of the alarm key.
KMS_KEYS = (
    "kms:DescribeKey", "kms:EnableKeyRotation", "kms:GetKeyRotationStatus", "kms:GetKeyPolicy",
    "kms:TagResource", "kms:UntagResource",
    "kms:ListResourceTags", "kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
)  # fmt: skip
KMS_ALIASES = ("kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias")
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
# Creating an alarm (PutMetricAlarm) only tagged for this environment and with actions, all on
# this environment's topics (cloudwatch:AlarmActions): never an alarm that notifies no one.
# PutMetricAlarm also overwrites an alarm whole, and no condition key bounds its threshold,
# period or metric: an alarm that exists (AWS puts its tags in the request) is rewritten by an
# administrator only, and its Environment/Project tags are never removed (which would make it
# look new).
ALARMS = (
    "cloudwatch:DescribeAlarms", "cloudwatch:TagResource", "cloudwatch:UntagResource",
    "cloudwatch:ListTagsForResource",
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
# (arn:aws:apigateway:<region>::/apis/<id>/...), with no account in the ARN (it is the caller's).
# An API is created only tagged for this environment (aws:RequestTag on POST /apis) and changed
# or deleted only if it is tagged so (aws:ResourceTag on /apis/<id>). What it holds (routes,
# integrations, authorizers, stages: /apis/<id>/<kind>/...) is refused where AWS puts another
# environment's tag in the request (its catalogue lists aws:ResourceTag there), and tags
# (/tags/<the tagged resource's ARN>) never change Environment or Project. AWS's guide lists
# no tags for HTTP API routes and integrations and documents tag inheritance for REST APIs
# only, so their requests may carry no tag at all: whatever API a route belongs to, it is
# created and changed only with IAM or JWT authorization (never open, never a Lambda
# authorizer), and the account itself is the environment's (aws:allowedAccountIds).
ROUTE_AUTHORIZATION = ("AWS_IAM", "JWT")
API_GATEWAY = ("apigateway:GET", "apigateway:POST", "apigateway:PATCH", "apigateway:DELETE")
API_GATEWAY_WRITES = ("apigateway:POST", "apigateway:PATCH", "apigateway:PUT", "apigateway:DELETE")
# AWS's Service Authorization Reference lists no resource type for these: granted on any ARN,
# AWS denies them. Each group's policy holds its own services' ones.
UNSCOPABLE_NETWORK = EC2_DESCRIBE
UNSCOPABLE_COMPUTE = (
    "ecr:GetAuthorizationToken", "lambda:ListLayerVersions", "lambda:ListEventSourceMappings",
)  # fmt: skip
UNSCOPABLE_DATA = (
    "kms:ListAliases", "logs:DescribeLogGroups", "sns:GetSubscriptionAttributes",
    # An HTTP API stage's access logs: API Gateway sets up the delivery as the caller.
    "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
)  # fmt: skip
# Names (va-<env>-*) and the Environment/Project tags are every library user's: another
# team's stack in the account has them too (examples/shared-vpc-function). What another
# owner's stack made (its Owner tag) a session never changes: its roles (their policies,
# trust, tags), its functions (code, configuration, permissions, tags), its EC2 resources.
OTHER_OWNERS_ROLE_CHANGES = tuple(a for a in (*ROLE_WRITES, *ROLE_LABELS) if a != "iam:CreateRole")
OTHER_OWNERS_FUNCTION_CHANGES = (
    "lambda:Create*", "lambda:Update*", "lambda:Put*", "lambda:Delete*", "lambda:Publish*",
    "lambda:AddPermission", "lambda:RemovePermission", "lambda:TagResource",
    "lambda:UntagResource",
)  # fmt: skip
OTHER_OWNERS_EC2_CHANGES = (
    "ec2:Create*", "ec2:Delete*", "ec2:Modify*", "ec2:Authorize*", "ec2:Revoke*",
    "ec2:Associate*", "ec2:Disassociate*", "ec2:Attach*", "ec2:Detach*", "ec2:Replace*",
    "ec2:Release*",
)  # fmt: skip
# The same for what a stack's data lives in (every one of these takes aws:ResourceTag on its
# resource; S3 buckets do not, and are not here).
OTHER_OWNERS_DATA_CHANGES = (
    "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy", "logs:AssociateKmsKey",
    "logs:DisassociateKmsKey", "logs:TagResource", "logs:UntagResource",
    "sqs:SetQueueAttributes", "sqs:DeleteQueue", "sqs:TagQueue", "sqs:UntagQueue",
    "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecret", "secretsmanager:DeleteSecret", "secretsmanager:TagResource",
    "secretsmanager:UntagResource", "dynamodb:UpdateTable", "dynamodb:DeleteTable",
    "dynamodb:UpdateContinuousBackups", "dynamodb:TagResource", "dynamodb:UntagResource",
    "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:CreateGrant", "kms:TagResource",
    "kms:UntagResource", "kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias",
    "ecr:SetRepositoryPolicy", "ecr:PutImage", "ecr:DeleteRepository",
    "ecr:PutLifecyclePolicy", "ecr:PutImageTagMutability", "ecr:TagResource",
    "ecr:UntagResource", "events:PutRule", "events:PutTargets", "events:DeleteRule",
)  # fmt: skip
# What sets the tags the workload boundary reads a secret (and its key) by: Environment on
# any of them, Owner on roles (aws:PrincipalTag/Owner) and secrets (components/boundary.py).
OWNER_TAGGING = (
    "iam:CreateRole", "iam:TagRole", "secretsmanager:CreateSecret", "secretsmanager:TagResource",
)  # fmt: skip
OWNERSHIP_TAGGING = (*OWNER_TAGGING, "kms:CreateKey", "kms:TagResource")
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
# What keeps the record of a deploy session (a session must not hide its tracks): the log
# groups and streams, its alarms, the alarm topic (created, changed, tagged and deleted by an
# administrator only: a topic policy or key CloudWatch cannot use silences every alarm), its
# e-mail subscription and its attributes (a filter policy drops every alarm), and the keys the
# log groups are encrypted with. Denied on every resource: a `pulumi up` that removes a log
# group, alarm or key (a function dropped, encryptionKey turned off) or changes the alarm topic
# is applied by an administrator (docs/operations.md). Unsubscribe and SetSubscriptionAttributes
# take no resource type, so they are refused for every subscription.
NEVER_HIDE_TRACKS = (
    "logs:DeleteLogGroup", "logs:DeleteLogStream", "cloudwatch:DeleteAlarms",
    "cloudwatch:DisableAlarmActions", "sns:CreateTopic", "sns:DeleteTopic",
    "sns:SetTopicAttributes", "sns:TagResource", "sns:UntagResource",
    "sns:Unsubscribe", "sns:SetSubscriptionAttributes", "kms:ScheduleKeyDeletion",
    "kms:DisableKey",
)  # fmt: skip
# What puts a shortened log group retention back (components/retention_guard.py): the AWS
# Config rule and recorder, the remediation, its Automation document; its role is among the
# administrator's roles above. A deploy session may change none of it.
RETENTION_GUARD_CHANGES = (
    "config:DeleteConfigRule", "config:PutConfigRule", "config:DeleteEvaluationResults",
    "config:DeleteRemediationConfiguration", "config:PutRemediationConfigurations",
    "config:PutRemediationExceptions", "config:StopConfigurationRecorder",
    "config:DeleteConfigurationRecorder", "config:PutConfigurationRecorder",
    "ssm:UpdateDocument", "ssm:UpdateDocumentDefaultVersion", "ssm:DeleteDocument",
)  # fmt: skip
OWN_POLICY_CHANGES = (
    "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicyVersion",
    "iam:DeletePolicy", "iam:TagPolicy", "iam:UntagPolicy",
)  # fmt: skip
# The preview role reads configuration, never data or secret values: ReadOnlyAccess minus every
# read that returns data of the services the stack uses (log events and queries, items and
# stream records, objects, messages, secret values, parameters and their history, traces,
# function and layer code, image layers, decrypted plaintext).
# tests/components/test_preview_role.py enumerates them from AWS's catalogue.
PREVIEW_DENIED = (
    "logs:GetLogEvents", "logs:FilterLogEvents", "logs:GetLogRecord",
    "logs:StartQuery", "logs:GetQueryResults", "logs:StartLiveTail", "logs:Unmask",
    "logs:GetScheduledQueryHistory",
    "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan",
    "dynamodb:PartiQLSelect", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
    "s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTorrent", "s3:GetObjectVersionTorrent",
    "s3:GetObjectVersionForReplication",
    "sqs:ReceiveMessage",
    "secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue",
    "ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath",
    "ssm:GetParameterHistory",
    "xray:BatchGetTraces", "xray:BatchGetTraceSummaryById", "xray:GetTraceSummaries",
    "xray:GetTraceGraph", "xray:GetDistinctTraceGraphs", "xray:GetRetrievedTracesGraph",
    "xray:ListRetrievedTraces", "xray:StartTraceRetrieval",
    "lambda:GetFunction", "lambda:GetLayerVersion",
    "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
    "kms:Decrypt",
)  # fmt: skip

# Within one account a trust policy that names a role's ARN lets that role assume it with no
# identity policy allowing sts:AssumeRole (IAM policy evaluation: either policy's Allow
# suffices). A deploy session may write a workload role's trust naming the preview role; an
# explicit Deny in the preview role's own policy is what keeps every later pull request from
# taking the workload's data reads that way.
PREVIEW_NO_CHAINING = ("sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession")

# IAM: a customer-managed policy holds at most 6,144 characters (white space not counted), and a
# role takes at most 10 of them (the default quota). The deploy policy outgrew the 10,240
# characters a role's inline policies may hold together, so it is split by service group.
MANAGED_POLICY_MAX_CHARS = 6_144
MAX_ATTACHED_POLICIES = 10
DEPLOY_GROUPS = ("iam", "network", "compute", "data")


def deny(sid: str, actions: tuple[str, ...], resources: list[str]) -> dict[str, Any]:
    return {**allow(sid, actions, resources), "Effect": "Deny"}


def _another_owners(
    sid: str, actions: tuple[str, ...], resources: list[str], owner: str
) -> dict[str, Any]:
    """Deny on what carries an ``Owner`` tag other than ``owner`` (what exists; a creation
    finds no tag, so it is not refused here)."""
    return {
        **deny(sid, actions, resources),
        "Condition": {
            "StringNotEquals": {"aws:ResourceTag/Owner": owner},
            "Null": {"aws:ResourceTag/Owner": "false"},
        },
    }


def deploy_policies(
    env: str, region: str, account: str, owner: str | None = None
) -> dict[str, dict[str, Any]]:
    """The deploy role's policies for the stack of ``env`` in ``account``/``region``, by group
    (``iam``, ``network``, ``compute``, ``data``): together, what `pulumi up` of that stack
    needs; each one a customer-managed policy ``va-<env>-ghdeploy-<group>-policy``. With
    ``owner`` (the stack's ``Owner`` tag), never a function, role or EC2 resource another
    owner's stack made in the account, though its names and Environment/Project tags match."""
    standard.validate_environment(env)
    prefix = f"{standard.NAME_PREFIX}-{env}-"
    arn = f"{region}:{account}"
    role = f"arn:aws:iam::{account}:role/"
    boundary = standard.boundary_arn(env, account)
    identity_roles = [
        f"{role}{prefix}{p}-role" for p in (*standard.IDENTITY_PURPOSES, retention_guard.PURPOSE)
    ]
    administered_policies = [
        f"arn:aws:iam::{account}:policy/{prefix}ghdeploy-*-policy",
        boundary,
    ]
    this_environment = {
        "StringEquals": {
            "aws:ResourceTag/Environment": env,
            "aws:ResourceTag/Project": standard.PROJECT,
        }
    }
    # What a creation must tag the new resource with (tag-on-create).
    for_this_environment = {
        "StringEquals": {
            "aws:RequestTag/Environment": env,
            "aws:RequestTag/Project": standard.PROJECT,
        }
    }
    apis = f"arn:aws:apigateway:{region}::/apis"
    api_tags = f"arn:aws:apigateway:{region}::/tags/*"
    functions = f"arn:aws:lambda:{arn}:function:{prefix}*"
    alarms = f"arn:aws:cloudwatch:{arn}:alarm:{prefix}*"
    groups: dict[str, list[dict[str, Any]]] = {
        "iam": [
            # A role of the environment is created or changed only with the workload boundary
            # attached, so whatever policy a session writes on it, the role can do no more than
            # the boundary allows (components/boundary.py).
            allow(
                "RolesOfThisEnvironmentOnlyWithTheBoundary",
                ROLE_WRITES,
                [f"{role}{prefix}*"],
                {"StringEquals": {"iam:PermissionsBoundary": boundary}},
            ),
            allow("ReadRolesOfThisEnvironment", ROLE_READS, [f"{role}{prefix}*"]),
            allow("LabelRolesOfThisEnvironment", ROLE_LABELS, [f"{role}{prefix}*"]),
            allow(
                "PassExecutionRolesToLambda",
                ("iam:PassRole",),
                [f"{role}{prefix}*-lambda-role"],
                {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
            ),
            allow(
                "PassScheduleRolesToScheduler",
                ("iam:PassRole",),
                [f"{role}{prefix}*-schedule-role"],
                {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}},
            ),
            allow(
                "ReadTheGithubOidcProvider",
                ("iam:GetOpenIDConnectProvider",),
                [f"arn:aws:iam::{account}:oidc-provider/{OIDC_HOST}"],
            ),
            allow("ReadAdministeredPolicies", MANAGED_POLICIES, administered_policies),
            # The identities CI runs as (this role, the preview role), the retention guard's
            # role and the policies that bound CI and the workloads are an administrator's:
            # never changed by a deploy session, whatever the Allows above would match (ADR 0005).
            deny("NeverTheIdentityRoles", OWN_ROLE_CHANGES, identity_roles),
            deny("NeverAdministeredPolicies", OWN_POLICY_CHANGES, administered_policies),
            deny("NeverRemoveTheBoundary", ("iam:DeleteRolePermissionsBoundary",), ["*"]),
            {
                **deny("NeverAnotherBoundary", ("iam:PutRolePermissionsBoundary",), ["*"]),
                "Condition": {"StringNotEquals": {"iam:PermissionsBoundary": boundary}},
            },
            deny("RoleSessionsAreAnAdministrators", ADMINISTERED_ROLE_SETTINGS, ["*"]),
            deny("NeverDisarmTheRetentionGuard", RETENTION_GUARD_CHANGES, ["*"]),
            # The workload boundary lets a role read a secret (and decrypt with a key) by their
            # tags (Environment, and Owner = the role's own): a session never tags a role or
            # secret with another owner (another environment: NeverTagAnotherEnvironment).
            *(
                [
                    {
                        **deny("NeverTagAnotherOwner", OWNER_TAGGING, ["*"]),
                        "Condition": {
                            "StringNotEquals": {"aws:RequestTag/Owner": owner},
                            "Null": {"aws:RequestTag/Owner": "false"},
                        },
                    }
                ]
                if owner is not None
                else []
            ),
            *(
                [
                    _another_owners(
                        "NeverAnotherOwnersRoles",
                        OTHER_OWNERS_ROLE_CHANGES,
                        [f"{role}{prefix}*"],
                        owner,
                    ),
                    _another_owners(
                        "NeverAnotherOwnersData", OTHER_OWNERS_DATA_CHANGES, ["*"], owner
                    ),
                    _another_owners(
                        "NeverAnotherOwnersEc2",
                        OTHER_OWNERS_EC2_CHANGES,
                        [f"arn:aws:ec2:{arn}:*"],
                        owner,
                    ),
                ]
                if owner is not None
                else []
            ),
        ],
        "network": [
            *[
                allow(
                    f"CreateEc2TaggedForThisEnvironment{i}",
                    group,
                    [f"arn:aws:ec2:{arn}:{EC2_CREATED[a]}/*" for a in group],
                    for_this_environment,
                )
                for i, group in enumerate(EC2_CREATE_GROUPS, 1)
            ],
            allow("ReadVpcAttributes", EC2_SCOPED_READS, [f"arn:aws:ec2:{arn}:vpc/*"]),
            allow(
                "ChangeEc2OfThisEnvironment",
                EC2_CHANGES,
                [f"arn:aws:ec2:{arn}:*"],
                this_environment,
            ),
            # Tags: at creation (ec2:CreateAction), on resources of this environment, and on a
            # security group with no Environment tag yet (the VPC's default security group,
            # which AWS creates untagged) only to tag it for this environment. Only security
            # groups: an untagged VPC, subnet or route table (the default VPC, another team's)
            # tagged so would become this environment's to change and delete.
            allow(
                "TagEc2OnCreation",
                ("ec2:CreateTags",),
                [f"arn:aws:ec2:{arn}:*"],
                {"Null": {"ec2:CreateAction": "false"}},
            ),
            allow(
                "TagEc2OfThisEnvironment",
                ("ec2:CreateTags",),
                [f"arn:aws:ec2:{arn}:*"],
                this_environment,
            ),
            allow(
                "TagUntaggedEc2ForThisEnvironment",
                ("ec2:CreateTags",),
                [f"arn:aws:ec2:{arn}:security-group/*"],
                {
                    "Null": {"aws:ResourceTag/Environment": "true"},
                    "StringEquals": {"aws:RequestTag/Environment": env},
                },
            ),
            # HTTP APIs (API Gateway): the network edge of the functions.
            allow(
                "CreateHttpApisTaggedForThisEnvironment",
                ("apigateway:POST",),
                [apis],
                for_this_environment,
            ),
            allow("ListHttpApis", ("apigateway:GET",), [apis]),
            # /apis/<id> itself; what it holds (/apis/<id>/...) by the next statement.
            allow(
                "HttpApisOfThisEnvironment",
                ("apigateway:GET", "apigateway:PATCH", "apigateway:DELETE"),
                [f"{apis}/*"],
                this_environment,
            ),
            allow("WhatHttpApisHoldAndTheirTags", API_GATEWAY, [f"{apis}/*/*", api_tags]),
            {
                **deny(
                    "NoHttpApiOfAnotherEnvironment", API_GATEWAY_WRITES, [f"{apis}/*", api_tags]
                ),
                "Condition": {
                    "StringNotEquals": {"aws:ResourceTag/Environment": env},
                    "Null": {"aws:ResourceTag/Environment": "false"},
                },
            },
            {
                **deny(
                    "RoutesOnlyWithIamOrJwt",
                    ("apigateway:POST", "apigateway:PATCH"),
                    [f"{apis}/*/routes", f"{apis}/*/routes/*"],
                ),
                "Condition": {
                    "StringNotEqualsIfExists": {
                        "apigateway:Request/RouteAuthorizationType": list(ROUTE_AUTHORIZATION)
                    }
                },
            },
            {
                **deny("RoutesStateTheirAuthorization", ("apigateway:POST",), [f"{apis}/*/routes"]),
                "Condition": {"Null": {"apigateway:Request/RouteAuthorizationType": "true"}},
            },
            {
                **deny("NeverRetagHttpApis", ("apigateway:POST", "apigateway:DELETE"), [api_tags]),
                "Condition": {
                    "ForAnyValue:StringEquals": {"aws:TagKeys": ["Environment", "Project"]}
                },
            },
            allow("NoResourceLevelPermissions", UNSCOPABLE_NETWORK, ["*"]),
        ],
        "compute": [
            allow(
                "LambdaOfThisEnvironment",
                LAMBDA,
                [functions, f"arn:aws:lambda:{arn}:layer:{prefix}*"],
            ),
            allow(
                "InvokedOnlyByTheStacksServices",
                ("lambda:AddPermission",),
                [functions],
                {"StringEquals": {"lambda:Principal": list(INVOKING_SERVICES)}},
            ),
            allow(
                "FunctionUrlsWithIamAuthOnly",
                FUNCTION_URLS,
                [functions],
                {"StringEquals": {"lambda:FunctionUrlAuthType": "AWS_IAM"}},
            ),
            allow(
                "CreateEventSourceMappingsForThisEnvironment",
                ("lambda:CreateEventSourceMapping",),
                ["*"],
                {"ArnLike": {"lambda:FunctionArn": functions}},
            ),
            allow(
                "EventSourceMappingsOfThisEnvironment",
                EVENT_SOURCE_MAPPINGS,
                [f"arn:aws:lambda:{arn}:event-source-mapping:*"],
                {"ArnLike": {"lambda:FunctionArn": functions}},
            ),
            allow(
                "TagEventSourceMappingsOfThisEnvironment",
                EVENT_SOURCE_MAPPING_TAGS,
                [f"arn:aws:lambda:{arn}:event-source-mapping:*"],
                {"StringEquals": {"aws:ResourceTag/Environment": env}},
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
                "EventTargetsAreThisEnvironmentsFunctions",
                EVENT_TARGETS,
                [
                    f"arn:aws:events:{arn}:rule/{prefix}*",
                    f"arn:aws:events:{arn}:rule/*/{prefix}*",
                ],
                {
                    "ForAllValues:ArnLike": {"events:TargetArn": functions},
                    "Null": {"events:TargetArn": "false"},
                },
            ),
            # The alarm topic (its statements here: the data policy is at IAM's size quota).
            allow("TopicsOfThisEnvironment", SNS, [f"arn:aws:sns:{arn}:{prefix}*"]),
            allow(
                "SubscribeByEmailOnly",
                ("sns:Subscribe",),
                [f"arn:aws:sns:{arn}:{prefix}*"],
                {"StringEquals": {"sns:Protocol": list(SUBSCRIPTION_PROTOCOLS)}},
            ),
            allow(
                "RepositoriesOfThisEnvironment", ECR, [f"arn:aws:ecr:{arn}:repository/{prefix}*"]
            ),
            allow("NoResourceLevelPermissions", UNSCOPABLE_COMPUTE, ["*"]),
            # Never a role, secret or key tagged with another environment (the workload
            # boundary reads secrets and keys by it; here: the iam and data policies are near
            # IAM's size quota).
            {
                **deny("NeverTagAnotherEnvironment", OWNERSHIP_TAGGING, ["*"]),
                "Condition": {
                    "StringNotEquals": {"aws:RequestTag/Environment": env},
                    "Null": {"aws:RequestTag/Environment": "false"},
                },
            },
            *(
                [
                    _another_owners(
                        "NeverAnotherOwnersFunctions",
                        OTHER_OWNERS_FUNCTION_CHANGES,
                        [functions],
                        owner,
                    )
                ]
                if owner is not None
                else []
            ),
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
            # KMS names keys by id: a key is this environment's by its tags (the program tags
            # the stack key at creation); keys of another team or of prod are out of reach.
            allow(
                "CreateKeysTaggedForThisEnvironment",
                ("kms:CreateKey",),
                ["*"],
                {"StringEquals": {"aws:RequestTag/Environment": env}},
            ),
            allow(
                "KeysOfThisEnvironment",
                (*KMS_KEYS, *KMS_USE),
                [f"arn:aws:kms:{arn}:key/*"],
                this_environment,
            ),
            allow("AliasesOfThisEnvironment", KMS_ALIASES, [f"arn:aws:kms:{arn}:alias/{prefix}*"]),
            # Lambda creates a grant on the stack key as the caller; no grant to anyone else.
            allow(
                "GrantsForAwsServicesOnly",
                ("kms:CreateGrant",),
                [f"arn:aws:kms:{arn}:key/*"],
                {
                    **this_environment,
                    "Bool": {"kms:GrantIsForAWSResource": "true"},
                },
            ),
            {
                **deny("NoKeyPolicyLockoutBypass", ("kms:CreateKey", "kms:PutKeyPolicy"), ["*"]),
                "Condition": {"Bool": {"kms:BypassPolicyLockoutSafetyCheck": "true"}},
            },
            deny("KeyPoliciesAreAnAdministrators", ("kms:PutKeyPolicy",), ["*"]),
            allow(
                "SecretsOfThisEnvironment",
                SECRETS,
                [f"arn:aws:secretsmanager:{arn}:secret:{standard.NAME_PREFIX}/{env}/*"],
            ),
            allow("TablesOfThisEnvironment", DYNAMODB, [f"arn:aws:dynamodb:{arn}:table/{prefix}*"]),
            allow("BucketsOfThisEnvironment", S3_BUCKETS, [f"arn:aws:s3:::{prefix}*"]),
            allow("ArtifactObjects", S3_OBJECTS, [f"arn:aws:s3:::{prefix}artifacts-bucket/*"]),
            allow("AlarmsOfThisEnvironment", ALARMS, [alarms]),
            allow(
                "AlarmsNotifyThisEnvironmentsTopics",
                ("cloudwatch:PutMetricAlarm",),
                [alarms],
                {
                    **for_this_environment,
                    "ForAllValues:ArnLike": {
                        "cloudwatch:AlarmActions": f"arn:aws:sns:{arn}:{prefix}*"
                    },
                    "Null": {"cloudwatch:AlarmActions": "false"},
                },
            ),
            {
                **deny("AlarmsAreWrittenOnce", ("cloudwatch:PutMetricAlarm",), [alarms]),
                "Condition": {"Null": {"aws:ResourceTag/Environment": "false"}},
            },
            {
                **deny("AlarmsKeepTheirTags", ("cloudwatch:UntagResource",), [alarms]),
                "Condition": {
                    "ForAnyValue:StringEquals": {"aws:TagKeys": ["Environment", "Project"]}
                },
            },
            deny("NeverHideTracks", NEVER_HIDE_TRACKS, ["*"]),
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
            {
                "Sid": "NoRoleChaining",
                "Effect": "Deny",
                "Action": list(PREVIEW_NO_CHAINING),
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
