"""VaRetentionGuard (components/retention_guard.py): what puts a shortened log retention back.

The attack tests (a session that shortens a retention, or disarms the guard) are in
test_deploy_role_attacks.py; these check the guard's own parts.
"""

from __future__ import annotations

import re

import pytest

from tests.iam_eval import Request, allows
from va_platform.components.retention_guard import (
    remediation_document,
    remediation_policy,
    remediation_trust,
    rule_period,
)

A, R = "123456789012", "eu-central-1"


@pytest.mark.parametrize(
    ("declared", "period"),
    [([30], 30), ([30, 14], 14), ([1096], 731), ([2192, 400], 400), ([3653], 3653)],
    ids=["stack", "shortest", "1096-is-not-a-rule-value", "several", "ten-years"],
)
def test_the_rule_minimum_is_the_longest_rule_period_within_the_shortest_retention(
    declared, period
):
    """The managed rule accepts fewer periods than CloudWatch: never a minimum above what the
    stack declares (that would fight the stack), never lower than needed."""
    assert rule_period(declared) == period


@pytest.mark.parametrize(
    "name",
    ["/aws/lambda/va-prod-contentgen-lambda", "va-prod-webhook-api-logs", "billing-logs",
     "/aws/lambda/va-dev-x/../va-prod-y"],
)  # fmt: skip
def test_the_document_refuses_a_log_group_of_another_environment(name):
    pattern = remediation_document("dev")["parameters"]["LogGroupName"]["allowedPattern"]
    assert re.fullmatch(pattern, name) is None


@pytest.mark.parametrize(
    "name", ["/aws/lambda/va-dev-contentgen-lambda", "va-dev-webhook-api-logs"]
)
def test_the_document_accepts_the_environments_log_groups(name):
    pattern = remediation_document("dev")["parameters"]["LogGroupName"]["allowedPattern"]
    assert re.fullmatch(pattern, name) is not None


@pytest.mark.parametrize(
    "group",
    [f"arn:aws:logs:{R}:{A}:log-group:/aws/lambda/va-prod-contentgen-lambda",
     f"arn:aws:logs:{R}:{A}:log-group:billing-logs"],
    ids=["prod", "another-team"],
)  # fmt: skip
def test_the_remediation_role_sets_no_retention_outside_its_environment(group):
    policy = remediation_policy("dev", R, A)
    assert not allows(policy, Request("logs:PutRetentionPolicy", group))


def test_the_remediation_role_may_do_nothing_but_set_retention():
    """Guards the role against growing: one action, the environment's log groups."""
    statements = remediation_policy("dev", R, A)["Statement"]
    assert [s["Action"] for s in statements] == [["logs:PutRetentionPolicy"]]


def test_the_remediation_role_is_assumed_by_systems_manager_for_this_account_only():
    (statement,) = remediation_trust(A)["Statement"]
    assert (statement["Principal"], statement["Condition"]) == (
        {"Service": "ssm.amazonaws.com"},
        {"StringEquals": {"aws:SourceAccount": A}},
    )
