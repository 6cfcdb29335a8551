"""va-iam: actions, '*' resources, admin-like attachments, trust policies; JSON or objects."""

from __future__ import annotations

import json

import pytest

from policies.va_guard import iam
from policies.va_guard.props import UNKNOWN
from tests.policies.support import run, violations

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


def test_trust_policy_open_to_everyone_is_a_violation():
    trust = doc({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"})
    (message,) = violations(
        iam.FAMILY, "aws:iam/role:Role", {"assumeRolePolicy": json.dumps(trust)}
    )
    assert "lets any AWS principal ('*') assume this role" in message


def test_document_that_is_not_json_is_a_violation():
    (message,) = violations(iam.FAMILY, "aws:iam/policy:Policy", {"policy": "{not json"})
    assert "is not a JSON policy document" in message


@pytest.mark.parametrize(
    "actions",
    [
        ["ssmmessages:CreateControlChannel", "ssmmessages:OpenControlChannel"],
        ["sns:Unsubscribe", "lambda:ListLayerVersions"],
    ],
    ids=["ssm-session-channels", "sns-unsubscribe-and-lambda-list-layer-versions"],
)
def test_star_resource_for_actions_aws_lists_no_resource_types_for_passes(actions):
    policy = json.dumps(doc(allow(actions, "*")))
    assert violations(iam.FAMILY, ROLE_POLICY, {"policy": policy}) == []


def test_unknown_action_on_star_is_named_as_unknown():
    policy = json.dumps(doc(allow("s3:GetObjekt", "*")))
    (message,) = violations(iam.FAMILY, ROLE_POLICY, {"policy": policy})
    assert "grants s3:GetObjekt (unknown in AWS's Service Authorization Reference" in message


def test_wildcard_action_on_star_is_named_as_a_wildcard():
    policy = json.dumps(doc(allow("ec2:Describe*", "*")))
    (message,) = violations(iam.FAMILY, ROLE_POLICY, {"policy": policy})
    assert "grants ec2:Describe* (a wildcard over " in message
    assert "of which take resource ARNs" in message


def test_wildcard_action_covering_only_actions_without_resource_types_passes_on_star():
    policy = json.dumps(doc(allow("xray:PutT*", "*")))
    assert violations(iam.FAMILY, ROLE_POLICY, {"policy": policy}) == []


@pytest.mark.parametrize(
    ("resource", "is_violation"),
    [
        ("arn:aws:logs:*:*:*", True),
        ("arn:aws:logs:eu-central-1:*:log-group:*", True),
        ("arn:aws:logs:*:123456789012:log-group:*", True),
        ("arn:aws:logs:eu-central-1:123456789012:log-group:/aws/lambda/va-dev-x-lambda:*", False),
    ],
    ids=["region-and-account", "account", "region", "named-log-group"],
)
def test_arn_wildcarding_region_or_account_is_judged_like_star(resource, is_violation):
    policy = json.dumps(doc(allow(["logs:CreateLogStream", "logs:PutLogEvents"], resource)))
    found = violations(iam.FAMILY, ROLE_POLICY, {"policy": policy})
    assert bool(found) is is_violation
    if is_violation:
        assert "wildcards the region or account (as broad as '*')" in found[0]


def test_action_scoped_to_arns_it_does_not_take_is_a_notice_not_a_violation():
    policy = json.dumps(doc(allow("sns:Unsubscribe", "arn:aws:sns:eu-central-1:1:va-dev-x")))
    found, notices = run(iam.FAMILY, ROLE_POLICY, {"policy": policy})
    assert found == []
    assert "lists no resource types for it, so AWS denies it on any ARN" in notices[0]


def test_unknown_action_on_named_arns_is_a_notice_naming_it():
    policy = json.dumps(doc(allow("dynamodb:PutItems", "arn:aws:dynamodb:eu-central-1:1:table/t")))
    found, notices = run(iam.FAMILY, ROLE_POLICY, {"policy": policy})
    assert found == []
    assert (
        "grants dynamodb:PutItems (unknown in AWS's Service Authorization Reference" in (notices[0])
    )


ADMIN_LIKE = ["AdministratorAccess", "PowerUserAccess", "IAMFullAccess", "AmazonS3FullAccess",
              "AWSLambda_FullAccess"]  # fmt: skip
ATTACHMENTS = {
    "role-attachment": ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "policyArn", False),
    "role-managed-arns": ("aws:iam/role:Role", "managedPolicyArns", True),
    "role-exclusive": ("aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
                       "policyArns", True),
    "user-attachment": ("aws:iam/userPolicyAttachment:UserPolicyAttachment", "policyArn", False),
    "user-exclusive": ("aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive",
                       "policyArns", True),
    "group-attachment": ("aws:iam/groupPolicyAttachment:GroupPolicyAttachment", "policyArn", False),
    "group-exclusive": ("aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive",
                        "policyArns", True),
    "sso-permission-set": ("aws:ssoadmin/managedPolicyAttachment:ManagedPolicyAttachment",
                           "managedPolicyArn", False),
    "sso-permission-set-exclusive": (
        "aws:ssoadmin/managedPolicyAttachmentsExclusive:ManagedPolicyAttachmentsExclusive",
        "managedPolicyArns", True),
}  # fmt: skip


def attachment(kind, arn):
    type_, prop, is_list = ATTACHMENTS[kind]
    return type_, {prop: [arn] if is_list else arn}


@pytest.mark.parametrize("kind", ATTACHMENTS)
@pytest.mark.parametrize("name", ADMIN_LIKE)
def test_aws_managed_admin_or_full_access_attachment_is_a_violation(kind, name):
    arn = f"arn:aws:iam::aws:policy/{name}"
    (message,) = violations(iam.FAMILY, *attachment(kind, arn))
    assert f"attaches {arn}, far more than one workload needs" in message


@pytest.mark.parametrize("kind", ATTACHMENTS)
@pytest.mark.parametrize(
    "arn",
    ["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::123456789012:policy/S3FullAccess"],
    ids=["aws-read-only", "customer-managed"],
)
def test_read_only_or_customer_managed_attachment_passes(kind, arn):
    assert violations(iam.FAMILY, *attachment(kind, arn)) == []


# --- the workload boundary on every role Lambda or the Scheduler assumes (issue 22) ----------

ROLE = "aws:iam/role:Role"
BOUNDARY = "arn:aws:iam::123456789012:policy/va-dev-workload-boundary"


def service_trust(*services):
    return json.dumps(
        doc(
            {
                "Effect": "Allow",
                "Principal": {"Service": list(services) if len(services) > 1 else services[0]},
                "Action": "sts:AssumeRole",
            }
        )
    )


def role(
    services=("lambda.amazonaws.com",), boundary=BOUNDARY, name="va-dev-orders-lambda-role", **extra
):
    props = {"name": name, "assumeRolePolicy": service_trust(*services), **extra}
    if boundary is not None:
        props["permissionsBoundary"] = boundary
    return props


@pytest.mark.parametrize(
    "services",
    [
        ("lambda.amazonaws.com",),
        ("scheduler.amazonaws.com",),
        ("events.amazonaws.com", "lambda.amazonaws.com"),
    ],
    ids=["lambda", "scheduler", "lambda-among-others"],
)
def test_a_workload_role_without_the_boundary_is_a_violation(services):
    (message,) = violations(iam.FAMILY, ROLE, role(services, boundary=None))
    assert "carries no permissions boundary" in message
    assert (
        "set permissionsBoundary to arn:aws:iam::<account>:policy/va-dev-workload-boundary"
        in message
    )


@pytest.mark.parametrize(
    "boundary",
    [
        "arn:aws:iam::123456789012:policy/va-prod-workload-boundary",
        "arn:aws:iam::123456789012:policy/anything-goes",
        "arn:aws:iam::aws:policy/AdministratorAccess",
    ],
    ids=["another-environments", "another-policy", "aws-managed"],
)
def test_a_workload_role_with_another_boundary_is_a_violation(boundary):
    (message,) = violations(iam.FAMILY, ROLE, role(boundary=boundary))
    assert f"carries the permissions boundary '{boundary}', not va-dev-workload-boundary" in message


@pytest.mark.parametrize("services", [("lambda.amazonaws.com",), ("scheduler.amazonaws.com",)])
def test_a_workload_role_with_its_environments_boundary_passes(services):
    assert run(iam.FAMILY, ROLE, role(services)) == ([], [])


def test_the_environment_comes_from_the_tags_when_the_name_is_not_a_va_name():
    props = role(
        boundary=None,
        name="orders-fn-role",
        tags={"Environment": "prod", "Project": "VirtualAgentics"},
    )
    (message,) = violations(iam.FAMILY, ROLE, props)
    assert "va-prod-workload-boundary" in message


@pytest.mark.parametrize(
    "props",
    [
        role(("ecs-tasks.amazonaws.com",), boundary=None),
        {"name": "va-dev-ghdeploy-role", "assumeRolePolicy": json.dumps(doc({
            "Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::1:oidc-provider/x"},
            "Action": "sts:AssumeRoleWithWebIdentity"}))},
        role(boundary=None, name="someone-elses-role"),
    ],
    ids=["other-service", "ci-identity", "not-a-va-role"],
)  # fmt: skip
def test_roles_no_va_workload_assumes_need_no_boundary(props):
    assert violations(iam.FAMILY, ROLE, props) == []


@pytest.mark.parametrize(
    ("props", "what"),
    [
        (role(boundary=UNKNOWN), "the role's permissions boundary (permissionsBoundary)"),
        ({"name": "va-dev-orders-lambda-role", "assumeRolePolicy": UNKNOWN}, "the trust policy"),
    ],
    ids=["boundary-unknown", "trust-unknown"],
)
def test_a_boundary_or_trust_unknown_in_preview_is_unchecked_not_a_violation(props, what):
    found, notices = run(iam.FAMILY, ROLE, props)
    assert found == []
    assert any(n.startswith(f"unchecked: could not check {what}") for n in notices), notices
