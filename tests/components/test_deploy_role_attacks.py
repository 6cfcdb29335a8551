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


def test_a_deploy_session_may_attach_what_the_program_attaches_to_the_preview_role():
    """Its own policies are attached by an administrator (see below); the preview role's
    ReadOnlyAccess by the deploy role."""
    policy = deploy_policy_of(stack_run("dev"))
    preview = f"arn:aws:iam::{A}:role/va-dev-ghpreview-role"
    assert allows(policy, attach(preview, "arn:aws:iam::aws:policy/ReadOnlyAccess"))


@pytest.mark.parametrize(
    "request_",
    [
        pytest.param(Request("iam:CreatePolicyVersion", OWN_POLICY), id="own-policy-version"),
        pytest.param(Request("iam:PutRolePolicy", OWN_ROLE), id="inline-policy-on-itself"),
        pytest.param(Request("iam:UpdateAssumeRolePolicy", OWN_ROLE), id="own-trust-policy"),
        pytest.param(attach(OWN_ROLE, OWN_POLICY), id="attach-to-itself"),
        pytest.param(Request("iam:SetDefaultPolicyVersion", OWN_POLICY), id="default-version"),
    ],
)
def test_a_deploy_session_cannot_change_its_own_permissions(request_):
    """Even with the actions allowed on the environment's roles and its own policies, an
    explicit Deny on its own role and policies wins (deploy_policy.py NeverItsOwn*)."""
    assert not allows(deploy_policy_of(stack_run("dev")), request_)


@pytest.mark.xfail(
    strict=True,
    reason="open: the deploy role may put any inline policy on an execution role of the "
    "environment (`pulumi up` writes each function's policy) and pass that role to Lambda. "
    "Bounding it needs a permissions boundary the deploy role cannot edit on every role the "
    "stack creates, required by an iam:PermissionsBoundary condition on CreateRole and "
    "PutRolePolicy: a design step (bootstrap of the boundary by an administrator)",
)
def test_a_deploy_session_cannot_write_a_role_policy_without_the_boundary():
    """A PutRolePolicy on an execution role that carries no permissions boundary is refused."""
    role = f"arn:aws:iam::{A}:role/va-dev-contentgen-lambda-role"
    assert not allows(deploy_policy_of(stack_run("dev")), Request("iam:PutRolePolicy", role))


def test_a_deploy_session_cannot_attach_a_policy_named_like_its_own_to_another_role():
    """Its own policies are an administrator's (it may neither create nor attach them): a
    session may not make a ``va-<env>-ghdeploy-x-policy`` and attach it to an execution role."""
    policy = deploy_policy_of(stack_run("dev"))
    made = f"arn:aws:iam::{A}:policy/va-dev-ghdeploy-x-policy"
    role = f"arn:aws:iam::{A}:role/va-dev-contentgen-lambda-role"
    assert (
        allows(policy, Request("iam:CreatePolicy", made)),
        allows(policy, attach(role, made)),
    ) == (
        False,
        False,
    )
