"""Issue 21's reproductions, each a small program in tests/fixtures/<name>/ run through
``python -m va_platform.preflight`` as a subprocess from the program's own directory, as a team
runs it: the faithful verdict, or one clear line."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import time
from pathlib import Path

import pytest

from tests.paths import PACK_DIR, PROJECT_ROOT

FIXTURES = Path(__file__).parents[1] / "fixtures"
ACCOUNT = "123456789012"
REGION = "eu-central-1"


def preflight(
    program: str | Path, *args: str, cwd: Path | None = None, python: str = sys.executable,
    timeout: float = 300, env: dict[str, str] | None = None,
) -> tuple[subprocess.CompletedProcess, dict]:  # fmt: skip
    """The CLI with ``--json`` from the program's directory (or ``cwd``); its one JSON line."""
    directory = program if isinstance(program, Path) else FIXTURES / program
    result = subprocess.run(
        [python, "-m", "va_platform.preflight", "--json", "--policy-pack", str(PACK_DIR), *args],
        cwd=cwd or directory, capture_output=True, text=True, check=False, timeout=timeout,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout + result.stderr
    return result, json.loads(lines[0])


def text_preflight(program: str, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "va_platform.preflight", "--policy-pack", str(PACK_DIR), *args],
        cwd=FIXTURES / program, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


@pytest.fixture(scope="module")
def runs() -> dict[str, tuple[subprocess.CompletedProcess, dict]]:
    """The fixture programs run once each, concurrently (each a process of its own)."""
    names = {"fails_in_preview": [], "apply_fails_in_update": [], "lookups": [],
             "unsupported_lookup": [], "resource_as_input": [], "secret_config": [],
             "secret_config_undeclared": [], "unknown_secret": [], "rest_api": [],
             # Naming and tagging as advisories: nothing mandatory left but what was not checked.
             "remote_component": ["--policy-config", "lenient.json"],
             "component_method_call": ["--policy-config", "lenient.json"],
             "resource_method_call": [], "cloudformation_outputs": [],
             "organization_name": [], "lifted_attribute_fails": []}  # fmt: skip
    started = {
        name: subprocess.Popen(
            [sys.executable, "-m", "va_platform.preflight", "--json", "--policy-pack",
             str(PACK_DIR), *args],
            cwd=FIXTURES / name, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for name, args in names.items()
    }  # fmt: skip
    out = {}
    for name, process in started.items():
        try:
            stdout, stderr = process.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
        result = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
        lines = stdout.splitlines()
        out[name] = (result, json.loads(lines[0]) if len(lines) == 1 else {})
    return out


def run_of(runs, name: str) -> tuple[subprocess.CompletedProcess, dict]:
    result, document = runs[name]
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert document, f"not one JSON line (exit {result.returncode}): {result.stdout[-2000:]}"
    return result, document


def diagnostics(document: dict, mode: str, resource: str) -> list[dict]:
    return [
        d for d in document["modes"][mode]["policy"]["diagnostics"]
        if d["urn"].endswith(f"::{resource}")
    ]  # fmt: skip


# --- 1. both modes, whatever one of them does ---------------------------------------------------


def test_preview_failure_still_runs_and_judges_the_update(runs):
    result, document = run_of(runs, "fails_in_preview")
    assert result.returncode == 1
    preview, update = document["modes"]["preview"], document["modes"]["update"]
    assert "policy" not in preview
    assert preview["error"].startswith("the program stopped: ")
    assert "__main__.py:8: RuntimeError: this program must be deployed" in preview["error"]
    assert "error" not in update
    assert update["policy"]["resources"] > 0
    assert update["verdict"] == "fail"  # a bucket named and tagged by nobody


def test_preview_failure_text_report_prints_each_modes_verdict_or_error():
    result = text_preflight("fails_in_preview")
    assert result.returncode == 1
    lines = [line for line in result.stdout.splitlines() if line.startswith("va-guard, ")]
    assert len(lines) == 2, result.stdout
    assert lines[0].startswith("va-guard, first preview of a fresh stack (ids, ARNs unknown): "
                               "not judged: the program stopped: ")  # fmt: skip
    assert "RuntimeError: this program must be deployed" in lines[0]
    assert lines[1].startswith("va-guard, update (every output known): ")
    assert " mandatory violations, " in lines[1]


# --- 6. an apply that fails once values are known ---------------------------------------------


def test_apply_failing_on_known_values_keeps_the_preview_verdict(runs):
    result, document = run_of(runs, "apply_fails_in_update")
    assert result.returncode == 1
    preview, update = document["modes"]["preview"], document["modes"]["update"]
    assert preview["verdict"] == "fail"
    assert preview["policy"]["mandatory"] > 0
    assert "policy" not in update
    error = update["error"]
    assert "__main__.py:19: ValueError: invalid literal for int() with base 10: 'bu'" in error
    # Said where it happened and what the values were: the preflight's stand-ins.
    assert "in an apply" in error
    assert "\n" not in error


# --- 2. data sources ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_data_sources_answer_as_aws_does(runs, mode):
    _result, document = run_of(runs, "lookups")
    assert "error" not in document["modes"][mode], document["modes"][mode]
    outputs = document["modes"][mode]["outputs"]
    assert outputs["account"] == ACCOUNT
    assert outputs["region"] == REGION
    assert outputs["partition"] == "aws"
    assert outputs["zones"] == [f"{REGION}a", f"{REGION}b", f"{REGION}c"]
    assert re.fullmatch(r"ami-[0-9a-f]{17}", outputs["ami"])
    assert re.fullmatch(r"vpc-[0-9a-f]{17}", outputs["vpc"])
    assert outputs["vpcCidr"] == "172.31.0.0/16"
    assert len(outputs["subnets"]) == 3
    assert all(re.fullmatch(r"subnet-[0-9a-f]{17}", s) for s in outputs["subnets"])
    assert isinstance(outputs["dbHost"], str)
    assert outputs["dbHost"]


def test_policy_documents_are_the_providers_json(runs):
    _, document = run_of(runs, "lookups")
    outputs = document["modes"]["update"]["outputs"]
    assert outputs["assumeRolePolicy"] == textwrap.dedent("""\
        {
          "Version": "2012-10-17",
          "Statement": [
            {
              "Effect": "Allow",
              "Action": "sts:AssumeRole",
              "Principal": {
                "Service": "lambda.amazonaws.com"
              }
            }
          ]
        }""")  # fmt: skip
    assert json.loads(outputs["readPolicy"]) == {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "ReadTable",
            "Effect": "Allow",
            "Action": ["dynamodb:Query", "dynamodb:GetItem"],  # a set: reverse-sorted
            "Resource": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/app",
            "Condition": {"StringEquals": {"aws:RequestedRegion": REGION}},
        }],
    }  # fmt: skip


def test_data_sources_reach_the_pack_as_values(runs):
    _, document = run_of(runs, "lookups")
    found = diagnostics(document, "update", "app-reads")
    assert not [d for d in found if d["policy"] not in ("va-naming", "va-tagging")], found


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_unsupported_data_source_is_one_line_naming_the_call_and_the_flag(runs, mode):
    result, document = run_of(runs, "unsupported_lookup")
    assert result.returncode == 1
    error = document["modes"][mode]["error"]
    assert "aws:rds/getEngineVersion:getEngineVersion" in error
    assert "--invokes FILE" in error
    assert "outputs" not in document["modes"][mode]


def test_invokes_file_answers_a_data_source():
    result, document = preflight("unsupported_lookup", "--invokes", "invokes.json")
    assert result.returncode == 0, document
    for mode in ("preview", "update"):
        assert document["modes"][mode]["outputs"] == {"postgres": "16.4", "account": ACCOUNT}


# --- 3. a resource passed as an input ------------------------------------------------------------


def test_resource_passed_as_an_input_is_sent_as_its_id(runs):
    result, document = run_of(runs, "resource_as_input")
    assert result.returncode == 1  # naming and tagging
    update = document["modes"]["update"]
    assert update["outputs"]["groupVpc"] == update["outputs"]["vpc"]
    assert update["outputs"]["vpc"].startswith("vpc-")
    preview = document["modes"]["preview"]
    assert preview["outputs"]["groupVpc"] == "(known after apply)"
    # The group's vpcId is the VPC's id: unknown in a first preview, as the engine sends it.
    assert preview["policy"]["unknownInputs"] == 1


def test_a_run_that_does_not_finish_stops_with_one_line(tmp_path):
    program = tmp_path / "sleeper"
    program.mkdir()
    (program / "Pulumi.yaml").write_text("name: sleeper\nruntime: python\n")
    (program / "__main__.py").write_text("import time\n\ntime.sleep(120)\n")
    started = time.monotonic()
    result, document = preflight(program, "--timeout", "3", timeout=90)
    assert time.monotonic() - started < 60
    assert result.returncode == 1
    assert "did not finish within 3 s" in document["error"]
    assert "first preview" in document["error"]


# --- 4. the program's directory and virtualenv ----------------------------------------------------


def test_program_runs_in_its_own_directory():
    _result, document = preflight("reads_files", "--program", "reads_files", cwd=FIXTURES)
    assert "error" not in document, document
    assert document["modes"]["update"]["outputs"]["size"] == 15


def _venv(root: Path, *, with_library: bool) -> Path:
    """A virtualenv beside the program, with a module only it has (and the library, through a
    .pth to this checkout's, when asked)."""
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    (site / "teamlib.py").write_text("WHERE = 'the program virtualenv'\n")
    if with_library:
        ours = Path(sysconfig.get_path("purelib"))
        (site / "ours.pth").write_text(f"{ours}\n{PROJECT_ROOT / 'src'}\n")
    return venv


def _team_program(tmp_path: Path, **project: str) -> Path:
    program = tmp_path / "team"
    program.mkdir()
    runtime = project.get("runtime", "python")
    (program / "Pulumi.yaml").write_text(f"name: team\nruntime: {runtime}\n")
    (program / "Pulumi.dev.yaml").write_text("config:\n  aws:region: eu-central-1\n")
    (program / "__main__.py").write_text(
        textwrap.dedent("""\
        import sys

        import pulumi
        import teamlib

        pulumi.export("where", teamlib.WHERE)
        pulumi.export("prefix", sys.prefix)
    """)
    )
    return program


def test_program_runs_with_its_own_virtualenv(tmp_path):
    program = _team_program(tmp_path)
    venv = _venv(program, with_library=True)
    result, document = preflight(program, "--no-policies")
    assert result.returncode == 0, document
    outputs = document["modes"]["update"]["outputs"]
    assert outputs == {"where": "the program virtualenv", "prefix": str(venv)}


def test_program_virtualenv_named_in_pulumi_yaml_is_used(tmp_path):
    program = _team_program(
        tmp_path, runtime="\n  name: python\n  options:\n    virtualenv: .team-env"
    )
    venv = _venv(program, with_library=True)
    venv.rename(program / ".team-env")
    result, document = preflight(program, "--no-policies")
    assert result.returncode == 0, document
    assert document["modes"]["update"]["outputs"]["prefix"] == str(program / ".team-env")


def test_program_virtualenv_without_the_library_is_one_line_saying_how_to_install_it(tmp_path):
    program = _team_program(tmp_path)
    venv = _venv(program, with_library=False)
    result, document = preflight(program)
    assert result.returncode == 1
    assert document["error"].startswith(f"{venv} (the program's virtualenv) has no va-platform")
    assert f"{venv}/bin/python -m pip install " in document["error"]
    assert "[preflight]" in document["error"]


def test_writes_nothing_outside_the_program_directory(tmp_path):
    """A program that packages its handler: the archive cache lands beside the program, and
    the directory the preflight was started from is left as it was."""
    program = tmp_path / "packager"
    (program / "handler").mkdir(parents=True)
    (program / "handler" / "index.py").write_text("def handler(event, context):\n    return 1\n")
    (program / "Pulumi.yaml").write_text("name: packager\nruntime: python\n")
    (program / "__main__.py").write_text(
        textwrap.dedent("""\
        import pulumi
        from va_platform.packaging import build_zip

        artifact = build_zip("handler", runtime="python3.12")
        pulumi.export("zip", str(artifact.path))
    """)
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result, document = preflight(program, "--program", str(program), "--no-policies",
                                 cwd=elsewhere)  # fmt: skip
    assert result.returncode == 0, document
    assert list(elsewhere.iterdir()) == []
    assert (program / ".va-build").is_dir()
    assert document["modes"]["update"]["outputs"]["zip"].startswith(".va-build/")


# --- 5. secret config ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_secret_config_of_every_type_gets_a_placeholder_of_its_declared_type(runs, mode):
    _result, document = run_of(runs, "secret_config")
    assert "error" not in document["modes"][mode], document["modes"][mode]
    outputs = document["modes"][mode]["outputs"]
    assert outputs["port"] == "[secret]"
    if mode == "update":
        assert outputs["types"] == "[secret]"  # built from secrets: secret as a whole


def test_secret_config_placeholders_have_the_declared_types(tmp_path):
    program = tmp_path / "secret_config"
    shutil.copytree(FIXTURES / "secret_config", program)
    main = program / "__main__.py"
    main.write_text(main.read_text() + "pulumi.export('plainTypes', pulumi.Output.unsecret("
                    "pulumi.Output.all(port, public, settings, cidrs, password).apply("
                    "lambda values: [type(v).__name__ for v in values])))\n")  # fmt: skip
    result, document = preflight(program, "--no-policies", "--mode", "update")
    assert result.returncode == 0, document
    assert document["modes"]["update"]["outputs"]["plainTypes"] == [
        "int", "bool", "dict", "list", "str"
    ]  # fmt: skip


def test_secret_config_of_undeclared_type_is_one_line(runs):
    result, document = run_of(runs, "secret_config_undeclared")
    assert result.returncode == 1
    error = document["modes"]["preview"]["error"]
    assert "secret-config-undeclared:port" in error
    assert "cannot be decrypted offline" in error
    assert "declare its type in Pulumi.yaml" in error
    assert "type: integer" in error


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_unknown_secret_inside_an_object_is_sent_unknown_not_a_crash(runs, mode):
    _result, document = run_of(runs, "unknown_secret")
    assert "error" not in document["modes"][mode], document["modes"][mode]
    assert document["modes"][mode]["policy"]["resources"] == 3  # provider, queue, policy


# --- 7. multi-language components ----------------------------------------------------------------


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_multi_language_component_is_never_a_silent_green(runs, mode):
    result, document = run_of(runs, "remote_component")
    assert result.returncode == 3
    assert document["verdict"] == "incomplete"
    report = document["modes"][mode]
    assert report["verdict"] == "incomplete"
    assert report["policy"]["unexpanded"] == [
        {"type": "awsx:ec2:Vpc", "name": "vpc",
         "urn": "urn:pulumi:dev::remote-component::awsx:ec2:Vpc::vpc"}
    ]  # fmt: skip
    # Its outputs are not known offline: what is built from them is unknown, in both modes.
    assert report["outputs"]["vpcId"] == "(known after apply)"


def test_multi_language_component_text_report_says_what_was_not_checked():
    result = text_preflight(
        "remote_component", "--mode", "update", "--policy-config", "lenient.json"
    )
    assert result.returncode == 3, result.stdout
    assert ("incomplete: 1 multi-language component not expanded (its children were not "
            "created here, so not checked): awsx:ec2:Vpc vpc") in result.stdout  # fmt: skip
    assert "0 mandatory violations" not in result.stdout


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_method_of_a_multi_language_component_is_unknown_not_a_crash(runs, mode):
    # pulumi_eks's Cluster.get_kubeconfig (pulumi/pulumi-eks examples/aws-profile-role-py, in
    # the corpus): only the component's provider answers it, so its result is unknown.
    result, document = run_of(runs, "component_method_call")
    assert result.returncode == 3
    report = document["modes"][mode]
    assert report["verdict"] == "incomplete"
    assert report["outputs"]["kubeconfig"] == "(known after apply)"


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_method_of_a_resource_is_one_line_naming_the_call_and_the_flag(runs, mode):
    _, document = run_of(runs, "resource_method_call")
    token = "pulumi:providers:aws/terraformConfig"
    assert document["modes"][mode]["error"] == (
        f"the program stopped: resource method {token}: the preflight has no answer for it "
        f'offline; supply its result with --invokes FILE, a JSON file {{"{token}": '
        '{"<output>": <value>, ...}}'
    )


def test_invokes_file_answers_a_resource_method(tmp_path):
    answers = tmp_path / "invokes.json"
    token = "pulumi:providers:aws/terraformConfig"
    answers.write_text(json.dumps({token: {"result": {"region": "eu-central-1"}}}))
    result, document = preflight("resource_method_call", "--invokes", str(answers))
    assert result.returncode == 0, document
    config = document["modes"]["update"]["outputs"]["terraformConfig"]
    assert config == {"result": {"region": "eu-central-1"}}


@pytest.mark.parametrize("output", ["vpcId", "yamlVpcId"])
def test_cloudformation_stack_outputs_have_the_templates_keys(runs, output):
    # tusharshahrs/pulumi-homelab aws-cloudformation-py (in the corpus) reads
    # network.outputs["VpcId"]: None from the mocks stopped its update.
    _, document = run_of(runs, "cloudformation_outputs")
    assert document["modes"]["update"]["outputs"][output].startswith("vpc-")
    assert document["modes"]["preview"]["outputs"][output] == "(known after apply)"


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_program_is_told_the_organization_the_pack_is_told(runs, mode):
    # MitchellGerdisch/pulumi-work's blue-green API (in the corpus) passes get_organization()
    # to a required property: None stopped it ("Missing required property 'organization'").
    _, document = run_of(runs, "organization_name")
    outputs = document["modes"][mode]["outputs"]
    assert outputs["organization"] == "organization"
    notice = next(d for d in document["modes"][mode]["policy"]["diagnostics"]
                  if d["policy"] == "va-stack-notices")  # fmt: skip
    assert notice["message"].endswith(f"judged this stack {outputs['stack']}")


def test_attribute_read_through_an_output_that_fails_names_the_programs_line(runs):
    # pulumi/workshops aws-getting-started-k8s-py (in the corpus) reads
    # service.status.load_balancer: the SDK's own apply raises, with none of the program's
    # frames; the line is where the program made the read.
    _, document = run_of(runs, "lifted_attribute_fails")
    main = FIXTURES / "lifted_attribute_fails" / "__main__.py"
    assert document["modes"]["update"]["error"].startswith(
        f"the program stopped: {main}:9: AttributeError: 'NoneType' object has no attribute "
        "'target_bucket' (raised in an apply"
    )


# --- 8. computed ARNs in AWS's formats -----------------------------------------------------------


def test_rest_api_arns_are_aws_formats(runs):
    _, document = run_of(runs, "rest_api")
    outputs = document["modes"]["update"]["outputs"]
    api_id = outputs["apiExecutionArn"].rsplit(":", 1)[-1]
    assert re.fullmatch(r"[a-z0-9]{10}", api_id), outputs
    assert outputs["apiExecutionArn"] == f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}"
    assert outputs["stageExecutionArn"] == f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}/prod"
    assert outputs["apiArn"] == f"arn:aws:apigateway:{REGION}::/restapis/{api_id}"
    assert outputs["url"] == f"https://{api_id}.execute-api.{REGION}.amazonaws.com/prod"


@pytest.mark.parametrize("permission", ["stage-invoke", "api-invoke"])
def test_correct_permission_for_a_rest_api_passes_in_update(runs, permission):
    _, document = run_of(runs, "rest_api")
    assert diagnostics(document, "update", permission) == []


@pytest.mark.parametrize("permission", ["stage-invoke", "api-invoke"])
def test_permission_for_a_rest_api_is_unchecked_in_the_first_preview(runs, permission):
    _, document = run_of(runs, "rest_api")
    found = diagnostics(document, "preview", permission)
    assert [d["level"] for d in found] == ["advisory"]
    assert "unchecked" in found[0]["message"]
