"""va-data: no public S3; SQS, SNS and DynamoDB encrypted."""

from __future__ import annotations

import json

import pytest

from policies.va_guard import data
from tests.policies.support import violations

ALL_ON = dict.fromkeys(data.PAB_FLAGS, True)


def test_public_access_block_with_all_flags_passes():
    assert violations(data.FAMILY, data.PAB_TYPE, {"bucket": "b", **ALL_ON}) == []


def test_public_access_block_with_a_flag_off_is_a_violation():
    (message,) = violations(data.FAMILY, data.PAB_TYPE, {**ALL_ON, "blockPublicPolicy": False})
    assert "leaves blockPublicPolicy off" in message


@pytest.mark.parametrize("type_", [data.ACL_TYPES[0], data.BUCKET_TYPES[0]])
def test_public_canned_acl_is_a_violation(type_):
    (message,) = violations(data.FAMILY, type_, {"acl": "public-read"})
    assert "acl='public-read' makes the bucket public" in message


def test_bucket_policy_allowing_everyone_is_a_violation():
    st = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::b/*",
    }
    props = {"policy": json.dumps({"Statement": [st]})}
    (message,) = violations(data.FAMILY, data.BUCKET_POLICY_TYPE, props)
    assert "lets anyone (Principal '*') in" in message


def test_bucket_policy_denying_everyone_passes():
    st = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}
    assert (
        violations(
            data.FAMILY, data.BUCKET_POLICY_TYPE, {"policy": json.dumps({"Statement": [st]})}
        )
        == []
    )


@pytest.mark.parametrize(("type_", "props"), [
    (data.QUEUE_TYPE, {"sqsManagedSseEnabled": True}),
    (data.QUEUE_TYPE, {"kmsMasterKeyId": "alias/aws/sqs"}),
    (data.TOPIC_TYPE, {"kmsMasterKeyId": "arn:aws:kms:eu-central-1:1:key/k"}),
    (data.TABLE_TYPE, {"serverSideEncryption": {"enabled": True}}),
], ids=["sqs-sse", "sqs-kms", "sns-kms", "dynamodb-kms"])  # fmt: skip
def test_encrypted_queue_topic_table_pass(type_, props):
    assert violations(data.FAMILY, type_, props) == []


@pytest.mark.parametrize(("type_", "props"), [
    (data.QUEUE_TYPE, {"sqsManagedSseEnabled": False}),
    (data.TOPIC_TYPE, {}),
    (data.TABLE_TYPE, {}),
], ids=["sqs-sse-off", "sns", "dynamodb"])  # fmt: skip
def test_unencrypted_queue_topic_table_are_violations(type_, props):
    (message,) = violations(data.FAMILY, type_, props)
    assert "encrypt" in message or "AWS-owned key" in message


def test_queue_with_the_aws_default_sqs_managed_encryption_passes():
    # AWS enables SQS-managed SSE on new queues unless sqsManagedSseEnabled is set to false.
    assert violations(data.FAMILY, data.QUEUE_TYPE, {"name": "va-dev-core-queue"}) == []
