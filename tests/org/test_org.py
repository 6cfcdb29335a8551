"""org/: the Pulumi Cloud side, run under the recording mocks like the main program.

What must hold: tokens go to this repository's workflows only, a pull request can never get
a token that updates, and a bad repository value ends the run with one line and nothing
declared. va-guard on every stack of the organisation: test_enforcement.py.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from importlib import metadata
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from tests.paths import PROJECT_ROOT
from va_platform.preflight import runner
from va_platform.preflight.runner import Run

ORG_DIR = PROJECT_ROOT / "org"
ORGANIZATION = "virtualagentics"
READ, EDIT = 101, 102  # Pulumi Cloud's team stack permission levels (mocks give floats)


def org_config() -> dict[str, Any]:
    return yaml.safe_load((ORG_DIR / "Pulumi.org.yaml").read_text())["config"]


REPO = org_config()["va-org:githubRepository"]


def run_org(config: dict[str, Any]) -> Run:
    """org/__main__.py under the mocks, as project va-org in a stack of ORGANIZATION."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runner, "project_name", lambda root=ORG_DIR: "va-org")
        patch.setattr(pulumi, "get_organization", lambda: ORGANIZATION)
        return runner.run_program("org", config=config, program=ORG_DIR / "__main__.py")


@pytest.fixture(scope="module")
def org() -> Run:
    run = run_org(org_config())
    assert run.error is None, run.error
    return run


def policies(run: Run) -> list[dict[str, Any]]:
    (issuer,) = run.of_type("pulumiservice:index:OidcIssuer")
    return issuer.inputs["policies"]


def team_permissions(run: Run, team: str) -> dict[str, int]:
    return {
        r.inputs["stack"]: int(r.inputs["permission"])
        for r in run.of_type("pulumiservice:index:TeamStackPermission")
        if r.inputs["team"] == team
    }


def granted_to(run: Run, subject: str) -> list[dict[str, Any]]:
    """The policies a job with this ``sub`` claim (and our audience) matches."""
    return [
        p
        for p in policies(run)
        if fnmatchcase(subject, p["rules"]["sub"])
        and p["rules"]["aud"] == f"urn:pulumi:org:{ORGANIZATION}"
    ]


def test_issuer_is_githubs_with_short_lived_tokens(org):
    (issuer,) = org.of_type("pulumiservice:index:OidcIssuer")

    assert issuer.inputs["url"] == "https://token.actions.githubusercontent.com"
    assert issuer.inputs["organization"] == ORGANIZATION
    assert issuer.inputs["maxExpirationSeconds"] <= 2 * 3600


def test_issuer_policies_name_only_this_repository_exactly(org):
    for policy in policies(org):
        assert policy["rules"]["aud"] == f"urn:pulumi:org:{ORGANIZATION}"
        assert policy["rules"]["sub"].startswith(f"repo:{REPO}:")
        assert not set(policy["rules"]["sub"]) & set("*?["), policy["rules"]["sub"]
    assert granted_to(org, "repo:someone/else:pull_request") == []


def test_pull_requests_get_only_a_token_that_can_read(org):
    (policy,) = granted_to(org, f"repo:{REPO}:pull_request")

    assert policy["tokenType"] == "team"
    permissions = team_permissions(org, policy["teamName"])
    assert set(permissions.values()) == {READ}
    assert set(permissions) == {"dev", "prod"}  # so both previews run


def test_main_gets_a_token_that_updates_dev_only(org):
    (policy,) = granted_to(org, f"repo:{REPO}:ref:refs/heads/main")

    assert policy["tokenType"] == "team"
    assert team_permissions(org, policy["teamName"]) == {"dev": EDIT}


def test_prod_environment_gets_a_token_that_updates_prod_only(org):
    (policy,) = granted_to(org, f"repo:{REPO}:environment:prod")

    assert policy["tokenType"] == "team"
    assert team_permissions(org, policy["teamName"]) == {"prod": EDIT}


def test_only_the_policy_publish_environment_gets_an_organization_token(org):
    org_wide = [p for p in policies(org) if p["tokenType"] != "team"]

    assert [p["rules"]["sub"] for p in org_wide] == [f"repo:{REPO}:environment:policy-publish"]
    assert org_wide[0]["tokenType"] == "organization"


def test_access_waits_for_the_stacks_it_names(org):
    stacks = {r.inputs["stackName"]: r.urn for r in org.of_type("pulumiservice:index:Stack")}

    for permission in org.of_type("pulumiservice:index:TeamStackPermission"):
        assert stacks[permission.inputs["stack"]] in permission.dependencies, permission.name


def test_every_resource_is_a_child_of_a_va_cloud_component(org):
    for r in org.resources:
        if r.custom:
            assert r.parent_type.startswith("va:cloud:"), r.urn
        else:
            assert r.type.startswith("va:cloud:Va"), r.type


@pytest.mark.parametrize(
    "value",
    ["https://github.com/virtualagentics/va-platform", "va-platform", "a/b/c", ""],
    ids=["url", "no-owner", "three-parts", "unset"],
)
def test_bad_repository_stops_with_one_line_and_declares_nothing(value):
    run = run_org({"va-org:githubRepository": value} if value else {})

    assert isinstance(run.error, pulumi.RunError)
    message = str(run.error)
    assert "\n" not in message
    assert "va-org:githubRepository" in message
    assert "<owner>/<repo>" in message
    assert run.resources == []


def test_org_pins_the_pulumiservice_version_its_tests_run_with():
    def pin(path: Path) -> set[str]:
        lines = path.read_text().splitlines()
        return {line.split("==")[1] for line in lines if line.startswith("pulumi-pulumiservice==")}

    installed = metadata.version("pulumi-pulumiservice")
    assert (
        pin(ORG_DIR / "requirements.txt")
        == pin(PROJECT_ROOT / "requirements-dev.txt")
        == {installed}
    )
