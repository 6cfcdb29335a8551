"""Org-wide: resource policies and Lambda permissions that let anyone in, RDS public or unencrypted.

Judged by va-data ("nothing public, all encrypted"), as the engine sends them: camelCase
properties, policies as JSON strings, unknown values as the engine's sentinel.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pulumi.runtime.rpc import UNKNOWN as ENGINE_UNKNOWN
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import unknown_checking_proxy

from policies.va_guard import data, rds, resource_policies
from tests.policies.support import run

# Resource type -> the property holding its resource policy (pulumi-aws v7).
POLICY_HOLDERS = {
    "ecr-repository-policy": "aws:ecr/repositoryPolicy:RepositoryPolicy",
    "sqs-queue-policy": "aws:sqs/queuePolicy:QueuePolicy",
    "sqs-queue": "aws:sqs/queue:Queue",
    "sns-topic-policy": "aws:sns/topicPolicy:TopicPolicy",
    "sns-topic": "aws:sns/topic:Topic",
    "kms-key": "aws:kms/key:Key",
    "kms-key-policy": "aws:kms/keyPolicy:KeyPolicy",
    "secret-policy": "aws:secretsmanager/secretPolicy:SecretPolicy",
    "s3-bucket-policy": "aws:s3/bucketPolicy:BucketPolicy",
    "s3-bucket": "aws:s3/bucket:Bucket",
}
# What the rest of such a resource needs to pass va-data (encryption of queues and topics).
ENCRYPTED = {"sqsManagedSseEnabled": True, "kmsMasterKeyId": "alias/va-dev-core-key"}
PERMISSION = "aws:lambda/permission:Permission"
FUNCTION_ARN = "arn:aws:lambda:eu-central-1:123456789012:function:va-dev-core-lambda"


def engine_props(props):
    """Properties as the SDK hands them to a policy: deserialized, behind the unknown proxy."""
    return unknown_checking_proxy(deserialize_properties(props))


def policy(principal, condition=None, effect="Allow"):
    st = {"Effect": effect, "Principal": principal, "Action": "sqs:SendMessage", "Resource": "*"}
    if condition is not None:
        st["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [st]})


def findings(type_, props):
    return run(data.FAMILY, type_, engine_props({**ENCRYPTED, **props}))


OPEN = [
    pytest.param("*", None, id="principal-star"),
    pytest.param({"AWS": "*"}, None, id="aws-star"),
    pytest.param({"AWS": ["arn:aws:iam::123456789012:root", "*"]}, None, id="aws-star-in-list"),
    pytest.param("*", {"StringNotEquals": {"aws:SourceAccount": "1"}}, id="negated-condition"),
    pytest.param("*", {"StringEqualsIfExists": {"aws:SourceAccount": "1"}}, id="if-exists"),
    pytest.param("*", {"StringLike": {"aws:PrincipalOrgID": "*"}}, id="condition-matching-all"),
]
NARROWED = [
    pytest.param("*", {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}, id="org-id"),
    pytest.param("*", {"ArnLike": {"aws:SourceArn": "arn:aws:sns:eu-central-1:1:t"}}, id="arn"),
    pytest.param({"AWS": "*"}, {"StringEquals": {"AWS:SourceAccount": "1"}}, id="account"),
    pytest.param("*", {"StringEquals": {"aws:SourceVpce": "vpce-1"}}, id="vpc-endpoint"),
    pytest.param({"AWS": "arn:aws:iam::123456789012:root"}, None, id="named-account"),
    pytest.param({"Service": "cloudwatch.amazonaws.com"}, None, id="service"),
]


@pytest.mark.parametrize("type_", POLICY_HOLDERS.values(), ids=POLICY_HOLDERS.keys())
@pytest.mark.parametrize(("principal", "condition"), OPEN)
def test_resource_policy_open_to_anyone_is_a_violation(type_, principal, condition):
    found, _ = findings(type_, {"policy": policy(principal, condition)})
    (message,) = found
    assert "lets anyone (Principal '*') in without a condition that narrows it" in message


@pytest.mark.parametrize("type_", POLICY_HOLDERS.values(), ids=POLICY_HOLDERS.keys())
@pytest.mark.parametrize(("principal", "condition"), NARROWED)
def test_resource_policy_narrowed_or_named_passes(type_, principal, condition):
    assert findings(type_, {"policy": policy(principal, condition)}) == ([], [])


def test_deny_for_anyone_is_not_judged():
    found, _ = findings(POLICY_HOLDERS["sqs-queue-policy"], {"policy": policy("*", None, "Deny")})
    assert found == []


@pytest.mark.parametrize("type_", POLICY_HOLDERS.values(), ids=POLICY_HOLDERS.keys())
def test_resource_policy_not_known_yet_is_an_unchecked_notice(type_):
    found, notices = findings(type_, {"policy": ENGINE_UNKNOWN})
    assert found == []
    assert any(
        n.startswith("unchecked: could not check the resource policy (policy)") for n in notices
    )


@pytest.mark.parametrize(
    "props",
    [
        pytest.param({"principal": "*"}, id="anyone"),
        pytest.param({"principal": "*", "functionUrlAuthType": "NONE"}, id="public-function-url"),
        pytest.param({"principal": "s3.amazonaws.com"}, id="service-without-source"),
        pytest.param({"principal": "events.amazonaws.com", "sourceArn": None}, id="source-null"),
    ],
)
def test_lambda_permission_open_to_anyone_or_any_account_of_a_service_is_a_violation(props):
    found, _ = run(data.FAMILY, PERMISSION, engine_props({"function": FUNCTION_ARN, "action": "lambda:InvokeFunction", **props}))  # fmt: skip
    (message,) = found
    assert "invoke the function" in message


@pytest.mark.parametrize(
    "props",
    [
        pytest.param({"principal": "s3.amazonaws.com", "sourceArn": "arn:aws:s3:::b"}, id="arn"),
        pytest.param({"principal": "s3.amazonaws.com", "sourceAccount": "1"}, id="account"),
        pytest.param({"principal": "sns.amazonaws.com", "sourceArn": ENGINE_UNKNOWN}, id="arn-unknown-yet"),
        pytest.param({"principal": "*", "principalOrgId": "o-abc123"}, id="org"),
        pytest.param({"principal": "123456789012"}, id="account-principal"),
    ],
)  # fmt: skip
def test_lambda_permission_narrowed_passes(props):
    found, _ = run(data.FAMILY, PERMISSION, engine_props({"function": FUNCTION_ARN, "action": "lambda:InvokeFunction", **props}))  # fmt: skip
    assert found == []


def test_lambda_permission_with_principal_not_known_yet_is_unchecked():
    found, notices = run(data.FAMILY, PERMISSION, engine_props({"function": FUNCTION_ARN, "principal": ENGINE_UNKNOWN}))  # fmt: skip
    assert found == []
    assert notices[0].startswith(
        "unchecked: could not check who may invoke the function (principal)"
    )


RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_CLUSTER = "aws:rds/cluster:Cluster"


@pytest.mark.parametrize(
    ("type_", "props", "expected"),
    [
        pytest.param(RDS_INSTANCE, {"publiclyAccessible": True, "storageEncrypted": True}, "publiclyAccessible=true", id="instance-public"),
        pytest.param(RDS_INSTANCE, {"storageEncrypted": False}, "storage is not encrypted", id="instance-unencrypted"),
        pytest.param(RDS_INSTANCE, {}, "storage is not encrypted", id="instance-encryption-unset"),
        pytest.param(RDS_CLUSTER, {"publiclyAccessible": True, "storageEncrypted": True}, "publiclyAccessible=true", id="cluster-public"),
        pytest.param(RDS_CLUSTER, {"engine": "aurora-postgresql"}, "storage is not encrypted", id="cluster-unencrypted"),
    ],
)  # fmt: skip
def test_rds_public_or_unencrypted_is_a_violation(type_, props, expected):
    found, _ = run(data.FAMILY, type_, engine_props(props))
    (message,) = found
    assert expected in message


@pytest.mark.parametrize(
    ("type_", "props"),
    [
        pytest.param(RDS_INSTANCE, {"publiclyAccessible": False, "storageEncrypted": True}, id="instance"),
        pytest.param(RDS_INSTANCE, {"clusterIdentifier": "va-dev-core-db"}, id="aurora-instance"),
        pytest.param(RDS_CLUSTER, {"storageEncrypted": True}, id="cluster"),
        pytest.param(RDS_CLUSTER, {"engineMode": "serverless"}, id="serverless-v1-encrypted-by-default"),
    ],
)  # fmt: skip
def test_rds_private_and_encrypted_passes(type_, props):
    assert run(data.FAMILY, type_, engine_props(props)) == ([], [])


def test_rds_flag_not_known_yet_is_unchecked():
    found, notices = run(data.FAMILY, RDS_INSTANCE, engine_props({"storageEncrypted": ENGINE_UNKNOWN}))  # fmt: skip
    assert found == []
    assert notices[0].startswith("unchecked: could not check storage encryption (storageEncrypted)")


_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=12),
              st.sampled_from(["*", "Allow", "Deny", "aws:SourceArn", "StringEquals",
                               "s3.amazonaws.com", "serverless", ENGINE_UNKNOWN])),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(["Statement", "Effect", "Principal", "AWS",
                                                             "Condition", "StringEquals",
                                                             "aws:SourceArn", "Sid"]), inner, max_size=4)),
    max_leaves=12,
)  # fmt: skip
_keys = st.sampled_from(["policy", "principal", "sourceArn", "sourceAccount", "principalOrgId",
                         "eventSourceToken", "publiclyAccessible", "storageEncrypted",
                         "engineMode", "clusterIdentifier", "replicateSourceDb"])  # fmt: skip
_policy_text = _values.map(json.dumps)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    type_=st.sampled_from(sorted([*resource_policies.TYPES, *rds.TYPES])),
    props=st.dictionaries(_keys, st.one_of(_values, _policy_text), max_size=5),
)
def test_org_wide_rules_never_crash_on_any_shape(type_, props):
    _, notices = run(data.FAMILY, type_, engine_props(props))
    assert not [n for n in notices if "internal error" in n]
