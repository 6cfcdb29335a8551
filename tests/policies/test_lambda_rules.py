"""va-lambda: runtime, limits, VPC, plaintext secrets, log retention."""

from __future__ import annotations

from datetime import date

import pytest
from pulumi_policy.proxy import unknown_checking_proxy

from policies.va_guard import lambda_rules
from tests.policies.support import run, violations

FN = "aws:lambda/function:Function"
GOOD = {
    "runtime": "python3.11",
    "memorySize": 256.0,
    "timeout": 30.0,
    "vpcConfig": {"subnetIds": ["subnet-1"], "securityGroupIds": ["sg-1"]},
    "environment": {"variables": {"OPENAI_API_KEY_SECRET_ARN": "arn:aws:secretsmanager:x"}},
}


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(lambda_rules, "today", lambda: date(2026, 11, 22))


def test_standard_function_passes():
    assert run(lambda_rules.FAMILY, FN, GOOD) == ([], [])


def test_deprecated_runtime_is_a_violation_naming_supported_ones():
    (message,) = violations(lambda_rules.FAMILY, FN, {**GOOD, "runtime": "python3.10"})
    assert "runtime 'python3.10' was deprecated on 2026-10-31" in message
    assert "python3.11" in message


def test_runtime_inside_the_warning_window_is_a_notice_not_a_violation():
    found, notices = run(lambda_rules.FAMILY, FN, GOOD, {"warningWindowDays": 365})
    assert found == []
    assert notices == [
        "warning: runtime 'python3.11' is deprecated on 2027-06-30 (220 days); plan the upgrade "
        "now, it fails this policy from that day"
    ]


def test_runtime_outside_the_allowed_list_is_a_violation():
    (message,) = violations(lambda_rules.FAMILY, FN, {**GOOD, "runtime": "nodejs20.x"})
    assert "runtime 'nodejs20.x' is not allowed" in message


def test_image_function_needs_no_runtime():
    props = {**GOOD, "packageType": "Image"}
    del props["runtime"]
    assert violations(lambda_rules.FAMILY, FN, props) == []


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("memorySize", 64.0, "memorySize=64 is outside 128-10240 MB"),
    ("memorySize", 20480.0, "memorySize=20480 is outside 128-10240 MB"),
    ("timeout", 900.0, "timeout=900 is outside 1-300 s"),
])  # fmt: skip
def test_limits_outside_the_standard_are_violations(key, value, expected):
    (message,) = violations(lambda_rules.FAMILY, FN, {**GOOD, key: value})
    assert message.startswith(expected)


def test_limit_of_another_shape_is_shown_as_its_value():
    props = unknown_checking_proxy({**GOOD, "memorySize": [512.0]})
    (message,) = violations(lambda_rules.FAMILY, FN, props)
    assert message.startswith("memorySize=[512.0] is outside 128-10240 MB")


def test_function_without_vpc_is_a_violation():
    props = {k: v for k, v in GOOD.items() if k != "vpcConfig"}
    (message,) = violations(lambda_rules.FAMILY, FN, props)
    assert "not attached to a VPC" in message


@pytest.mark.parametrize(
    "value",
    [
        "AKIAIOSFODNN7EXAMPLE",
        "sk-proj-abcdefghijklmnopqrstuv",
        "-----BEGIN RSA PRIVATE KEY-----\nx",
    ],
    ids=["aws-key", "sk-key", "pem"],
)
def test_credential_value_is_a_violation_without_echoing_it(value):
    props = {**GOOD, "environment": {"variables": {"SETTING": value}}}
    (message,) = violations(lambda_rules.FAMILY, FN, props)
    assert "environment variable SETTING holds what looks like" in message
    assert value not in message


def test_credential_named_key_with_a_literal_is_a_violation():
    props = {**GOOD, "environment": {"variables": {"DB_PASSWORD": "hunter2"}}}
    (message,) = violations(lambda_rules.FAMILY, FN, props)
    assert "DB_PASSWORD is named like a credential and holds a literal" in message
    assert "hunter2" not in message


@pytest.mark.parametrize(
    "value",
    [
        "arn:aws:secretsmanager:eu-central-1:1:secret:x",
        "va/dev/db-password",
        "/va/dev/param",
        "300",
    ],
)
def test_credential_named_key_with_a_reference_passes(value):
    props = {**GOOD, "environment": {"variables": {"DB_PASSWORD": value}}}
    assert violations(lambda_rules.FAMILY, FN, props) == []


def test_log_group_without_retention_is_a_violation():
    (message,) = violations(lambda_rules.FAMILY, "aws:cloudwatch/logGroup:LogGroup", {"name": "x"})
    assert "no retention" in message


def test_memory_limits_are_configurable():
    assert run(lambda_rules.FAMILY, FN, {**GOOD, "memorySize": 4096.0}, {"memoryMaxMb": 2048})[0]


def test_configured_limit_prints_as_people_write_it():
    """The engine sends config numbers as floats: 20.0 must read '1-20 s'."""
    found, _ = run(lambda_rules.FAMILY, FN, {**GOOD, "timeout": 30.0}, {"timeoutMaxSeconds": 20.0})
    assert found == ["timeout=30 is outside 1-20 s (VA standard: 5 min)"]


@pytest.mark.parametrize(
    "props",
    [{**GOOD, "runtime": "nodejs20.x"}, {k: v for k, v in GOOD.items() if k != "runtime"}],
    ids=["not-allowed", "missing"],
)
def test_runtime_advice_names_only_runtimes_supported_today(props):
    (message,) = violations(lambda_rules.FAMILY, FN, props)
    advised = message.split("use one of ")[1].split(", ")
    assert "python3.11" in advised
    assert not {"python3.9", "python3.10", "provided.al2"} & set(advised)
