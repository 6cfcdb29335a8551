"""``python -m va_platform.preflight``: any Pulumi Python program, both modes reported, mistakes in one line."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.paths import PROJECT_ROOT
from va_platform.preflight import cli as plan

FIXTURES = Path(__file__).parents[1] / "fixtures"
QUEUE_PROGRAM = """
import pulumi
import pulumi_aws as aws

queue = aws.sqs.Queue("jobs", sqs_managed_sse_enabled=True)
pulumi.export("arn", queue.arn)
pulumi.export("greeting", pulumi.Config().require("greeting"))
"""


def write_program(root: Path, main: str, stack_yaml: str = "config:\n  aws:region: eu-central-1\n",
                  project: str = "name: tiny\nruntime: python\n", **files: str) -> Path:  # fmt: skip
    root.mkdir(parents=True, exist_ok=True)
    (root / "Pulumi.yaml").write_text(project)
    (root / "Pulumi.dev.yaml").write_text(stack_yaml)
    (root / "__main__.py").write_text(textwrap.dedent(main))
    for name, text in files.items():
        (root / name).write_text(textwrap.dedent(text))
    return root


def plan_json(capsys, *argv: str) -> tuple[int, dict]:
    code = plan.main([*argv, "--json"])
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 1, out
    return code, json.loads(out)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict:
    root = write_program(
        tmp_path_factory.mktemp("prog") / "tiny",
        QUEUE_PROGRAM,
        stack_yaml="config:\n  aws:region: us-west-2\n  greeting: hello\n",
    )
    result = subprocess.run(
        [sys.executable, "-m", "va_platform.preflight", "--program", str(root), "--json"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert "Traceback" not in result.stderr, result.stderr
    return json.loads(result.stdout)


def test_program_directory_runs_with_its_own_stack_config(tiny):
    diagnostics = tiny["modes"]["update"]["policy"]["diagnostics"]
    assert any(d["policy"] == "va-region" and "'us-west-2'" in d["message"] for d in diagnostics)


def test_program_directory_config_key_without_namespace_belongs_to_its_project(tiny):
    assert tiny["modes"]["update"]["outputs"]["greeting"] == "hello"


def test_program_directory_resources_are_in_its_own_project(tiny):
    urns = {d["urn"] for d in tiny["modes"]["update"]["policy"]["diagnostics"]}
    assert any("::tiny::aws:sqs/queue:Queue::jobs" in urn for urn in urns)


def test_unknown_output_prints_as_known_after_apply_in_preview_only(tiny):
    assert tiny["modes"]["preview"]["outputs"]["arn"] == "(known after apply)"
    assert tiny["modes"]["update"]["outputs"]["arn"].startswith("arn:aws:sqs:")


def test_program_directory_imports_its_own_modules(tmp_path, capsys):
    root = write_program(
        tmp_path / "withhelper",
        "import naming\nimport pulumi\npulumi.export('name', naming.NAME)\n",
        **{"naming.py": "NAME = 'from-helper'\n"},
    )
    code, document = plan_json(capsys, "--program", str(root), "--no-policies")
    assert (code, document["modes"]["update"]["outputs"]) == (0, {"name": "from-helper"})


def test_text_report_says_per_mode_resources_unknowns_violations_advisories(capsys):
    plan.main(["--program", str(FIXTURES / "open_security_group")])
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("va-guard")]
    assert [line.split(":")[0] for line in lines] == [
        "va-guard, first preview of a fresh stack (ids, ARNs unknown)",
        "va-guard, update (every output known)",
    ]
    # default provider, VPC, group, standalone rule; the group's vpcId and the rule's group id
    # come from resources still to be created.
    assert "4 resources, 2 unknown input values" in lines[0]
    assert "4 resources, 0 unknown input values (0 in the stack view)" in lines[1]
    assert all(" mandatory violations, " in line and line.endswith(" advisories") for line in lines)


def _raises(tmp: Path) -> str:
    return str(write_program(tmp, "import pulumi\n\n\nraise ValueError('boom')\n"))


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        pytest.param(lambda tmp: str(tmp / "nowhere"), "no program at ", id="missing-directory"),
        pytest.param(lambda tmp: (tmp / "x").mkdir() or str(tmp / "x"),
                     "does not exist: a Python program needs a __main__.py", id="no-main"),
        pytest.param(lambda tmp: str(write_program(tmp, "def broken(:\n")),
                     "SyntaxError", id="syntax-error"),
        pytest.param(_raises, "__main__.py:4: ValueError: boom", id="program-raises"),
        pytest.param(lambda tmp: str(write_program(tmp, "", stack_yaml="config:\n  a: x\n   b: y\n")),
                     "Pulumi.dev.yaml:3:5: not valid YAML: mapping values are not allowed here",
                     id="yaml-slip"),
        pytest.param(lambda tmp: str(write_program(tmp, "", project="name: n\nruntime: nodejs\n")),
                     "runtime is 'nodejs'; the preflight runs Python programs", id="not-python"),
        pytest.param(lambda tmp: str(write_program(tmp, "import pulumi\npulumi.Config().require('x')\n")),
                     "Missing required configuration variable 'tiny:x'", id="missing-config"),
    ],
)  # fmt: skip
def test_program_mistake_is_one_line_and_exit_1(tmp_path, capsys, make, expected):
    code, document = plan_json(capsys, "--program", make(tmp_path))
    assert code == 1
    assert expected in document["error"]
    assert "\n" not in document["error"]


def test_missing_stack_file_names_the_stacks_there(tmp_path, capsys):
    root = write_program(tmp_path, "")
    code, document = plan_json(capsys, "--program", str(root), "--stack", "prod")
    assert (code, document["error"]) == (
        1, f"{root}: no stack file Pulumi.prod.yaml; stacks here: dev"
    )  # fmt: skip


def test_malformed_policy_config_is_one_line(tmp_path, capsys):
    config = tmp_path / "cfg.json"
    config.write_text('{"va-region": ')
    code, document = plan_json(capsys, "--policy-config", str(config))
    assert code == 1
    assert document["error"].startswith(f"{config}:1:")


def test_program_error_in_text_mode_prints_no_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "va_platform.preflight", "--program", _raises(tmp_path)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stdout.strip().count("\n") == 0
    assert "ValueError: boom" in result.stdout


def test_program_warning_is_printed_once_for_both_modes(tmp_path, capsys):
    root = write_program(tmp_path, "import pulumi\npulumi.log.warn('mind the gap')\n")
    plan.main(["--program", str(root), "--no-policies"])
    assert capsys.readouterr().err.splitlines() == ["warning: mind the gap"]


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        pytest.param({"va-lamda": {}}, "'va-lamda' is not a policy of the pack; it has va-compute, va-data", id="policy"),
        pytest.param({"va-lambda": {"enforcementLevel": "strict"}},
                     "va-lambda.enforcementLevel = 'strict': one of advisory, mandatory", id="level"),
        pytest.param({"va-lambda": {"timeoutMaxSecond": 20}},
                     "va-lambda.timeoutMaxSecond: not a setting of va-lambda; it takes", id="key"),
        pytest.param({"va-lambda": {"timeoutMaxSeconds": "20"}},
                     "va-lambda.timeoutMaxSeconds = '20': expected", id="type"),
    ],
)  # fmt: skip
def test_policy_config_mistake_is_refused_once_with_what_is_allowed(
    tmp_path, capsys, config, expected
):
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps(config))
    code, document = plan_json(capsys, "--policy-config", str(path), "--mode", "update")
    assert code == 1
    assert len(document["problems"]) == 1
    assert expected in document["problems"][0]


def test_valid_policy_config_is_accepted(tmp_path, capsys):
    path = tmp_path / "cfg.json"
    path.write_text(
        json.dumps({"va-lambda": {"enforcementLevel": "advisory", "timeoutMaxSeconds": 60}})
    )
    code, document = plan_json(capsys, "--policy-config", str(path), "--mode", "update")
    assert code == 0, document
