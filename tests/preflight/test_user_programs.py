"""Programs written the way users write them, without our components (raw pulumi_aws, in
tests/fixtures/<name>/), each through ``python -m va_platform.preflight --program`` in both modes: no crash,
no traceback, and the findings a reviewer expects."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import PROJECT_ROOT

FIXTURES = Path(__file__).parents[1] / "fixtures"
PROGRAMS = ["static_site", "api", "container_service", "public_bucket", "open_security_group"]
MODES = ["preview", "update"]


@pytest.fixture(scope="module")
def planned() -> dict[str, tuple[subprocess.CompletedProcess, dict]]:
    """Every program planned once, concurrently (each is a process of its own, as a user runs it)."""
    started = {
        name: subprocess.Popen(
            [sys.executable, "-m", "va_platform.preflight", "--json", "--program", f"tests/fixtures/{name}"],
            cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for name in PROGRAMS
    }  # fmt: skip
    out = {}
    for name, process in started.items():
        stdout, stderr = process.communicate(timeout=300)
        result = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
        out[name] = (result, json.loads(stdout) if stdout.startswith("{") else {})
    return out


def findings(planned, program: str, mode: str, level: str, policy: str, resource: str) -> list[str]:
    _, document = planned[program]
    return [
        d["message"]
        for d in document["modes"][mode]["policy"]["diagnostics"]
        if (d["level"], d["policy"]) == (level, policy) and d["urn"].endswith(f"::{resource}")
    ]


@pytest.mark.parametrize("program", PROGRAMS)
def test_user_program_is_planned_in_both_modes_without_a_traceback(planned, program):
    result, document = planned[program]
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert result.returncode == 1  # none of them follows the VA naming and tagging
    assert set(document["modes"]) == set(MODES)


@pytest.mark.parametrize("program", PROGRAMS)
def test_user_program_first_preview_has_unknown_inputs_and_update_none(planned, program):
    modes = planned[program][1]["modes"]
    assert modes["preview"]["policy"]["unknownInputs"] > 0
    assert modes["update"]["policy"]["unknownInputs"] == 0


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("program", "policy", "resource", "expected"),
    [
        pytest.param("static_site", "va-region", "certificate",
                     "the region of its provider is 'us-east-1'", id="us-east-1-certificate"),
        pytest.param("static_site", "va-region", "us-east-1",
                     "the provider's region is 'us-east-1'", id="us-east-1-provider"),
        pytest.param("api", "va-stack", "handler",
                     "has no alarm on Errors, Throttles, Duration", id="api-function-no-alarms"),
        pytest.param("api", "va-lambda", "handler",
                     "the function is not attached to a VPC", id="api-function-no-vpc"),
        pytest.param("container_service", "va-network", "web",
                     "port 80 is open to 0.0.0.0/0", id="web-open-to-internet"),
        pytest.param("public_bucket", "va-data", "downloads-access",
                     "the public access block leaves blockPublicAcls, blockPublicPolicy, "
                     "ignorePublicAcls, restrictPublicBuckets off", id="public-access-block-off"),
        pytest.param("open_security_group", "va-network", "bastion",
                     "port 22 is open to 0.0.0.0/0", id="open-ssh"),
        pytest.param("open_security_group", "va-network", "rdp",
                     "port 3389 is open to 0.0.0.0/0", id="open-rdp-standalone-rule"),
    ],
)  # fmt: skip
def test_user_program_mandatory_finding(planned, mode, program, policy, resource, expected):
    found = findings(planned, program, mode, "mandatory", policy, resource)
    assert any(expected in message for message in found), found


def test_public_bucket_policy_for_anyone_is_a_violation_once_its_arn_is_known(planned):
    found = findings(planned, "public_bucket", "update", "mandatory", "va-data",
                     "downloads-public-read")  # fmt: skip
    assert any("lets anyone (Principal '*')" in m for m in found), found


def test_public_bucket_policy_built_from_an_unknown_arn_is_unchecked_in_the_first_preview(planned):
    found = findings(planned, "public_bucket", "preview", "advisory", "va-notices",
                     "downloads-public-read")  # fmt: skip
    assert any("[va-data] unchecked: could not check the resource policy" in m for m in found), (
        found
    )


def test_api_permission_for_a_service_with_source_arn_draws_nothing_once_known(planned):
    _, document = planned["api"]
    diagnostics = document["modes"]["update"]["policy"]["diagnostics"]
    assert [d for d in diagnostics if d["urn"].endswith("::api-invoke")] == []


def test_api_permission_with_source_arn_unknown_in_preview_is_unchecked_not_silent(planned):
    _, document = planned["api"]
    diagnostics = document["modes"]["preview"]["policy"]["diagnostics"]
    about = [(d["level"], d["message"]) for d in diagnostics if d["urn"].endswith("::api-invoke")]
    assert [level for level, _ in about] == ["advisory"]
    assert "unchecked: could not check which API may invoke the function (sourceArn)" in about[0][1]


def test_cloudfront_only_bucket_policy_is_not_a_public_policy(planned):
    assert findings(planned, "static_site", "update", "mandatory", "va-data", "site-policy") == []


def mandatory_beyond_naming_and_tagging(planned, program: str, mode: str, resource: str):
    """Whichever policy the rule lands in."""
    _, document = planned[program]
    return [
        d["message"]
        for d in document["modes"][mode]["policy"]["diagnostics"]
        if d["level"] == "mandatory"
        and d["policy"] not in ("va-naming", "va-tagging")
        and d["urn"].endswith(f"::{resource}")
    ]


@pytest.mark.parametrize("mode", MODES)
def test_ecr_repository_policy_for_anyone_is_a_violation(planned, mode):
    assert mandatory_beyond_naming_and_tagging(planned, "container_service", mode, "app-pull")


@pytest.mark.parametrize("mode", MODES)
def test_attached_aws_managed_full_access_policy_is_a_violation(planned, mode):
    assert mandatory_beyond_naming_and_tagging(planned, "container_service", mode, "task-s3")
