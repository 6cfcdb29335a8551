"""The trust perimeter (org/trust.py): an RCP that confines role assumption in the platform's
accounts to this organisation and this repository's GitHub workflows, whatever a role's trust
policy says (ADR 0005). Issue 22: a deploy session could write a trust policy naming an outside
account, or admit another repository's workflows; the RCP refuses both assumptions."""

from __future__ import annotations

import json

import pytest

from org.trust import trust_perimeter_policy
from tests.iam_eval import Request, effects
from tests.org.test_org import REPO, org_config, run_org

ORG_ID = "o-abcdefghij"
ROLE = "arn:aws:iam::123456789012:role/va-dev-contentgen-lambda-role"
SUB = "token.actions.githubusercontent.com:sub"
# The role pull requests assume (GitHub's tokens assume the CI roles only).
PREVIEW = "arn:aws:iam::123456789012:role/va-dev-ghpreview-role"


def refused(request: Request) -> bool:
    return "Deny" in effects([trust_perimeter_policy(ORG_ID, REPO)], request)


@pytest.mark.parametrize(
    "context",
    [
        pytest.param((("aws:PrincipalOrgID", "o-outsider00"), ("aws:PrincipalIsAWSService", "false")), id="other-org"),
        pytest.param((("aws:PrincipalIsAWSService", "false"),), id="no-org"),
    ],
)  # fmt: skip
def test_a_role_cannot_be_assumed_from_outside_the_organization(context):
    assert refused(Request("sts:AssumeRole", ROLE, context))


def test_a_role_may_be_assumed_inside_the_organization_and_by_aws_services():
    inside = (("aws:PrincipalOrgID", ORG_ID), ("aws:PrincipalIsAWSService", "false"))
    assert not refused(Request("sts:AssumeRole", ROLE, inside))
    assert not refused(Request("sts:AssumeRole", ROLE, (("aws:PrincipalIsAWSService", "true"),)))


def test_another_repositorys_workflows_are_refused_even_by_a_role_that_trusts_github():
    other = Request(
        "sts:AssumeRoleWithWebIdentity", ROLE, ((SUB, "repo:someone/else:pull_request"),)
    )
    ours = Request("sts:AssumeRoleWithWebIdentity", PREVIEW, ((SUB, f"repo:{REPO}:pull_request"),))
    assert (refused(other), refused(ours)) == (True, False)


def test_a_repository_whose_name_extends_ours_is_refused():
    extended = Request(
        "sts:AssumeRoleWithWebIdentity", ROLE, ((SUB, f"repo:{REPO}-fork:ref:refs/heads/main"),)
    )
    assert refused(extended)


def test_saml_federation_is_refused():
    assert refused(Request("sts:AssumeRoleWithSAML", ROLE))


def test_org_attaches_the_perimeter_to_the_configured_targets():
    config = {
        **org_config(),
        "va-org:awsOrganizationId": ORG_ID,
        "va-org:awsTrustTargets": ["ou-ab12-platform0"],
    }
    run = run_org(config)
    assert run.error is None, run.error
    (policy,) = run.of_type("aws:organizations/policy:Policy")
    (attachment,) = run.of_type("aws:organizations/policyAttachment:PolicyAttachment")
    assert policy.inputs["type"] == "RESOURCE_CONTROL_POLICY"
    assert json.loads(policy.inputs["content"]) == trust_perimeter_policy(ORG_ID, REPO)
    assert attachment.inputs["targetId"] == "ou-ab12-platform0"


def test_org_declares_no_perimeter_without_an_organization():
    run = run_org(org_config())
    assert run.of_type("aws:organizations/policy:Policy") == []
