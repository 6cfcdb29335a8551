"""The whole program under mocks, per stack file, and its refusal of bad config."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pulumi
import pytest

from policies.va_guard import naming, standard, tagging
from tests.conventions import (
    parse_artifact_key,
    parse_physical_name,
    parse_secret_name,
)
from tests.policies.support import resource
from tests.support import is_taggable, with_bucket_triggers
from va_platform.components.context import VaContext
from va_platform.components.secret import VaSecret, VaSecretArgs
from va_platform.preflight.runner import Run, run_program, run_under_mocks, stack_config

SECRET_VALUE = "sk-proj-not-a-real-key-0123456789abcdef"
OPERATIONS = Path(__file__).resolve().parents[1] / "docs" / "operations.md"


@pytest.fixture(scope="module", params=["dev", "prod"])
def stack_run(request) -> Run:
    run = run_program(request.param)
    assert run.error is None, run.error
    return run


def convention_problem(type_: str, name: str) -> str | None:
    if type_ == "aws:secretsmanager/secret:Secret":
        return None if parse_secret_name(name) else "secret off va/<env>/<name>"
    if type_ == "aws:cloudwatch/logGroup:LogGroup":
        fn = name.removeprefix(standard.LOG_GROUP_PREFIX)
        ok = parse_physical_name(fn)  # a function's, or its own (an HTTP API's access logs)
        return None if ok else "log group off /aws/lambda/<function> or va-<env>-<purpose>-<type>"
    if type_ == "aws:s3/bucketObjectv2:BucketObjectv2":
        ok = parse_artifact_key(name)
        return None if ok else "artifact off va-<env>-<purpose>-lambda-<commit>.zip"
    if type_ == "aws:kms/alias:Alias":
        ok = parse_physical_name(name.removeprefix("alias/"))
        return None if ok else "alias off alias/va-<env>-<purpose>-<type>"
    return None if parse_physical_name(name) else "name off va-<env>-<purpose>-<type>"


@pytest.mark.parametrize("family", [tagging.FAMILY, naming.FAMILY], ids=lambda f: f.name)
def test_the_pack_finds_nothing_wrong_with_names_and_tags(stack_run, family):
    """Judged by the pack's own rules (in process), not by a copy of them."""
    judged = [r for r in stack_run.resources if r.custom and family.applies_to(r.type)]
    assert len(judged) > 10
    config = family.config(None)
    found = {r.name: family.evaluate(resource(r.type, r.inputs, r.name), config) for r in judged}
    assert {name: f for name, f in found.items() if f != ([], [])} == {}


def test_every_tag_environment_is_the_stacks(stack_run):
    envs = {r.inputs["tags"]["Environment"] for r in stack_run.resources if is_taggable(r.type)}
    assert envs == {stack_run.stack}


def test_every_name_tag_follows_the_convention(stack_run):
    for r in stack_run.resources:
        tags = r.inputs.get("tags")
        if isinstance(tags, dict) and r.type != "aws:cloudwatch/logGroup:LogGroup":
            assert convention_problem(r.type, tags["Name"]) is None, (r.name, tags["Name"])


def test_every_resource_belongs_to_a_va_component(stack_run):
    for r in stack_run.resources:
        assert r.parent_type.startswith("va:") or r.type.startswith("va:"), r.urn


def test_stack_outputs_name_functions_roles_topic_and_network(stack_run):
    out = stack_run.outputs
    env = stack_run.stack
    assert out["functionNames"] == {"contentgen": f"va-{env}-contentgen-lambda"}
    assert out["functionArns"]["contentgen"].endswith(f":function:va-{env}-contentgen-lambda")
    assert out["roleArns"]["contentgen"].endswith(f":role/va-{env}-contentgen-lambda-role")
    assert out["alarmTopicArn"].endswith(f":va-{env}-alarms-topic")
    assert out["vpcId"].startswith("vpc-")
    assert all(s.startswith("subnet-") for s in out["privateSubnetIds"])


def test_contentgen_may_write_exactly_the_core_table_and_content_bucket(stack_run):
    env = stack_run.stack
    policy = json.loads(stack_run.named("fn-contentgen-role-policy").inputs["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["TableAccess"]["Action"] == ["dynamodb:PutItem"]
    assert by_sid["TableAccess"]["Resource"].endswith(f":table/va-{env}-core-dynamodb")
    assert by_sid["BucketObjects"] == {
        "Sid": "BucketObjects", "Effect": "Allow", "Action": ["s3:PutObject"],
        "Resource": f"arn:aws:s3:::va-{env}-content-bucket/*",
    }  # fmt: skip


def test_contentgen_env_names_its_table_bucket_and_secret_arn(stack_run):
    env = stack_run.stack
    fn = stack_run.named("fn-contentgen-function").inputs
    variables = fn["environment"]["variables"]
    assert variables["DYNAMODB_TABLE"] == f"va-{env}-core-dynamodb"
    assert variables["S3_BUCKET"] == f"va-{env}-content-bucket"
    assert variables["OPENAI_API_KEY_SECRET_ARN"].startswith("arn:aws:secretsmanager:")


def test_stacks_with_agents_have_one_nat_gateway(stack_run):
    """Both stacks run agents, which reach their API through NAT (dev's default is off)."""
    nats = stack_run.of_type("aws:ec2/natGateway:NatGateway")
    assert len(nats) == 1


def test_each_secret_names_its_out_of_band_step_not_a_config_command(stack_run):
    logs = "\n".join(stack_run.logs)
    assert (
        f"aws secretsmanager put-secret-value --secret-id va/{stack_run.stack}/openai-api-key"
        in logs
    )
    assert "config set --secret" not in logs


def test_the_program_reads_no_secrets_value_from_config(monkeypatch):
    read: list[str] = []
    original = pulumi.config.get_config
    monkeypatch.setattr(pulumi.config, "get_config", lambda k: read.append(k) or original(k))
    run = run_program("dev")
    assert run.error is None, run.error
    declared = stack_config("dev")["va-platform:secrets"]
    assert read
    assert not [k for k in read if k.removeprefix("va-platform:") in declared]


def test_a_secure_config_value_stops_the_program_with_one_line_before_any_resource():
    """The CLI decrypts every secure value for every preview, a pull request's included, and
    hands it to the program (PULUMI_CONFIG) whether it reads it or not."""
    run = run_program("dev", secrets={"va-platform:openai-api-key": SECRET_VALUE})
    message = str(run.error)
    assert "\n" not in message
    assert "va-platform:openai-api-key" in message
    assert "pulumi config rm openai-api-key" in message
    assert SECRET_VALUE not in message
    assert run.resources == []


def test_a_secure_value_the_cli_hands_over_in_its_environment_stops_the_program(monkeypatch):
    """As `pulumi preview` runs the program: the decrypted config in PULUMI_CONFIG, the names of
    the secure keys in PULUMI_CONFIG_SECRET_KEYS (pulumi-language-python)."""
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"va-platform:anthropic-api-key": SECRET_VALUE}))
    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", json.dumps(["va-platform:anthropic-api-key"]))
    run = run_program("dev")
    assert "pulumi config rm anthropic-api-key" in str(run.error)
    assert SECRET_VALUE not in str(run.error)
    assert run.resources == []


def test_a_secure_value_of_another_namespace_is_not_the_programs_to_refuse(monkeypatch):
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"other:token": SECRET_VALUE}))
    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", json.dumps(["other:token"]))
    run = run_program("dev")
    assert run.error is None, run.error


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_migration_removes_from_state_each_secret_version_values_in_config_made(stack):
    """docs/operations.md's `pulumi state delete` names, for each declared secret, the
    SecretVersion a value in config made (the library's VaSecret given one), so the next
    `pulumi up` deletes none (pulumi-aws would read it back and strip its labels)."""
    template = re.search(r'"(urn:pulumi:[^"]+-version)"', OPERATIONS.read_text(encoding="utf-8"))
    assert template is not None
    ctx = VaContext(environment=stack, owner="platform-team")
    for leaf in stack_config(stack)["va-platform:secrets"]:
        value = pulumi.Output.secret(SECRET_VALUE)
        run = run_under_mocks(
            lambda leaf=leaf, value=value: VaSecret(
                f"secret-{leaf}", VaSecretArgs(ctx, leaf, value=value)
            ),
            stack=stack,
            project="va-platform",
        )
        (version,) = run.of_type("aws:secretsmanager/secretVersion:SecretVersion")
        urn = template.group(1).replace("\\$", "$").replace("$stack", stack)
        assert urn.replace("$leaf", leaf) == version.urn


def with_config(change: dict[str, Any]) -> dict[str, Any]:
    config = stack_config("dev")
    for key, value in change.items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    return config


def first_fn(**fields: Any) -> dict[str, Any]:
    fn = dict(stack_config("dev")["va-platform:functions"][0])
    fn.update(fields)
    return {"va-platform:functions": [fn]}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(first_fn(memory=64), "va-platform:functions[0].memory = 64: must be within 128-10240 MB", id="memory"),
        pytest.param(first_fn(timeout=900), "va-platform:functions[0].timeout = 900: must be within 1-300 seconds", id="timeout"),
        pytest.param({"va-platform:environment": "staging"}, "va-platform:environment = 'staging'", id="environment"),
        pytest.param({"aws:region": "us-east-1"}, "aws:region = 'us-east-1'", id="region"),
        pytest.param({"aws:region": None}, "aws:region is not set", id="no-region"),
        pytest.param({"va-platform:secrets": ["OpenAI"]}, "va/<env>/<name>", id="secret-name"),
        pytest.param(first_fn(env={"KEY": "sk-proj-abcdefghijklmnopqrstuv"}), "looks like an 'sk-' API key", id="env-secret"),
        pytest.param(first_fn(env={"KEY": "AKIAIOSFODNN7EXAMPLE"}), "looks like an AWS access key id", id="env-aws-key"),
        pytest.param(first_fn(runtimeManagement={"mode": "Manual"}), "needs runtimeVersionArn", id="manual-no-arn"),
        pytest.param(first_fn(code={"path": "does/not/exist"}), "is not a directory", id="missing-code"),
        pytest.param(first_fn(code={"path": "../../etc"}), "must be a directory inside the project", id="code-outside"),
        pytest.param({"va-platform:natGatway": True}, "va-platform:natGatway: unknown config key", id="misspelt-key"),
    ],
)  # fmt: skip
def test_bad_config_stops_the_program_before_any_resource(change, expected):
    run = run_program("dev", config=with_config(change))
    assert run.error is not None
    assert expected in str(run.error)
    assert run.resources == []


def test_secret_value_in_plaintext_config_stops_the_program_without_echoing_it():
    run = run_program("dev", config=with_config({"va-platform:openai-api-key": SECRET_VALUE}))
    assert "pulumi config rm openai-api-key" in str(run.error)
    assert SECRET_VALUE not in str(run.error)
    assert run.resources == []


def test_stack_reserved_concurrency_applies_to_functions_without_their_own():
    config = stack_config("dev")
    config["va-platform:reservedConcurrency"] = 7
    run = run_program("dev", config=config)
    assert run.error is None, run.error
    assert run.named("fn-contentgen-function").inputs["reservedConcurrentExecutions"] == 7


def test_bucket_triggers_of_every_function_share_the_content_buckets_one_notification():
    run = run_program("dev", config=with_bucket_triggers())
    assert run.error is None, run.error

    (notification,) = run.of_type("aws:s3/bucketNotification:BucketNotification")
    assert notification.inputs["bucket"] == "va-dev-content-bucket"
    targets = sorted(c["lambdaFunctionArn"] for c in notification.inputs["lambdaFunctions"])
    assert [t.split(":", 6)[-1] for t in targets] == [
        "va-dev-contentgen-lambda:live",
        "va-dev-reports-lambda",
    ]
    assert notification.parent_type == "va:data:VaBucketNotifications"


def test_dev_and_prod_declare_different_accounts():
    """One account per environment (issue 22): each stack file declares its own and the
    provider allows only it, so a test true only because dev and prod shared one fails."""
    configs = [stack_config(stack) for stack in ("dev", "prod")]
    assert [c["aws:allowedAccountIds"] for c in configs] == [
        [c["va-platform:accountId"]] for c in configs
    ]
    assert configs[0]["va-platform:accountId"] != configs[1]["va-platform:accountId"]


def test_each_plan_runs_in_its_stacks_account(stack_run):
    """The preflight's mocks answer with the account the stack declares: every role ARN of a
    plan is in that account."""
    declared = stack_config(stack_run.stack)["va-platform:accountId"]
    accounts = {str(r.outputs["arn"]).split(":")[4] for r in stack_run.of_type("aws:iam/role:Role")}
    assert accounts == {declared}


def test_no_reserved_sid_names_a_resource_of_this_program(stack_run):
    """The library's own Sids reach every team's policies and errors: none may read as this
    repository's resources (CoreTableAccess, ContentBucketObjects did)."""
    from va_platform.components.lambda_function.spec import RESERVED_SIDS

    purposes = {
        parsed[1]
        for r in stack_run.resources
        if r.custom
        and (parsed := parse_physical_name(str(r.inputs.get("name") or r.inputs.get("bucket"))))
    }
    assert {"core", "content", "contentgen"} <= purposes
    named = {sid for sid in RESERVED_SIDS for p in purposes if p.capitalize() in sid}
    assert named == set()
