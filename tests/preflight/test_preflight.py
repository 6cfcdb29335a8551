"""The offline preflight: the program's recorded resources through the started pack over gRPC."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest

from va_platform import standard
from va_platform.preflight import cli as plan
from va_platform.preflight.engine import Report, preflight
from va_platform.preflight.runner import run_program, run_under_mocks

BAD_PROGRAM = Path(__file__).parents[1] / "fixtures" / "bad_program.py"
MODES = ["preview", "update"]


@pytest.fixture(scope="module")
def our_reports():
    """(stack, mode) -> the pack's report, each program run once for the module."""
    cache: dict[tuple[str, str], Report] = {}

    def report(stack: str, mode: str) -> Report:
        if (stack, mode) not in cache:
            run = run_program(stack, mode=mode)
            assert run.error is None
            cache[stack, mode] = preflight(run)
        return cache[stack, mode]

    return report


def through_us_east_1() -> None:
    """A queue that follows every VA rule, but through a provider in us-east-1."""
    use1 = aws.Provider("use1", region="us-east-1")
    tags = standard.standard_tags("dev", "jobs", "va-dev-jobs-queue", "platform-team")
    aws.sqs.Queue("jobs", name="va-dev-jobs-queue", sqs_managed_sse_enabled=True, tags=tags,
                  opts=pulumi.ResourceOptions(provider=use1))  # fmt: skip


def policy_from_an_unknown_arn() -> None:
    tags = standard.standard_tags("dev", "data", "va-dev-data-bucket", "platform-team")
    bucket = aws.s3.Bucket("data", bucket="va-dev-data-bucket", tags=tags)
    statement = {"Effect": "Allow", "Action": "s3:GetObject",
                 "Resource": pulumi.Output.concat(bucket.arn, "/*")}  # fmt: skip
    tags = standard.standard_tags("dev", "reader", "va-dev-reader-policy", "platform-team")
    aws.iam.Policy("reader", name="va-dev-reader-policy", tags=tags,
                   policy=pulumi.Output.json_dumps({"Version": "2012-10-17",
                                                    "Statement": [statement]}))  # fmt: skip


def small_report(build, mode: str) -> Report:
    run = run_under_mocks(build, config={"aws:region": "eu-central-1"}, mode=mode)
    assert run.error is None
    return preflight(run)


# The exemption an organisation grants the bad program's vendor queue (its policy group config).
BAD_PROGRAM_POLICY = BAD_PROGRAM.with_name("bad_program_policy.json")


@pytest.fixture(scope="module")
def bad_report():
    run = run_program("dev", program=BAD_PROGRAM)
    assert run.error is None
    return preflight(run, json.loads(BAD_PROGRAM_POLICY.read_text()))


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_update_mode_our_stacks_have_no_mandatory_violation(our_reports, stack):
    report = our_reports(stack, "update")
    assert report.checked > 30
    assert [d.detail for d in report.mandatory] == []


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_preview_mode_our_stacks_have_no_mandatory_violation(our_reports, stack):
    report = our_reports(stack, "preview")
    assert report.checked > 30
    assert [d.detail for d in report.mandatory] == []


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_preview_mode_sends_our_stacks_unknown_inputs_and_update_mode_none(our_reports, stack):
    preview, update = our_reports(stack, "preview"), our_reports(stack, "update")
    assert (preview.checked, update.checked) == (update.checked, preview.checked)
    assert preview.unknown_inputs > 0
    assert preview.unknown_outputs > preview.unknown_inputs
    assert (update.unknown_inputs, update.unknown_outputs) == (0, 0)


@pytest.mark.parametrize("mode", MODES)
def test_resource_through_an_explicit_provider_in_us_east_1_violates_va_region(mode):
    report = small_report(through_us_east_1, mode)
    found = [d for d in report.by_policy("mandatory").get("va-region", [])
             if d.urn.endswith("::jobs")]  # fmt: skip
    assert [d.detail for d in found] == [
        "the region of its provider is 'us-east-1'; only eu-central-1 is allowed (Control Tower SCP)"
    ]


def test_preview_policy_built_from_an_unknown_arn_is_unchecked_not_malformed():
    report = small_report(policy_from_an_unknown_arn, "preview")
    about_reader = [d for d in report.diagnostics if d.urn.endswith("::reader")]
    assert [(d.policy, d.level) for d in about_reader] == [("va-notices", "advisory")]
    assert "[va-iam] unchecked: could not check policy document" in about_reader[0].detail


def test_update_policy_built_from_a_known_arn_is_checked():
    report = small_report(policy_from_an_unknown_arn, "update")
    assert [d for d in report.diagnostics if d.urn.endswith("::reader")] == []


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


def test_bad_program_team_tag_alone_exempts_nothing(bad_report):
    (d,) = [d for d in bad_report.by_policy("mandatory")["va-naming"] if d.urn.endswith("::lazy")]
    assert "the tag va:policy-exempt no longer exempts by itself" in d.detail


def test_plan_exits_1_and_prints_violations_by_policy(capsys):
    argv = ["--stack", "dev", "--program", str(BAD_PROGRAM)]
    assert plan.main([*argv, "--policy-config", str(BAD_PROGRAM_POLICY)]) == 1
    out = capsys.readouterr().out
    assert "va-iam (mandatory)" in out
    assert "va-notices (exemptions used)" in out


def test_plan_json_carries_each_modes_diagnostics(capsys):
    assert plan.main(["--stack", "dev", "--json", "--program", str(BAD_PROGRAM)]) == 1
    modes = json.loads(capsys.readouterr().out)["modes"]
    assert set(modes) == {"preview", "update"}
    for mode in modes.values():
        policy = mode["policy"]
        assert policy["mandatory"] == len(
            [d for d in policy["diagnostics"] if d["level"] == "mandatory"]
        )
        assert {"policy", "level", "urn", "message"} <= set(policy["diagnostics"][0])


def test_plan_policy_config_is_applied(tmp_path, capsys):
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps({"va-region": {"allowedRegions": ["us-west-2"]}}))
    argv = ["--stack", "dev", "--json", "--mode", "update", "--policy-config", str(config)]
    assert plan.main(argv) == 1
    diagnostics = json.loads(capsys.readouterr().out)["modes"]["update"]["policy"]["diagnostics"]
    assert any(d["policy"] == "va-region" and "us-west-2" in d["message"] for d in diagnostics)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_update_mode_our_only_advisories_say_we_patch_the_agent_image(our_reports, stack):
    advisories = our_reports(stack, "update").by_policy("advisory")
    (judged,) = advisories.pop("va-stack-notices")  # which version of the pack judged it

    assert judged.detail.startswith("[va-guard] va-guard ")
    assert set(advisories) == {"va-runtime-patch"}
    assert {d.urn.rsplit("::", 1)[1] for d in advisories["va-runtime-patch"]} == {
        "agent-agent-function", "agent-costreview-function",
    }  # fmt: skip
