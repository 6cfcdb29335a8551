"""The conventions every component and policy shares: names, secrets, tags, regions, runtimes."""

from __future__ import annotations

import secrets
from datetime import date

import pytest

from tests.conventions import parse_physical_name, parse_secret_name, tag_violations
from va_platform import standard


def test_physical_name_follows_va_env_purpose_type():
    assert standard.physical_name("prod", "example", "lambda") == "va-prod-example-lambda"


def test_physical_name_with_multi_part_type_matches_the_name_pattern():
    name = standard.physical_name("dev", "contentgen", "lambda-role")
    m = standard.PHYSICAL_NAME_RE.match(name)
    assert m is not None
    assert (m["env"], m["purpose"], m["type"]) == ("dev", "contentgen", "lambda-role")


@pytest.mark.parametrize("env", ["staging", "Prod", ""])
def test_unknown_environment_is_rejected_with_allowed_values(env):
    with pytest.raises(ValueError, match="allowed: dev, test, prod"):
        standard.physical_name(env, "core", "dynamodb")


@pytest.mark.parametrize("purpose", ["Content", "content-gen", "x", "1core", "a" * 33])
def test_bad_purpose_is_rejected_naming_the_rule(purpose):
    with pytest.raises(ValueError, match=r"purpose .* does not follow the naming convention"):
        standard.physical_name("dev", purpose, "lambda")


def test_longest_purpose_fits_the_64_character_lambda_and_role_limits():
    assert len(standard.physical_name("prod", "a" * 32, "lambda-role")) <= 64


def test_name_over_the_aws_limit_is_rejected_naming_the_limit():
    with pytest.raises(ValueError, match="AWS allows at most 255"):
        standard.physical_name("prod", "core", "-".join(["part"] * 60))


@pytest.mark.parametrize(
    "name", ["va-staging-core-dynamodb", "va-prod-Core-lambda", "prod-core-lambda", "va-prod-core"]
)
def test_names_off_the_convention_do_not_parse(name):
    assert parse_physical_name(name) is None


def test_secret_name_is_va_env_name():
    assert standard.secret_name("prod", "openai-api-key") == "va/prod/openai-api-key"
    assert parse_secret_name("va/prod/openai-api-key") == ("prod", "openai-api-key")


@pytest.mark.parametrize("leaf", ["OpenAI", "openai_api_key", "-x", "a/b", ""])
def test_bad_secret_leaf_is_rejected(leaf):
    with pytest.raises(ValueError, match=r"va/<env>/<name>"):
        standard.secret_name("dev", leaf)


def test_log_group_name_is_aws_lambda_function_name():
    assert standard.log_group_name("va-dev-x-lambda") == "/aws/lambda/va-dev-x-lambda"


def test_standard_tags_are_the_five_required():
    tags = standard.standard_tags("dev", "core", "va-dev-core-dynamodb", "platform-team")
    assert set(tags) == set(standard.REQUIRED_TAGS)
    assert tags["Project"] == "VirtualAgentics"
    assert tag_violations("aws:s3/bucket:Bucket", tags) == []


def test_bad_owner_tag_value_is_rejected():
    with pytest.raises(ValueError, match=r"tag Owner=.*not a valid AWS tag value"):
        standard.standard_tags("dev", "core", "n", "team#1")


def test_only_eu_central_1_is_allowed():
    assert standard.validate_region("eu-central-1") == "eu-central-1"
    with pytest.raises(ValueError, match="allowed: eu-central-1"):
        standard.validate_region("us-east-1")


def test_runtime_is_deprecated_from_its_date_on():
    assert not standard.runtime_is_deprecated("python3.10", date(2026, 10, 30))
    assert standard.runtime_is_deprecated("python3.10", date(2026, 10, 31))


def test_supported_runtimes_on_a_date_exclude_deprecated_ones():
    supported = standard.supported_runtimes(date(2026, 11, 22))
    assert "python3.11" in supported
    assert "python3.10" not in supported
    assert "python3.9" not in supported


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("AKIAIOSFODNN7EXAMPLE", "an AWS access key id"),
        ("sk-proj-abcdefghijklmnopqrstuvwx", "an 'sk-' API key"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIE...", "a PEM private key"),
        ("x9Kd2LmQ7vRt4ZpW8nYb3HcF", "a high-entropy token"),
    ],
)
def test_secret_looking_values_are_recognised(value, kind):
    assert standard.secret_value_kind(value) == kind


@pytest.mark.parametrize(
    "value",
    [
        "va-prod-core-dynamodb",
        "ContentGenerationLambdaHandler",
        "6f1c1e7a-3b2d-4c5e-8f9a-0b1c2d3e4f50",
        "arn:aws:secretsmanager:eu-central-1:123456789012:secret:va/prod/x-AbCdEf",
        "https://api.example.com/v1/Path2Resource",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "INFO",
    ],
)
def test_ordinary_values_are_not_taken_for_secrets(value):
    assert standard.secret_value_kind(value) is None


def test_most_random_tokens_are_caught():
    tokens = [secrets.token_urlsafe(24) for _ in range(500)]
    caught = sum(standard.secret_value_kind(t) is not None for t in tokens)
    assert caught / len(tokens) > 0.85
