"""The org-wide shapes over gRPC, as the engine sends them: the started pack, camelCase, sentinel."""

from __future__ import annotations

import json

import pytest
from pulumi.runtime.rpc import UNKNOWN as ENGINE_UNKNOWN

from va_platform import standard
from va_platform.preflight.analyzer import PolicyPackProcess, Provider, Subject

PROVIDER = Provider("pulumi:providers:aws", "urn:pulumi:dev::p::pulumi:providers:aws::default",
                    "default", {"region": "eu-central-1"})  # fmt: skip
TAGS = standard.standard_tags("dev", "core", "va-dev-core-queue", "platform-team")
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
PERMISSION = "aws:lambda/permission:Permission"
FUNCTION_ARN = "arn:aws:lambda:eu-central-1:123456789012:function:va-dev-core-lambda"


def subject(type_, props, name="thing"):
    return Subject(type_, name, f"urn:pulumi:dev::p::{type_}::{name}", props, provider=PROVIDER)


def queue_policy(condition):
    st = {"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "*"}
    if condition:
        st["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [st]})


@pytest.fixture(scope="module")
def pack():
    with PolicyPackProcess() as process:
        yield process


def levels(diagnostics):
    return [(d.policy, d.level) for d in diagnostics]


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        pytest.param({"policy": queue_policy(None)}, [("va-data", "mandatory")], id="open"),
        pytest.param({"policy": queue_policy({"ArnEquals": {"aws:SourceArn": "arn:aws:sns:eu-central-1:1:t"}})}, [], id="narrowed"),
        pytest.param({"policy": ENGINE_UNKNOWN}, [("va-notices", "advisory")], id="unknown"),
    ],
)  # fmt: skip
def test_queue_policy_open_to_anyone_over_grpc(pack, props, expected):
    props = {"queueUrl": ENGINE_UNKNOWN, **props}
    assert levels(pack.analyze(subject(QUEUE_POLICY, props))) == expected


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        pytest.param({"principal": "s3.amazonaws.com"}, [("va-data", "mandatory")], id="no-source"),
        pytest.param({"principal": "s3.amazonaws.com", "sourceArn": ENGINE_UNKNOWN}, [], id="source-unknown-yet"),
    ],
)  # fmt: skip
def test_lambda_permission_for_a_service_over_grpc(pack, props, expected):
    props = {"function": FUNCTION_ARN, "action": "lambda:InvokeFunction", **props}
    assert levels(pack.analyze(subject(PERMISSION, props))) == expected


def test_public_rds_instance_over_grpc(pack):
    props = {"identifier": "va-dev-core-db", "publiclyAccessible": True, "storageEncrypted": True,
             "tags": {**TAGS, "Name": "va-dev-core-db"}}  # fmt: skip
    found = [d for d in pack.analyze(subject("aws:rds/instance:Instance", props, name="db"))
             if d.level == "mandatory"]  # fmt: skip
    assert [(d.policy, "publiclyAccessible=true" in d.detail) for d in found] == [("va-data", True)]
