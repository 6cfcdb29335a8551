"""va-data: the Control Tower SCPs on data: nothing public, all encrypted.

Per resource: S3 public access blocks set all four flags; no public canned ACL or grant to
AllUsers/AuthenticatedUsers; no resource policy (S3, SQS, SNS, KMS, Secrets Manager, ECR) or
Lambda permission open to anyone (``resource_policies``); SQS queues use SSE (SQS-managed, AWS's
default for new queues, or KMS), SNS topics, DynamoDB tables and Kinesis streams a KMS key; RDS
private and encrypted, DocumentDB and Neptune encrypted (``rds``); ElastiCache encrypted at rest
and in transit (``caches``). That every bucket *has* a public access block and an encryption
configuration needs the other resources: va-stack.

Secrets Manager encrypts every secret with KMS (aws/secretsmanager or the secret's kmsKeyId) and
no setting turns that off, so there is nothing to check on secrets.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from . import caches, rds, resource_policies
from .framework import Config, Family, Finding, Resource, unchecked, violation
from .props import UNKNOWN, get, items_of, shown

PAB_TYPE = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
PAB_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
ACL_TYPES = ("aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2")
BUCKET_POLICY_TYPE = "aws:s3/bucketPolicy:BucketPolicy"
PUBLIC_ACLS = ("public-read", "public-read-write", "authenticated-read")
PUBLIC_GRANTEES = ("http://acs.amazonaws.com/groups/global/AllUsers",
                   "http://acs.amazonaws.com/groups/global/AuthenticatedUsers")  # fmt: skip
QUEUE_TYPE = "aws:sqs/queue:Queue"
TOPIC_TYPE = "aws:sns/topic:Topic"
TABLE_TYPE = "aws:dynamodb/table:Table"
STREAM_TYPE = "aws:kinesis/stream:Stream"


def public_access_block_problems(props: Any) -> Iterator[Finding]:
    unknown = [f for f in PAB_FLAGS if get(props, f) is UNKNOWN]
    off = [f for f in PAB_FLAGS if f not in unknown and get(props, f) is not True]
    if unknown:
        yield unchecked(f"the public access block flags {', '.join(unknown)}")
    if off:
        yield violation(
            f"the public access block leaves {', '.join(off)} off; set all four to true "
            "(no public S3, Control Tower SCP)"
        )


def _acl_problems(r: Resource) -> Iterator[Finding]:
    acl = r.get("acl")
    if acl in PUBLIC_ACLS:
        yield violation(f"acl={acl!r} makes the bucket public; use 'private' (or no ACL)")
    grants = items_of(r.get("grants")) + items_of(r.get("accessControlPolicy", "grants"))
    for grant in grants:
        uri = get(grant, "grantee", "uri") or get(grant, "uri")
        if uri in PUBLIC_GRANTEES:
            yield violation(f"an ACL grant to {uri} makes the bucket public; remove it")


def _encryption_problems(r: Resource) -> Iterator[Finding]:
    if r.type == QUEUE_TYPE:
        # AWS encrypts new queues with SQS-managed keys unless sqsManagedSseEnabled is false.
        kms, sse = r.get("kmsMasterKeyId"), r.get("sqsManagedSseEnabled")
        if kms is UNKNOWN or sse is UNKNOWN:
            return  # a key from another resource: encrypted with it
        if not kms and sse is False:
            yield violation(
                "the queue is not encrypted (sqsManagedSseEnabled=false, no kmsMasterKeyId); "
                "remove sqsManagedSseEnabled=false (AWS then encrypts with SQS-managed keys) or "
                "set kmsMasterKeyId"
            )
    elif r.type == TOPIC_TYPE:
        if not r.get("kmsMasterKeyId") and r.get("kmsMasterKeyId") is not UNKNOWN:
            yield violation(
                "the topic is not encrypted (VA standard: every SNS topic uses a KMS key); set "
                "kmsMasterKeyId to a customer managed key whose policy lets CloudWatch publish"
            )
    elif r.type == STREAM_TYPE:
        kind = r.get("encryptionType")
        if kind is UNKNOWN:
            yield unchecked("the stream's encryption (encryptionType)")
        elif kind != "KMS":
            yield violation(
                f"the stream is not encrypted (encryptionType={shown(kind or 'NONE')}; Kinesis's "
                "default is NONE): its records sit in clear on AWS's disks; set "
                "encryptionType=KMS and kmsKeyId (alias/aws/kinesis, or a customer managed key)"
            )
    elif r.type == TABLE_TYPE:
        enabled = r.get("serverSideEncryption", "enabled")
        if enabled is not True and enabled is not UNKNOWN:
            yield violation(
                "the table uses DynamoDB's AWS-owned key, invisible to our KMS audit trail; set "
                "serverSideEncryption.enabled=true (AWS-managed or customer KMS key)"
            )


def check(r: Resource, config: Config) -> Iterator[Finding]:
    if r.type == PAB_TYPE:
        yield from public_access_block_problems(r.props)
    elif r.type in BUCKET_TYPES or r.type in ACL_TYPES:
        yield from _acl_problems(r)
    elif r.type in rds.TYPES:
        yield from rds.check(r)
    elif r.type in caches.TYPES:
        yield from caches.check(r)
    else:
        yield from _encryption_problems(r)
    yield from resource_policies.check(r)


FAMILY = Family(
    name="va-data",
    description=(
        "No public S3 (public access blocks on, no public ACLs or policies); SQS, SNS, "
        "DynamoDB and Kinesis encrypted with SSE/KMS; RDS private and encrypted; DocumentDB "
        "and Neptune encrypted; ElastiCache encrypted at rest and in transit."
    ),
    remediation=(
        "Control Tower SCPs: no public S3, all data encrypted. Set all four public access "
        "block flags, drop public ACLs and policies, and set the KMS/SSE options named in "
        "the message."
    ),
    check=check,
    applies_to=frozenset(
        [
            PAB_TYPE,
            *BUCKET_TYPES,
            *ACL_TYPES,
            BUCKET_POLICY_TYPE,
            QUEUE_TYPE,
            TOPIC_TYPE,
            TABLE_TYPE,
            STREAM_TYPE,
            *resource_policies.TYPES,
            *rds.TYPES,
            *caches.TYPES,
        ]
    ).__contains__,
)
