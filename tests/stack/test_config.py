"""Stack config: good config loads with VA defaults; every bad value names key, value, rule."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stack.config import ConfigError, StackConfig, load_stack_config

BASE: dict[str, Any] = {
    "environment": "dev",
    "owner": "platform-team",
    "accountId": "123456789012",
    "vpcCidr": "10.20.0.0/16",
    "secrets": ["openai-api-key"],
    "functions": [{"purpose": "contentgen", "code": {"path": "src"}}],
}


def load(raw: dict[str, Any], region: str | None = "eu-central-1", **kw: Any) -> StackConfig:
    text = {k: v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}
    return load_stack_config(text.get, region, **kw)


def problems(raw: dict[str, Any], **kw: Any) -> str:
    with pytest.raises(ConfigError) as info:
        load(raw, **kw)
    return str(info.value)


def with_fn(**fields: Any) -> dict[str, Any]:
    return {**BASE, "functions": [{"purpose": "contentgen", "code": {"path": "src"}, **fields}]}


def test_minimal_config_gets_va_standard_defaults():
    fn = load(BASE).functions[0]
    assert (fn.runtime, fn.memory, fn.timeout) == ("python3.11", 256, 30)
    assert fn.runtime_management.mode == "Auto"


def test_nat_defaults_off_in_dev_and_on_in_prod():
    assert load(BASE).nat_enabled is False
    assert load({**BASE, "environment": "prod"}).nat_enabled is True


@pytest.mark.parametrize(
    ("raw", "key", "expected"),
    [
        pytest.param(with_fn(memory=64), "functions[0].memory = 64", "128-10240 MB", id="memory-low"),
        pytest.param(with_fn(memory=20480), "functions[0].memory = 20480", "128-10240", id="memory-high"),
        pytest.param(with_fn(timeout=0), "functions[0].timeout = 0", "1-300 seconds", id="timeout-zero"),
        pytest.param(with_fn(timeout=301), "functions[0].timeout = 301", "1-300 seconds", id="timeout-high"),
        pytest.param({**BASE, "environment": "staging"}, "environment = 'staging'", "allowed: dev, test, prod", id="environment"),
        pytest.param({**BASE, "secrets": ["OpenAI_Key"]}, "va-platform", "va/<env>/<name>", id="secret-name"),
        pytest.param(with_fn(env={"OPENAI_KEY": "sk-proj-abcdefghijklmnopqrstu"}), "functions[0].env", "looks like an 'sk-' API key", id="env-sk-key"),
        pytest.param(with_fn(env={"K": "AKIAIOSFODNN7EXAMPLE"}), "functions[0].env", "AWS access key id", id="env-aws-key"),
        pytest.param(with_fn(env={"K": "-----BEGIN PRIVATE KEY-----abc"}), "functions[0].env", "PEM private key", id="env-pem"),
        pytest.param(with_fn(env={"AWS_REGION": "x"}), "functions[0].env", "reserved by Lambda", id="env-reserved"),
        pytest.param(with_fn(runtime="python3.9"), "functions[0].runtime = 'python3.9'", "deprecated by AWS; allowed: python3.11", id="runtime-deprecated"),
        pytest.param(with_fn(runtime="nodejs20.x"), "functions[0].runtime", "unknown; allowed", id="runtime-unknown"),
        pytest.param(with_fn(runtimeManagement={"mode": "Manual"}), "functions[0].runtimeManagement", "needs runtimeVersionArn", id="manual-no-arn"),
        pytest.param(with_fn(runtimeManagement={"mode": "Sometimes"}), "runtimeManagement.mode = 'Sometimes'", "'Auto', 'FunctionUpdate' or 'Manual'", id="mode-unknown"),
        pytest.param(with_fn(purpose="Content-Gen"), "functions[0].purpose = 'Content-Gen'", "naming convention", id="purpose"),
        pytest.param(with_fn(secrets=["anthropic-api-key"]), "va-platform", "not declared in 'secrets'", id="undeclared-secret"),
        pytest.param(with_fn(tableActions=["dynamodb:*"]), "functions[0].tableActions", "allowed: dynamodb:BatchGetItem", id="table-star"),
        pytest.param(with_fn(handler="handler"), "functions[0]", "<module>.<function>", id="handler"),
        pytest.param(with_fn(memroy=512), "functions[0].memroy = 512", "unknown key; allowed: purpose, code", id="misspelt-key"),
        pytest.param({**BASE, "vpcCidr": "8.8.0.0/16"}, "vpcCidr = '8.8.0.0/16'", "private", id="public-cidr"),
        pytest.param({**BASE, "vpcCidr": "10.0.0.0/8"}, "vpcCidr = '10.0.0.0/8'", "between /16 and /24", id="cidr-size"),
        pytest.param({**BASE, "availabilityZones": ["eu-central-1a"]}, "va-platform", "two or more", id="one-az"),
        pytest.param({**BASE, "availabilityZones": ["eu-central-1a", "us-east-1b"]}, "va-platform", "not a zone of eu-central-1", id="foreign-az"),
        pytest.param({**BASE, "logRetentionDays": 10}, "logRetentionDays = 10", "allowed: 1, 3, 5, 7, 14", id="retention"),
        pytest.param({**BASE, "alarmEmail": "ops"}, "alarmEmail = 'ops'", "not an e-mail", id="email"),
    ],
)  # fmt: skip
def test_bad_value_is_reported_with_key_value_and_rule(raw, key, expected):
    message = problems(raw)
    line = next((ln for ln in message.splitlines() if key in ln), None)
    assert line is not None, message
    assert expected in line


def test_region_other_than_eu_central_1_is_reported_as_aws_region():
    assert "aws:region = 'us-east-1'" in problems(BASE, region="us-east-1")


def test_missing_region_is_reported():
    assert "aws:region is not set" in problems(BASE, region=None)


def test_missing_required_key_is_reported():
    raw = {k: v for k, v in BASE.items() if k != "owner"}
    assert "va-platform:owner: required but not set" in problems(raw)


def test_unknown_top_level_key_is_reported():
    message = problems(BASE, present_keys=frozenset({"natGatway"}))
    assert "va-platform:natGatway: unknown config key; allowed:" in message


def test_a_plaintext_value_under_a_secrets_name_is_refused_with_the_out_of_band_step():
    message = problems(BASE, present_keys=frozenset({"openai-api-key"}), secret_keys=frozenset())
    assert "va-platform:openai-api-key" in message
    assert "pulumi config rm openai-api-key" in message
    assert "aws secretsmanager put-secret-value" in message
    assert "config set --secret" not in message


def test_a_secure_value_stops_the_config_with_one_line_naming_the_key_the_fix_and_why():
    present = frozenset({"openai-api-key"})
    message = problems(BASE, present_keys=present, secret_keys=present)
    assert "\n" not in message
    assert "va-platform:openai-api-key" in message
    assert "pulumi config rm openai-api-key" in message
    assert "out of band" in message
    assert "every preview" in message
    assert "pull request" in message


def test_any_secure_value_in_the_namespace_stops_the_config_not_only_a_secrets():
    present = frozenset({"alarmEmail", "openai-api-key"})
    message = problems(
        {**BASE, "alarmEmail": "a@example.com"}, present_keys=present, secret_keys=present
    )
    assert "va-platform:alarmEmail" in message
    assert "va-platform:openai-api-key" in message


def test_a_secure_value_is_the_only_line_whatever_else_is_wrong():
    present = frozenset({"openai-api-key", "natGatway"})
    message = problems(
        with_fn(memory=64), present_keys=present, secret_keys=frozenset({"openai-api-key"})
    )
    assert "\n" not in message
    assert "memory" not in message
    assert "natGatway" not in message


def test_all_problems_come_in_one_message():
    message = problems({**with_fn(memory=64, timeout=999), "environment": "qa"})
    assert message.count("\n  - ") == 3


def test_secret_value_in_env_is_not_echoed():
    key = "sk-proj-abcdefghijklmnopqrstu"
    assert key not in problems(with_fn(env={"OPENAI_KEY": key}))


def test_manual_runtime_management_with_arn_is_accepted():
    arn = "arn:aws:lambda:eu-central-1::runtime:" + "a" * 64
    fn = load(with_fn(runtimeManagement={"mode": "Manual", "runtimeVersionArn": arn}))
    assert fn.functions[0].runtime_management.runtime_version_arn == arn


def test_image_function_rejects_runtime_management():
    uri = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/va-dev-agent-ecr:abc"
    raw = {**BASE, "functions": [{"purpose": "agent", "code": {"imageUri": uri},
                                  "runtimeManagement": {"mode": "FunctionUpdate"}}]}  # fmt: skip
    assert "managed runtimes only" in problems(raw)


def test_duplicate_function_purposes_are_reported():
    fn = {"purpose": "x1", "code": {"path": "a"}}
    assert "repeated: x1" in problems({**BASE, "functions": [fn, fn]})


def test_agents_without_a_nat_gateway_are_refused():
    raw = {**BASE, "natGateway": False, "secrets": ["anthropic-api-key"],
           "agents": [{"purpose": "agent"}]}  # fmt: skip

    assert "agents need natGateway: true" in problems(raw)


def test_api_key_agent_needs_the_anthropic_key_secret_declared():
    raw = {**BASE, "natGateway": True, "agents": [{"purpose": "agent"}]}

    assert "declare 'anthropic-api-key' in 'secrets'" in problems(raw)


def test_agent_purpose_may_not_repeat_a_function_purpose():
    raw = {**BASE, "natGateway": True, "secrets": ["anthropic-api-key"],
           "functions": [{"purpose": "agent", "code": {"path": "src"}}],
           "agents": [{"purpose": "agent"}]}  # fmt: skip

    assert "functions and agents: each name may appear once" in problems(raw)


def test_bad_agent_field_is_named_with_its_path():
    raw = {**BASE, "natGateway": True, "secrets": ["anthropic-api-key"],
           "agents": [{"purpose": "agent", "memory": 512}]}  # fmt: skip

    assert "va-platform:agents[0].memory = 512" in problems(raw)


def two_functions(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    return {**BASE, "functions": [
        {"purpose": "drafts", "code": {"path": "src"}, "triggers": [first]},
        {"purpose": "reports", "code": {"path": "src"}, "triggers": [second]},
    ]}  # fmt: skip


def test_bucket_trigger_on_the_artifacts_bucket_is_refused():
    message = problems(with_fn(triggers=[{"kind": "bucket", "bucket": "artifacts"}]))

    assert "functions[contentgen].triggers[0].bucket = 'artifacts': not a trigger source" in message
    assert "allowed: content" in message


def test_bucket_trigger_on_a_bucket_the_stack_does_not_have_is_refused():
    message = problems(with_fn(triggers=[{"kind": "bucket", "bucket": "media"}]))

    assert "bucket = 'media': not a bucket of the stack; allowed: content" in message


def test_overlapping_bucket_triggers_of_two_functions_are_refused_naming_both():
    raw = two_functions({"kind": "bucket", "prefix": "in/"}, {"kind": "bucket", "suffix": ".csv"})

    message = problems(raw)
    assert "drafts's trigger (s3:ObjectCreated:* of prefix 'in/')" in message
    assert "reports's (s3:ObjectCreated:* of suffix '.csv')" in message
    assert "Configuration is ambiguously defined" in message


def test_bucket_triggers_of_two_functions_on_different_prefixes_are_accepted():
    raw = two_functions({"kind": "bucket", "prefix": "in/"}, {"kind": "bucket", "prefix": "out/"})

    assert len(load(raw).functions) == 2


def test_misspelt_trigger_key_is_reported_with_that_kinds_keys():
    message = problems(with_fn(triggers=[{"kind": "bucket", "prefx": "in/"}]))

    assert (
        "functions[0].triggers[0].prefx = 'in/': unknown key; allowed: kind, bucket, prefix, "
        "suffix, events"
    ) in message


def test_pulumi_yaml_declares_every_key_the_program_reads():
    """The CLI checks types of declared keys only; an undeclared key would reach us unchecked."""
    import yaml

    from stack.config import CONFIG_KEYS
    from tests.paths import PROJECT_ROOT

    declared = yaml.safe_load((PROJECT_ROOT / "Pulumi.yaml").read_text())["config"]
    assert sorted(set(CONFIG_KEYS) - set(declared)) == []


def test_account_id_is_required():
    assert "va-platform:accountId: required but not set" in problems(
        {k: v for k, v in BASE.items() if k != "accountId"}
    )


@pytest.mark.parametrize("allowed", [[], ["210987654321"], ["123456789012", "210987654321"]])
def test_the_provider_must_allow_exactly_the_stacks_account(allowed):
    """aws:allowedAccountIds is what makes the AWS provider refuse credentials of another
    account before it changes anything; missing or wider, a deploy could land elsewhere."""
    assert "aws:allowedAccountIds" in problems(BASE, allowed_account_ids=allowed)


def test_the_stacks_account_as_the_only_allowed_one_is_accepted():
    assert load(BASE, allowed_account_ids=["123456789012"]).account_id == "123456789012"
