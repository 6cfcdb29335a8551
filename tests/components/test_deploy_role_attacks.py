"""Attack review of issue 16: what a GitHub deploy session (``va-<env>-ghdeploy-role``) can make
of the IAM rights `pulumi up` needs, beyond what the program declares.

The program attaches exactly two kinds of managed policy: ``ReadOnlyAccess`` to the preview
role and the deploy role's own ``va-<env>-ghdeploy-<group>-policy``s to the deploy role. A
session that may attach any other (AdministratorAccess, or a policy of its own making) to a role
of the environment, its own included, is an administrator.
"""

from __future__ import annotations

import pytest

from tests.components.test_deploy_role import A, Request, allows, deploy_policy_of, stack_run

OWN_ROLE = f"arn:aws:iam::{A}:role/va-dev-ghdeploy-role"
OWN_POLICY = f"arn:aws:iam::{A}:policy/va-dev-ghdeploy-iam-policy"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def attach(role: str, policy_arn: str) -> Request:
    return Request("iam:AttachRolePolicy", role, (("iam:PolicyARN", policy_arn),))


@pytest.mark.parametrize(
    ("role", "policy_arn"),
    [
        pytest.param(OWN_ROLE, ADMIN, id="admin-to-itself"),
        pytest.param(f"arn:aws:iam::{A}:role/va-dev-contentgen-lambda-role", ADMIN, id="admin"),
        pytest.param(OWN_ROLE, f"arn:aws:iam::{A}:policy/va-dev-anything", id="own-making"),
    ],
)
def test_a_deploy_session_cannot_attach_a_policy_the_program_does_not_attach(role, policy_arn):
    assert not allows(deploy_policy_of(stack_run("dev")), attach(role, policy_arn))


def test_a_deploy_session_cannot_create_managed_policies_beyond_its_own():
    policy = deploy_policy_of(stack_run("dev"))
    assert not allows(
        policy, Request("iam:CreatePolicy", f"arn:aws:iam::{A}:policy/va-dev-anything")
    )


def test_a_deploy_session_may_attach_what_the_program_attaches():
    policy = deploy_policy_of(stack_run("dev"))
    preview = f"arn:aws:iam::{A}:role/va-dev-ghpreview-role"
    assert allows(policy, attach(OWN_ROLE, OWN_POLICY))
    assert allows(policy, attach(preview, "arn:aws:iam::aws:policy/ReadOnlyAccess"))


@pytest.mark.xfail(
    strict=True,
    reason="the deploy role is a resource of the stack it deploys: `pulumi up` updates its own "
    "policies (CreatePolicyVersion, which can also make the new version the default) and its "
    "trust policy; and it may put any inline policy on a role of the environment, its own "
    "included. A session can rewrite its own rights. Closing it needs the GitHub roles moved to "
    "a bootstrap stack an administrator runs, and a permissions boundary the deploy role cannot "
    "edit required (iam:PermissionsBoundary) on every role it creates, else an execution role "
    "with any policy passed to Lambda does the same: not a local change",
)
@pytest.mark.parametrize(
    "request_",
    [
        pytest.param(Request("iam:CreatePolicyVersion", OWN_POLICY), id="own-policy-version"),
        pytest.param(Request("iam:PutRolePolicy", OWN_ROLE), id="inline-policy-on-itself"),
        pytest.param(Request("iam:UpdateAssumeRolePolicy", OWN_ROLE), id="own-trust-policy"),
    ],
)
def test_a_deploy_session_cannot_change_its_own_permissions(request_):
    assert not allows(deploy_policy_of(stack_run("dev")), request_)
