"""Attacks on the pack's org-wide claim (issue 13): shapes a user writes with raw pulumi_aws that
break the standard and pass, or that the pack blocks with an untrue message.

Each test is one behaviour; each was a strict xfail naming its finding until the fix landed.
"""

from __future__ import annotations

import json

import pytest
from pulumi.runtime.rpc import UNKNOWN as ENGINE_UNKNOWN

from policies.va_guard import data, iam, network, region
from tests.policies.support import run
from tests.policies.test_resource_policies import ENCRYPTED, engine_props

QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE = "aws:iam/role:Role"
PERMISSION = "aws:lambda/permission:Permission"
FUNCTION_ARN = "arn:aws:lambda:eu-central-1:123456789012:function:va-dev-core-lambda"


def document(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def queue_policy_for_anyone(condition: dict) -> tuple[list[str], list[str]]:
    statement = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "sqs:SendMessage",
        "Resource": "*",
        "Condition": condition,
    }
    return run(
        data.FAMILY, QUEUE_POLICY, engine_props({**ENCRYPTED, "policy": document(statement)})
    )


def role_policy(statement: dict) -> tuple[list[str], list[str]]:
    return run(iam.FAMILY, ROLE_POLICY, engine_props({"role": "r", "policy": document(statement)}))


# --- va-iam ----------------------------------------------------------------------------------


def test_question_mark_wildcard_covering_a_whole_service_is_judged_like_service_star():
    found, _ = role_policy(
        {"Effect": "Allow", "Action": "iam:?*", "Resource": "arn:aws:iam::123456789012:*"}
    )
    assert any("iam:?*" in m for m in found), found


def test_s3_arn_wildcarding_every_bucket_is_judged_like_star():
    found, _ = role_policy(
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:DeleteObject"],
            "Resource": "arn:aws:s3:::*",
        }
    )
    assert found, "s3:GetObject/DeleteObject on arn:aws:s3:::* passed"


def test_trust_policy_for_star_narrowed_to_the_organization_is_not_called_open_to_anyone():
    trust = document(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}},
        }
    )
    found, _ = run(iam.FAMILY, ROLE, engine_props({"assumeRolePolicy": trust}))
    assert not any("any AWS principal" in m for m in found), found


def test_github_oidc_trust_without_a_subject_condition_is_a_violation():
    trust = document(
        {
            "Effect": "Allow",
            "Principal": {
                "Federated": "arn:aws:iam::123456789012:oidc-provider/"
                "token.actions.githubusercontent.com"
            },
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}
            },
        }
    )
    found, _ = run(iam.FAMILY, ROLE, engine_props({"assumeRolePolicy": trust}))
    assert found, "a trust policy any GitHub repository can use passed"


def test_identity_center_inline_policy_with_admin_statement_is_a_violation():
    type_ = "aws:ssoadmin/permissionSetInlinePolicy:PermissionSetInlinePolicy"
    admin = document({"Effect": "Allow", "Action": "*", "Resource": "*"})
    assert iam.FAMILY.applies(type_)
    found, _ = run(iam.FAMILY, type_, engine_props({"inlinePolicy": admin}))
    assert found


# --- va-data: resource policies and permissions ------------------------------------------


def test_for_all_values_condition_on_a_single_valued_key_does_not_narrow_anyone():
    found, _ = queue_policy_for_anyone(
        {"ForAllValues:StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}
    )
    assert found


def test_wildcard_organization_condition_does_not_narrow_anyone():
    found, _ = queue_policy_for_anyone({"StringLike": {"aws:PrincipalOrgID": "o-*"}})
    assert found


def test_question_mark_wildcard_account_condition_does_not_narrow_anyone():
    found, _ = queue_policy_for_anyone({"StringLike": {"aws:SourceAccount": "?*"}})
    assert found


def test_lambda_permission_for_a_service_with_a_wildcard_source_arn_is_a_violation():
    found, _ = run(
        data.FAMILY,
        PERMISSION,
        engine_props(
            {
                "function": FUNCTION_ARN,
                "action": "lambda:InvokeFunction",
                "principal": "s3.amazonaws.com",
                "sourceArn": "arn:aws:s3:::*",
            }
        ),
    )
    assert found


def test_layer_shared_with_every_account_is_a_violation():
    type_ = "aws:lambda/layerVersionPermission:LayerVersionPermission"
    assert data.FAMILY.applies(type_)
    found, _ = run(
        data.FAMILY,
        type_,
        engine_props(
            {
                "action": "lambda:GetLayerVersion",
                "layerName": "arn:aws:lambda:eu-central-1:1:layer:l",
                "principal": "*",
                "statementId": "public",
                "versionNumber": 1,
            }
        ),
    )
    assert found


# --- va-network ------------------------------------------------------------------------------


def test_ingress_from_half_the_internet_is_a_violation():
    found, _ = run(
        network.FAMILY,
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        engine_props({"securityGroupId": "sg-1", "cidrIpv4": "0.0.0.0/1", "ipProtocol": "-1"}),
    )
    assert found


# --- va-region -------------------------------------------------------------------------------


def test_aws_native_provider_outside_the_allowed_region_is_a_violation():
    type_ = "pulumi:providers:aws-native"
    assert region.FAMILY.applies(type_)
    found, _ = run(region.FAMILY, type_, engine_props({"region": "us-east-1"}))
    assert found


@pytest.mark.parametrize(
    ("type_", "props"),
    [
        pytest.param("aws:ec2/securityGroup:SecurityGroup",
                     {"ingress": [{"protocol": "tcp", "fromPort": 22, "toPort": 22,
                                   "cidrBlocks": ENGINE_UNKNOWN}]}, id="inline-cidrs-unknown"),
        pytest.param("aws:ec2/securityGroup:SecurityGroup",
                     {"ingress": [{"protocol": "tcp", "fromPort": 22, "toPort": 22,
                                   "cidrBlocks": [ENGINE_UNKNOWN]}]}, id="inline-cidr-unknown"),
        pytest.param("aws:ec2/securityGroupRule:SecurityGroupRule",
                     {"type": "ingress", "securityGroupId": "sg-1", "protocol": "tcp",
                      "fromPort": 22, "toPort": 22, "cidrBlocks": [ENGINE_UNKNOWN]},
                     id="standalone-cidr-unknown"),
    ],
)  # fmt: skip
def test_ingress_from_cidrs_not_known_yet_is_reported_unchecked(type_, props):
    found, notices = run(network.FAMILY, type_, engine_props(props))
    assert found == []
    assert any(n.startswith("unchecked:") for n in notices), notices
