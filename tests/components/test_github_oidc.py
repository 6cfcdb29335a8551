"""VaGithubOidcRole: GitHub's way into an environment's account, by OIDC and nothing else."""

from __future__ import annotations

import json

import pytest

from tests.support import CTX
from va_platform.components.context import VaContext
from va_platform.components.github import VaGithubOidcRole, VaGithubOidcRoleArgs
from va_platform.components.github.deploy_policy import EC2_CREATED, deploy_policies
from va_platform.preflight.runner import Run, run_under_mocks

REPO = "virtualagentics/va-platform"
ACCOUNT = "123456789012"


def build(ctx: VaContext = CTX) -> Run:
    args = VaGithubOidcRoleArgs(ctx, REPO, "eu-central-1", ACCOUNT)
    run = run_under_mocks(lambda: VaGithubOidcRole("github", args))
    assert run.error is None, run.error
    return run


@pytest.fixture(scope="module")
def dev() -> Run:
    return build()


@pytest.fixture(scope="module")
def prod() -> Run:
    return build(VaContext(environment="prod", owner="platform-team"))


def trust(run: Run, role: str) -> dict:
    doc = json.loads(run.named(f"github-{role}-role").inputs["assumeRolePolicy"])
    (statement,) = doc["Statement"]
    return statement


def test_provider_is_github_for_sts_only(dev):
    provider = dev.named("github-provider").inputs

    assert provider["url"] == "https://token.actions.githubusercontent.com"
    assert provider["clientIdLists"] == ["sts.amazonaws.com"]


def test_roles_are_assumable_only_by_web_identity_from_the_provider(dev):
    for role in ("preview", "deploy"):
        st = trust(dev, role)
        assert st["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert st["Principal"] == {
            "Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
        }
        assert st["Condition"]["StringEquals"]["token.actions.githubusercontent.com:aud"] == (
            "sts.amazonaws.com"
        )


def test_preview_role_trusts_only_pull_requests_of_the_repository(dev):
    subjects = trust(dev, "preview")["Condition"]["StringEquals"]
    assert subjects["token.actions.githubusercontent.com:sub"] == [f"repo:{REPO}:pull_request"]


def test_dev_deploy_role_trusts_only_main(dev):
    subjects = trust(dev, "deploy")["Condition"]["StringEquals"]
    assert subjects["token.actions.githubusercontent.com:sub"] == [
        f"repo:{REPO}:ref:refs/heads/main"
    ]


def test_prod_deploy_role_trusts_only_the_prod_environment(prod):
    subjects = trust(prod, "deploy")["Condition"]["StringEquals"]
    assert subjects["token.actions.githubusercontent.com:sub"] == [f"repo:{REPO}:environment:prod"]


def test_preview_role_is_read_only_without_data_or_secret_reads(dev):
    attachment = dev.named("github-preview-read-only").inputs
    deny = json.loads(dev.named("github-preview-deny").inputs["policy"])["Statement"][0]

    assert attachment["policyArn"] == "arn:aws:iam::aws:policy/ReadOnlyAccess"
    assert deny["Effect"] == "Deny"
    assert {"secretsmanager:GetSecretValue", "s3:GetObject", "kms:Decrypt"} <= set(deny["Action"])


def test_roles_follow_the_naming_convention(dev):
    names = {dev.named(f"github-{r}-role").inputs["name"] for r in ("preview", "deploy")}
    assert names == {"va-dev-ghpreview-role", "va-dev-ghdeploy-role"}


def deploy_statements(env: str = "dev") -> list[dict]:
    documents = deploy_policies(env, "eu-central-1", ACCOUNT).values()
    return [st for doc in documents for st in doc["Statement"]]


def test_deploy_policy_has_no_wildcard_action():
    for st in deploy_statements():
        assert all(a != "*" and not a.endswith(":*") for a in st["Action"]), st["Sid"]


def test_deploy_policy_reaches_no_other_environment():
    for st in deploy_statements():
        resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        for resource in resources:
            named = any(m in resource for m in ("va-dev-", "va/dev/"))
            by_id = resource in ("*", f"arn:aws:ec2:eu-central-1:{ACCOUNT}:*",
                                 f"arn:aws:kms:eu-central-1:{ACCOUNT}:key/*",
                                 *(f"arn:aws:ec2:eu-central-1:{ACCOUNT}:{kind}/*"  # by type
                                   for kind in EC2_CREATED.values()),
                                 f"arn:aws:lambda:eu-central-1:{ACCOUNT}:event-source-mapping:*",
                                 ) or resource.startswith(  # HTTP APIs: by id, no account
                "arn:aws:apigateway:eu-central-1::/") or (
                resource.endswith("oidc-provider/token.actions.githubusercontent.com"))  # fmt: skip
            assert named or by_id, resource
            assert "va-prod-" not in resource


def test_deploy_role_gets_one_managed_policy_per_service_group(dev):
    attached = {
        a.inputs["policyArn"]
        for a in dev.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.inputs["role"] == "va-dev-ghdeploy-role"
    }
    names = {p.inputs["name"] for p in dev.of_type("aws:iam/policy:Policy")}
    assert attached == {f"arn:aws:iam::{ACCOUNT}:policy/{n}" for n in names}
    assert names == {f"va-dev-ghdeploy-{g}-policy" for g in ("iam", "network", "compute", "data")}


def test_deploy_policies_are_tagged_by_construction(dev):
    for p in dev.of_type("aws:iam/policy:Policy"):
        assert p.inputs["tags"]["Name"] == p.inputs["name"]
        assert p.inputs["tags"]["Purpose"] == "ghdeploy"


def test_repository_must_be_owner_slash_repo():
    with pytest.raises(ValueError, match="expected <owner>/<repo>"):
        VaGithubOidcRoleArgs(CTX, "https://github.com/x/y", "eu-central-1", ACCOUNT)
