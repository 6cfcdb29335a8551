"""The offline preflight: the program's recorded resources through the started pack over gRPC."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from preflight import cli as plan
from preflight.engine import preflight
from preflight.runner import run_program

BAD_PROGRAM = Path(__file__).parents[1] / "fixtures" / "bad_program.py"


@pytest.fixture(scope="module")
def bad_report():
    run = run_program("dev", program=BAD_PROGRAM)
    assert run.error is None
    return preflight(run)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_our_stacks_have_no_mandatory_violation(stack):
    report = preflight(run_program(stack))
    assert report.checked > 30
    assert [d.detail for d in report.mandatory] == []


@pytest.mark.parametrize(
    ("policy", "resource", "expected"),
    [
        ("va-naming", "orders", "name='orders-queue' does not follow"),
        ("va-tagging", "orders", "missing tags Name, Environment, Purpose, Project, Owner"),
        ("va-region", "orders", "the resource's region is 'us-east-1'"),
        ("va-lambda", "legacy", "runtime 'python3.9' was deprecated"),
        ("va-lambda", "legacy", "environment variable DB_PASSWORD is named like a credential"),
        ("va-network", "ssh", "port 22 is open to 0.0.0.0/0"),
        ("va-iam", "everything", "Allow statement grants *"),
        ("va-iam", "admin", "attaches arn:aws:iam::aws:policy/AdministratorAccess"),
        ("va-data", "site-pab", "the public access block leaves"),
        ("va-data", "events", "the topic is not encrypted"),
        ("va-stack", "legacy", "shares its role"),
        ("va-stack", "legacy", "has no alarm on Errors, Throttles, Duration"),
        ("va-stack", "site", "has no server-side encryption configuration"),
    ],
)
def test_bad_program_produces_each_rules_mandatory_violation(
    bad_report, policy, resource, expected
):
    found = bad_report.by_policy("mandatory").get(policy, [])
    assert any(d.urn.endswith(f"::{resource}") and expected in d.detail for d in found), [
        (d.urn, d.detail) for d in found
    ]


def test_bad_program_gets_the_advisory_runtime_patch_notice(bad_report):
    (d,) = bad_report.by_policy("advisory")["va-runtime-patch"]
    assert d.urn.endswith("::imagefn")
    assert "You patch the base image" in d.detail


def test_bad_program_exemption_used_is_reported(bad_report):
    used = [
        d for d in bad_report.by_policy("advisory")["va-notices"] if "exemption used" in d.detail
    ]
    assert {d.urn.rsplit("::", 1)[-1] for d in used} == {"vendor"}


def test_bad_program_short_exemption_reason_is_refused(bad_report):
    (d,) = [d for d in bad_report.by_policy("mandatory")["va-naming"] if d.urn.endswith("::lazy")]
    assert "the exemption in tag va:policy-exempt was not applied" in d.detail


def test_plan_exits_1_and_prints_violations_by_policy(capsys):
    assert plan.main(["--stack", "dev", "--program", str(BAD_PROGRAM)]) == 1
    out = capsys.readouterr().out
    assert "va-iam (mandatory)" in out
    assert "va-notices (exemptions used)" in out


def test_plan_json_carries_the_diagnostics(capsys):
    assert plan.main(["--stack", "dev", "--json", "--program", str(BAD_PROGRAM)]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["policy"]["mandatory"] == len(
        [d for d in document["policy"]["diagnostics"] if d["level"] == "mandatory"]
    )
    assert {"policy", "level", "urn", "message"} <= set(document["policy"]["diagnostics"][0])


def test_plan_policy_config_is_applied(tmp_path, capsys):
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps({"va-region": {"allowedRegions": ["us-west-2"]}}))
    assert plan.main(["--stack", "dev", "--json", "--policy-config", str(config)]) == 1
    diagnostics = json.loads(capsys.readouterr().out)["policy"]["diagnostics"]
    assert any(d["policy"] == "va-region" and "us-west-2" in d["message"] for d in diagnostics)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_our_only_advisories_say_we_patch_the_agent_image(stack):
    advisories = preflight(run_program(stack)).by_policy("advisory")

    assert set(advisories) == {"va-runtime-patch"}
    assert {d.urn.rsplit("::", 1)[1] for d in advisories["va-runtime-patch"]} == {
        "agent-agent-function", "agent-costreview-function",
    }  # fmt: skip
