"""va-iam: actions, '*' resources, admin-like attachments, trust policies; JSON or objects."""

from __future__ import annotations

import json

import pytest

from policies.va_guard import iam
from tests.policies.support import violations

ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


def doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action, resource):
    return {"Effect": "Allow", "Action": action, "Resource": resource}


LEAST = doc(
    allow(["dynamodb:PutItem"], "arn:aws:dynamodb:eu-central-1:1:table/va-dev-core-dynamodb"),
    allow(["ec2:DescribeNetworkInterfaces"], "*"),
)


@pytest.mark.parametrize("as_json", [True, False], ids=["json-string", "object"])
def test_least_privilege_document_passes(as_json):
    policy = json.dumps(LEAST) if as_json else LEAST
    assert violations(iam.FAMILY, ROLE_POLICY, {"policy": policy}) == []


@pytest.mark.parametrize("action", ["*", "s3:*"])
def test_wildcard_action_is_a_violation(action):
    (message,) = violations(
        iam.FAMILY, ROLE_POLICY, {"policy": json.dumps(doc(allow(action, "arn:aws:s3:::b")))}
    )
    assert f"grants {action}; name the actions" in message


def test_star_resource_for_an_action_with_resource_level_permissions_is_a_violation():
    (message,) = violations(
        iam.FAMILY, ROLE_POLICY, {"policy": json.dumps(doc(allow("s3:GetObject", "*")))}
    )
    assert "grants s3:GetObject on Resource '*'" in message


def test_not_action_allow_is_a_violation():
    st = {"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::b"}
    (message,) = violations(iam.FAMILY, ROLE_POLICY, {"policy": json.dumps(doc(st))})
    assert "uses NotAction" in message


def test_deny_statements_are_not_judged():
    st = {"Effect": "Deny", "Action": "*", "Resource": "*"}
    assert violations(iam.FAMILY, ROLE_POLICY, {"policy": json.dumps(doc(st))}) == []


def test_role_inline_policy_is_checked():
    props = {"inlinePolicies": [{"name": "wide", "policy": json.dumps(doc(allow("*", "*")))}]}
    (message,) = violations(iam.FAMILY, "aws:iam/role:Role", props)
    assert message.startswith("inline policy 'wide': Allow statement grants *")


@pytest.mark.parametrize("name", ["AdministratorAccess", "PowerUserAccess", "IAMFullAccess"])
def test_admin_like_managed_policy_attachment_is_a_violation(name):
    props = {"policyArn": f"arn:aws:iam::aws:policy/{name}", "role": "r"}
    (message,) = violations(iam.FAMILY, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", props)
    assert f"attaches arn:aws:iam::aws:policy/{name}" in message


def test_trust_policy_open_to_everyone_is_a_violation():
    trust = doc({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"})
    (message,) = violations(
        iam.FAMILY, "aws:iam/role:Role", {"assumeRolePolicy": json.dumps(trust)}
    )
    assert "lets any AWS principal ('*') assume this role" in message


def test_document_that_is_not_json_is_a_violation():
    (message,) = violations(iam.FAMILY, "aws:iam/policy:Policy", {"policy": "{not json"})
    assert "is not a JSON policy document" in message


def test_partial_wildcard_action_on_star_is_named_as_a_wildcard():
    (message,) = violations(
        iam.FAMILY, ROLE_POLICY, {"policy": json.dumps(doc(allow("ec2:Describe*", "*")))}
    )
    assert "the wildcard action ec2:Describe*" in message
    assert "these actions support resource-level permissions" not in message
