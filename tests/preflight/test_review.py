"""A plan a reviewer can read: the settings that matter per resource, parents as URNs, the diff
between a git ref and the working tree, and CI output that is never hard-wrapped."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.gitrepo import project_copy
from tests.paths import PROJECT_ROOT
from tests.support import with_bucket_triggers
from va_platform.preflight import cli
from va_platform.preflight.review import change_text, diff, settings
from va_platform.preflight.runner import run_program, stack_config


@pytest.fixture(scope="module")
def dev():
    run = run_program("dev")
    assert run.error is None, run.error
    return run


def test_function_settings_name_env_vars_but_never_their_values(dev):
    fn = settings(dev.named("fn-contentgen-function"))

    assert (fn["memory MB"], fn["timeout s"], fn["runtime"]) == (256.0, 30.0, "python3.11")
    assert "OPENAI_API_KEY_SECRET_ARN" in fn["env (names)"]
    assert "arn:aws:secretsmanager" not in json.dumps(fn)


def test_role_policy_settings_list_each_statements_actions_and_resources(dev):
    lines = settings(dev.named("fn-contentgen-role-policy"))["statements"]

    assert any(
        line.startswith("Allow SendToOwnDlq: sqs:SendMessage on arn:aws:sqs:") for line in lines
    )


def test_alarm_settings_show_metric_and_threshold(dev):
    alarm = settings(dev.named("fn-contentgen-errors-alarm"))

    assert alarm["metric"] == "AWS/Lambda/Errors Sum"
    assert alarm["threshold"] == 1.0


def test_bucket_notification_settings_show_events_keys_and_function():
    run = run_program("dev", config=with_bucket_triggers())
    (notification,) = run.of_type("aws:s3/bucketNotification:BucketNotification")

    assert settings(notification)["sends"] == [
        "s3:ObjectCreated:* of drafts/* -> "
        "arn:aws:lambda:eu-central-1:123456789012:function:va-dev-contentgen-lambda:live",
        "s3:ObjectCreated:* of reports/*.csv -> "
        "arn:aws:lambda:eu-central-1:123456789012:function:va-dev-reports-lambda",
    ]


def test_http_api_settings_show_routes_auth_and_throttling():
    config = stack_config("dev")
    fn = config["va-platform:functions"][0]
    fn["triggers"] = [{"kind": "http", "via": "api", "routes": ["POST /drafts"]}]
    run = run_program("dev", config=config)

    (route,) = run.of_type("aws:apigatewayv2/route:Route")
    (stage,) = run.of_type("aws:apigatewayv2/stage:Stage")
    assert settings(route) == {"route": "POST /drafts", "auth": "AWS_IAM"}
    assert settings(stage)["throttle"] == "burst 100, 50/s"
    assert settings(stage)["access logs"].endswith(":log-group:va-dev-contentgen-api-logs")


def test_json_plan_names_each_resources_parent_by_urn(capsys):
    assert cli.main(["--stack", "dev", "--json", "--no-policies", "--mode", "update"]) == 0
    resources = json.loads(capsys.readouterr().out)["resources"]
    urns = {r["urn"] for r in resources}

    function = next(r for r in resources if r["name"] == "fn-contentgen-function")
    assert function["parent"] in urns
    assert function["parent"].endswith("::fn-contentgen")


def test_list_change_names_what_was_added_and_removed():
    assert change_text(["a", "b"], ["b", "c"]) == "+'c', -'a'"


def test_diff_reports_added_removed_and_changed_inputs():
    old = {"u1": {"memorySize": 256}, "u2": {"x": 1}}
    new = {"u1": {"memorySize": 512}, "u3": {"x": 1}}

    changes = diff(old, new)
    assert (changes.added, changes.removed) == (["u3"], ["u2"])
    assert changes.changed == {"u1": {"memorySize": (256, 512)}}


# --- make plan DIFF=<ref>, on a real git repository -------------------------------------------


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    return project_copy(tmp_path_factory.mktemp("project"))


def plan_diff(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "va_platform.preflight", "--stack", "dev", *args],
        cwd=repo, capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_diff_against_head_of_an_unchanged_tree_changes_nothing(repo):
    proc = plan_diff(repo, "--diff", "HEAD")

    assert (proc.returncode, proc.stdout.splitlines()[0]) == (
        0, "plan against HEAD: no resource changes",
    )  # fmt: skip


def test_diff_shows_each_changed_input_old_to_new(repo):
    stack = repo / "Pulumi.dev.yaml"
    before = stack.read_text()
    stack.write_text(before.replace("      memory: 256\n", "      memory: 512\n"))
    try:
        proc = plan_diff(repo, "--diff", "HEAD")
    finally:
        stack.write_text(before)

    lines = proc.stdout.splitlines()
    assert lines[0] == "plan against HEAD: 0 to add, 1 to change, 0 to remove"
    assert "      memorySize: 256.0 -> 512.0" in lines
    assert proc.returncode == 0


def test_diff_against_a_ref_that_does_not_exist_is_one_line(repo):
    proc = plan_diff(repo, "--diff", "no-such-ref")

    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.stdout.strip().startswith("error: --diff no-such-ref: cannot check it out")


def test_ci_log_lines_are_never_hard_wrapped():
    proc = subprocess.run(
        [sys.executable, "-m", "va_platform.preflight", "--stack", "dev", "--mode", "update"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip

    advice = [line for line in proc.stdout.splitlines() if "agent-agent-function:" in line]
    assert advice
    assert all("redeploy at least monthly" in line for line in advice)
