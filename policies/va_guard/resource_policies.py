"""Who may reach a resource: resource policies and Lambda permissions that let anyone in.

Part of va-data ("nothing public"), org-wide: an Allow for ``Principal: "*"`` (or ``{"AWS":
"*"}``) in the resource policy of an S3 bucket, SQS queue, SNS topic, KMS key, Secrets Manager
secret or ECR repository must carry a condition that narrows it to an organization, account,
source ARN or VPC endpoint. A ``lambda.Permission`` for ``*`` needs ``principalOrgId`` (or a
source), and one for an AWS service needs ``sourceArn`` or ``sourceAccount``: without them any
account's bucket or topic could invoke the function (the confused deputy).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from . import standard
from .framework import Finding, Resource, unchecked, violation
from .props import UNKNOWN, contains_unknown, get, is_mapping, items_of, json_document

# Resource type -> the property holding its resource policy (pulumi-aws v7, as the engine sends).
POLICY_PROPERTY: dict[str, str] = {
    "aws:s3/bucketPolicy:BucketPolicy": "policy",
    "aws:s3/bucket:Bucket": "policy",
    "aws:s3/bucketV2:BucketV2": "policy",
    "aws:sqs/queuePolicy:QueuePolicy": "policy",
    "aws:sqs/queue:Queue": "policy",
    "aws:sns/topicPolicy:TopicPolicy": "policy",
    "aws:sns/topic:Topic": "policy",
    "aws:kms/key:Key": "policy",
    "aws:kms/keyPolicy:KeyPolicy": "policy",
    "aws:secretsmanager/secretPolicy:SecretPolicy": "policy",
    "aws:secretsmanager/secret:Secret": "policy",
    "aws:ecr/repositoryPolicy:RepositoryPolicy": "policy",
}
PERMISSION_TYPE = "aws:lambda/permission:Permission"
LAYER_PERMISSION_TYPE = "aws:lambda/layerVersionPermission:LayerVersionPermission"
TYPES = frozenset([*POLICY_PROPERTY, PERMISSION_TYPE, LAYER_PERMISSION_TYPE])

# Global condition keys that tie a request to our organization, an account, a source resource or
# a network path (lowercase; IAM condition keys are case-insensitive).
NARROWING_KEYS = frozenset(
    {
        "aws:principalorgid", "aws:principalorgpaths", "aws:principalaccount",
        "aws:principalarn", "aws:sourcearn", "aws:sourceaccount", "aws:sourceowner",
        "aws:sourceorgid", "aws:sourceorgpaths", "aws:sourcevpc", "aws:sourcevpce",
        "kms:calleraccount",
    }
)  # fmt: skip
NARROWING_HINT = (
    "add a Condition on aws:PrincipalOrgID, aws:SourceAccount, aws:SourceArn or aws:SourceVpce, "
    "or name the principals"
)


def _anyone(principal: Any) -> bool:
    return principal == "*" or "*" in items_of(get(principal, "AWS"))


def narrows(operator: Any, block: Any) -> bool:
    """A positive match (StringEquals, ArnLike, ForAnyValue:…) of a narrowing key on something
    other than '*'. Negated operators, …IfExists (true when the key is absent) and Null don't."""
    if not isinstance(operator, str) or not is_mapping(block):
        return False
    op = operator.lower()
    # ForAllValues is true when the key is absent (an anonymous caller has no org id).
    if "not" in op or op.endswith("ifexists") or op == "null" or op.startswith("forallvalues:"):
        return False
    like = "like" in op
    return any(
        isinstance(key, str)
        and key.lower() in NARROWING_KEYS
        and items_of(value)
        and all(isinstance(v, str) and _specific(v, like) for v in items_of(value))
        for key, value in block.items()
    )


# What a value must keep once its wildcards are taken out to name someone: an org id
# (o-xxxxxxxxxx), an account (12 digits), an ARN with a resource. ``o-*``, ``?*`` or
# ``arn:aws:*`` under a *Like operator match everyone.
_SPECIFIC_MIN_CHARS = 6


def _specific(value: str, like: bool) -> bool:
    if not like:
        return bool(value.strip("*"))
    fixed = value.replace("*", "").replace("?", "")
    return len(fixed) >= _SPECIFIC_MIN_CHARS and not fixed.endswith(("o-", "arn:aws:"))


def open_statements(document: Any) -> Iterator[Finding]:
    """Violations for each Allow to anyone without a narrowing condition; unknowns unchecked."""
    parsed = json_document(document) if document is not UNKNOWN else UNKNOWN
    if parsed is UNKNOWN or get(parsed, "Statement") is UNKNOWN:
        yield unchecked("the resource policy (policy)")
        return
    for i, st in enumerate(items_of(get(parsed, "Statement"))):
        if not isinstance(st, dict) or st.get("Effect") != "Allow":
            continue
        if contains_unknown(st.get("Principal")) or contains_unknown(st.get("Condition")):
            yield unchecked(f"statement {i} of the resource policy (policy)")
            continue
        condition = st.get("Condition")
        blocks = condition.items() if isinstance(condition, dict) else ()
        narrowed = any(narrows(op, block) for op, block in blocks)
        if _anyone(st.get("Principal")) and not narrowed:
            sid = st.get("Sid")
            which = f"statement {sid!r}" if isinstance(sid, str) else f"statement {i}"
            yield violation(
                f"the resource policy's {which} lets anyone (Principal '*') in without a "
                f"condition that narrows it; {NARROWING_HINT} (VA standard: nothing public)"
            )


def _present(r: Resource, prop: str) -> bool:
    value = r.get(prop)
    return value is UNKNOWN or (value is not None and value != "")


def permission_problems(r: Resource) -> Iterator[Finding]:
    principal = r.get("principal")
    if principal is UNKNOWN:
        yield unchecked("who may invoke the function (principal)")
        return
    if not isinstance(principal, str):
        return
    source_arn = r.get("sourceArn")
    # A source ARN that names every bucket (arn:aws:s3:::*) names no one.
    any_source = isinstance(source_arn, str) and (
        source_arn == "*" or standard.wildcards_location(source_arn)
    )
    sourced = (_present(r, "sourceArn") and not any_source) or _present(r, "sourceAccount")
    if principal == "*" and not (sourced or _present(r, "principalOrgId")):
        yield violation(
            "the permission lets anyone ('*') invoke the function; name the account or service "
            "that calls it, or set principalOrgId (VA standard: nothing public)"
        )
    elif principal.endswith(".amazonaws.com") and not sourced:
        yield violation(
            f"the permission lets {principal} invoke the function on behalf of any account "
            "(confused deputy); set sourceArn to the calling resource, or sourceAccount "
            "(VA standard: nothing public)"
        )
    elif principal.endswith(".amazon.com") and not (sourced or _present(r, "eventSourceToken")):
        yield violation(
            f"the permission lets {principal} invoke the function for any skill; set "
            "eventSourceToken (VA standard: nothing public)"
        )


def layer_permission_problems(r: Resource) -> Iterator[Finding]:
    """A layer shared with '*' is published to every AWS account, unless an organization id
    narrows it."""
    principal = r.get("principal")
    if principal is UNKNOWN:
        yield unchecked("who may use the layer (principal)")
    elif principal == "*" and not _present(r, "organizationId"):
        yield violation(
            "the layer permission shares the layer with every AWS account ('*'); name the "
            "account, or set organizationId (VA standard: nothing public)"
        )


def check(r: Resource) -> Iterator[Finding]:
    if r.type == PERMISSION_TYPE:
        yield from permission_problems(r)
        return
    if r.type == LAYER_PERMISSION_TYPE:
        yield from layer_permission_problems(r)
        return
    prop = POLICY_PROPERTY.get(r.type)
    if prop is not None:
        document = r.get(prop)
        if document is not None and document != "":
            yield from open_statements(document)
