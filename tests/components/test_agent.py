"""FAALF agents: profiles, the image component, and the agent functions of both stacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from faalf.settings import Settings
from tests.support import CTX, one, stack_config
from va_platform.components.agent import AgentProfile, VaAgentImage, VaAgentImageArgs
from va_platform.components.agent.image import context_hash
from va_platform.components.agent.profile import AgentImageSettings, bedrock_model_arns
from va_platform.packaging import revision
from va_platform.preflight.mocks import account_of
from va_platform.preflight.runner import Run, run_program, run_under_mocks

AGENT_IMAGE = Path(__file__).resolve().parents[2] / "agent_image"


@pytest.fixture(scope="module")
def dev() -> Run:
    run = run_program("dev")
    assert run.error is None, run.error
    return run


@pytest.fixture(scope="module")
def prod() -> Run:
    run = run_program("prod")
    assert run.error is None, run.error
    return run


def statements(run: Run, purpose: str) -> dict[str, dict]:
    doc = json.loads(run.named(f"agent-{purpose}-role-policy").inputs["policy"])
    return {st["Sid"]: st for st in doc["Statement"]}


# --- profiles ------------------------------------------------------------------------------


def test_profile_defaults_meet_the_agent_minimums():
    spec = AgentProfile(purpose="agent").function_spec()

    assert (spec.memory, spec.timeout, spec.ephemeral_storage) == (2048, 300, 4096)
    assert spec.is_image
    assert spec.reserved_concurrency == 5


def test_profile_env_is_what_the_handler_reads():
    profile = AgentProfile(
        purpose="agent", models=("claude-haiku-4-5", "claude-sonnet-4-5"), max_budget_usd=0.5,
        max_turns=7, max_depth=1,
    )  # fmt: skip
    env = profile.function_spec().env | {"FAALF_API_KEY_SECRET": "arn:aws:secretsmanager:x"}
    settings = Settings.from_env(env)

    assert settings.allowed_models == ("claude-haiku-4-5", "claude-sonnet-4-5")
    assert (settings.default_model, settings.max_budget_usd) == ("claude-haiku-4-5", 0.5)
    assert (settings.max_turns, settings.max_depth, settings.auth_mode) == (7, 1, "api-key")


def test_api_key_profile_reads_the_key_secret_through_faalf_api_key_secret():
    (ref,) = AgentProfile(purpose="agent").function_spec().secrets

    assert (ref.name, ref.env_var) == ("anthropic-api-key", "FAALF_API_KEY_SECRET")


def test_bedrock_profile_has_no_secret_and_sets_bedrock_mode():
    spec = AgentProfile(purpose="agent", auth_mode="bedrock").function_spec()

    assert spec.secrets == ()
    assert spec.env["FAALF_AUTH_MODE"] == "bedrock"
    # The handler sets CLAUDE_CODE_USE_BEDROCK for the CLI only; the function does not need it.
    assert "CLAUDE_CODE_USE_BEDROCK" not in spec.env


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"memory": 1024}, "greater than or equal to 2048"),
        ({"ephemeral_storage": 512}, "greater than or equal to 2048"),
        ({"timeout": 900}, "less than or equal to 300"),
        ({"default_model": "claude-opus-4-1"}, "not in models"),
        ({"statements": [{"sid": "All", "actions": ["s3:*"], "resources": ["*"]}]},
         "grants s3:\\*; name the actions"),
        ({"statements": [{"sid": "Read", "actions": ["s3:GetObject"], "resources": ["*"]}]},
         "grants s3:GetObject on Resource '\\*'.*name the exact ARNs"),
    ],
    ids=["memory", "storage", "timeout", "default model", "service star", "star resource"],
)  # fmt: skip
def test_profile_refuses_what_the_standard_does_not_allow(fields, message):
    with pytest.raises(ValidationError, match=message):
        AgentProfile(purpose="agent", **fields)


def test_profile_statement_may_use_star_for_actions_aws_lists_no_resource_types_for():
    statement = {"sid": "SessionChannels", "resources": ["*"],
                 "actions": ["ssmmessages:CreateControlChannel", "ssmmessages:OpenDataChannel"]}  # fmt: skip
    assert AgentProfile(purpose="agent", statements=[statement]).statements[0].resources == ("*",)


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ({"sid": "Typo", "actions": ["dynamodb:PutItems"],
          "resources": ["arn:aws:dynamodb:eu-central-1:123456789012:table/t"]},
         "grants dynamodb:PutItems \\(unknown in AWS's Service Authorization Reference"),
        ({"sid": "WrongArn", "actions": ["dynamodb:PutItem"],
          "resources": ["arn:aws:s3:::va-dev-content-bucket/*"]},
         "none of which is an ARN it takes"),
    ],
    ids=["unknown action", "arn of another type"],
)  # fmt: skip
def test_profile_refuses_a_statement_aws_would_deny(statement, message):
    with pytest.raises(ValidationError, match=message):
        AgentProfile(purpose="agent", statements=[statement])


def test_inference_profile_model_needs_the_profile_and_the_foundation_model():
    arns = bedrock_model_arns("eu-central-1", "123456789012", "eu.anthropic.claude-x-v1:0")

    assert arns == [
        "arn:aws:bedrock:eu-central-1:123456789012:inference-profile/eu.anthropic.claude-x-v1:0",
        "arn:aws:bedrock:*::foundation-model/anthropic.claude-x-v1:0",
    ]


# --- the image component -------------------------------------------------------------------


@pytest.fixture(scope="module")
def image_run() -> Run:
    settings = AgentImageSettings(platform="linux/arm64", keep_images=7)
    args = VaAgentImageArgs(context=CTX, directory=AGENT_IMAGE, tag="abc123", settings=settings)
    return run_under_mocks(lambda: VaAgentImage("agent-image", args))


def test_repository_is_named_immutable_scanned_and_encrypted(image_run):
    repo = one(image_run, "aws:ecr/repository:Repository")

    assert repo["name"] == "va-dev-agent-ecr"
    assert repo["imageTagMutability"] == "IMMUTABLE"
    assert repo["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repo["encryptionConfigurations"] == [{"encryptionType": "KMS"}]


def test_lifecycle_keeps_the_newest_n_images(image_run):
    rule = json.loads(one(image_run, "aws:ecr/lifecyclePolicy:LifecyclePolicy")["policy"])
    (only,) = rule["rules"]

    assert only["selection"]["countType"] == "imageCountMoreThan"
    assert only["selection"]["countNumber"] == 7


def test_image_is_built_for_the_platform_and_tagged_with_the_commit(image_run):
    image = one(image_run, "docker:index/image:Image")

    assert image["imageName"].endswith("/va-dev-agent-ecr:abc123")
    assert image["build"]["platform"] == "linux/arm64"
    assert image["build"]["context"] == str(AGENT_IMAGE)


def test_image_children_are_parented_to_the_component(image_run):
    children = [r for r in image_run.resources if "VaAgentImage$" in r.urn]

    assert len(children) == 3


def test_dirty_tree_tag_carries_the_content_hash():
    assert revision("abc123", dirty=False, content_sha256_hex="f" * 64) == "abc123"
    assert (
        revision("abc123", dirty=True, content_sha256_hex="0123456789abcdef")
        == "abc123-dirty-0123456789ab"
    )


def test_context_hash_changes_with_the_handler(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM x\n")
    (tmp_path / "lambda_function.py").write_text("a = 1\n")
    before = context_hash(tmp_path)
    (tmp_path / "lambda_function.py").write_text("a = 2\n")

    assert context_hash(tmp_path) != before


# --- the agent functions in the stacks -------------------------------------------------------


def test_agent_function_runs_the_pushed_image_by_digest(dev):
    fn = dev.named("agent-agent-function").inputs

    assert fn["packageType"] == "Image"
    assert "/va-dev-agent-ecr@sha256:" in fn["imageUri"]
    assert fn["name"] == "va-dev-agent-lambda"


def test_agent_function_has_the_agent_sizing_in_the_vpc(dev):
    fn = dev.named("agent-agent-function").inputs

    assert fn["memorySize"] >= 2048
    assert fn["timeout"] == 300
    assert fn["ephemeralStorage"]["size"] >= 2048
    assert fn["vpcConfig"]["subnetIds"]
    assert fn["reservedConcurrentExecutions"] == 3


def test_api_key_agent_may_read_only_the_anthropic_key_secret(dev):
    st = statements(dev, "agent")
    secret_statements = [s for s in st.values() if "secretsmanager:GetSecretValue" in s["Action"]]

    (only,) = secret_statements
    resources = only["Resource"] if isinstance(only["Resource"], list) else [only["Resource"]]
    assert [r.split(":secret:")[1] for r in resources] == ["va/dev/anthropic-api-key-AbCdEf"]


def test_agent_with_children_may_invoke_only_itself(dev):
    st = statements(dev, "agent")["InvokeChildAgents"]

    assert st["Action"] == ["lambda:InvokeFunction"]
    assert st["Resource"] == "arn:aws:lambda:eu-central-1:123456789012:function:va-dev-agent-lambda"


def test_costreview_agent_role_holds_the_profile_statements_only(dev):
    doc = json.loads(dev.named("agent-costreview-agent-role-policy").inputs["policy"])

    assert [(st["Sid"], st["Action"], st["Resource"]) for st in doc["Statement"]] == [
        ("CostExplorerRead",
         ["ce:GetCostAndUsage", "ce:GetCostForecast", "ce:GetDimensionValues"],
         "arn:aws:billing::*:billingview/primary"),
    ]  # fmt: skip


def test_profile_statements_are_not_on_the_function_role(dev):
    """The function role holds the key secret: the agent must never act with it."""
    actions = [a for st in statements(dev, "costreview").values() for a in st["Action"]]

    assert not [a for a in actions if a.startswith("ce:")]
    assert "InvokeChildAgents" not in statements(dev, "costreview")


def test_agent_role_is_assumable_by_its_function_role_only(dev):
    trust = json.loads(dev.named("agent-costreview-agent-role").inputs["assumeRolePolicy"])

    (st,) = trust["Statement"]
    assert st["Principal"] == {
        "AWS": "arn:aws:iam::123456789012:role/va-dev-costreview-lambda-role"
    }
    assert st["Action"] == "sts:AssumeRole"


def test_function_role_may_assume_exactly_its_agent_role(dev):
    st = statements(dev, "costreview")["AssumeAgentRole"]

    assert st["Action"] == ["sts:AssumeRole"]
    assert st["Resource"] == "arn:aws:iam::123456789012:role/va-dev-costreview-agent-role"


def test_handler_is_told_the_agent_role_to_assume(dev):
    env = dev.named("agent-costreview-function").inputs["environment"]["variables"]

    assert env["FAALF_AGENT_ROLE_ARN"] == (
        "arn:aws:iam::123456789012:role/va-dev-costreview-agent-role"
    )


def test_profile_without_statements_has_no_agent_role(dev):
    env = dev.named("agent-agent-function").inputs["environment"]["variables"]

    assert "FAALF_AGENT_ROLE_ARN" not in env
    assert not [r for r in dev.resources if r.name.startswith("agent-agent-agent-role")]
    assert "AssumeAgentRole" not in statements(dev, "agent")


def test_bedrock_agent_may_invoke_only_its_models_and_reads_no_secret(prod):
    st = statements(prod, "costreview")
    account = account_of(stack_config("prod"))  # prod's own account, not dev's

    assert sorted(st["InvokeAllowedModels"]["Resource"]) == [
        "arn:aws:bedrock:*::foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0",
        f"arn:aws:bedrock:eu-central-1:{account}:inference-profile/"
        "eu.anthropic.claude-haiku-4-5-20251001-v1:0",
    ]
    assert not any("secretsmanager:GetSecretValue" in s["Action"] for s in st.values())


def test_agents_alarm_on_spend_and_dropped_recursion(dev):
    cost = dev.named("agent-agent-cost-alarm").inputs
    recursion = dev.named("agent-agent-recursion-alarm").inputs

    assert (cost["namespace"], cost["metricName"], cost["threshold"]) == (
        "VA/FAALF", "AgentCostUSD", 5.0,
    )  # fmt: skip
    assert cost["dimensions"] == {"service": "va-dev-agent-lambda"}
    assert recursion["metricName"] == "RecursiveInvocationsDropped"


def test_agent_recursive_loops_are_terminated(dev):
    config = dev.named("agent-agent-recursion").inputs

    assert config["recursiveLoop"] == "Terminate"


@pytest.mark.parametrize(
    ("settings", "variant"),
    [
        pytest.param({}, (), id="default"),
        pytest.param({"platform": "linux/arm64"}, ("arm64",), id="arm64"),
        pytest.param({"extra_requirements": "requirements-data.txt"}, ("data",), id="extra"),
    ],
)
def test_image_variant_names_what_differs_from_the_default_build(settings, variant):
    """ECR tags are immutable: the same commit built another way needs another tag."""
    assert AgentImageSettings(**settings).variant == variant


@pytest.mark.parametrize(
    "action",
    ["secretsmanager:GetSecretValue", "lambda:InvokeFunction", "sts:AssumeRole",
     "iam:PassRole", "ec2:CreateNetworkInterface", "bedrock:InvokeModel",
     "cloudwatch:PutMetricData", "logs:PutLogEvents"],
)  # fmt: skip
def test_profile_cannot_give_the_agent_what_the_handler_alone_may_do(action):
    """The agent role is the attacker's: no secrets, no invoking (the depth limit), no roles,
    no network interfaces, no model calls around the proxy's budget, and no metric or log
    writes (a negative AgentCostUSD, as a metric or an embedded-metric log line, would hide
    spend from the cost alarm)."""
    statement = {"sid": "Sneaky", "actions": [action], "resources": ["arn:aws:x:eu-central-1:1:y"]}
    with pytest.raises(ValidationError, match="the agent itself may not"):
        AgentProfile(purpose="agent", statements=[statement])


def test_agent_role_may_be_assumed_only_under_the_handlers_session_names(dev):
    trust = json.loads(dev.named("agent-costreview-agent-role").inputs["assumeRolePolicy"])

    (st,) = trust["Statement"]
    assert st["Condition"] == {"StringLike": {"sts:RoleSessionName": "faalf-*"}}
