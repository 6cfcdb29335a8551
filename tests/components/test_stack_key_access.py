"""Who may still use what the stack key (VaKey, ``encryptionKey``) now encrypts.

The key policy delegates to IAM (the account root statement), so every principal but CloudWatch
Logs needs an IAM grant on the key: the functions that read the secrets, and the GitHub deploy
role that configures the key on functions, log groups and secrets. AWS's requirements:

- Lambda (configuration-envvars-encryption, "Managing permissions to your server-side encryption
  KMS key"): ``kms:CreateGrant`` and ``kms:Encrypt`` to configure a customer managed key on a
  function, ``kms:Decrypt`` to view and manage its environment variables.
- Secrets Manager (security-encryption, "Permissions for the KMS key"): it acts on behalf of the
  caller who creates or changes a secret value, who needs ``kms:GenerateDataKey`` and
  ``kms:Decrypt``; reading a value (GetSecretValue) needs ``kms:Decrypt``.
- CloudWatch Logs: the provider associates a key with an existing log group by
  ``AssociateKmsKey`` (and ``DisassociateKmsKey`` when it is removed); the stacks already
  deployed have their log groups, so turning the key on is that call.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.components.test_deploy_role import (
    Request,
    allows,
    deploy_policy_of,
    in_context,
    stack_run,
)
from va_platform.preflight.runner import Run


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def of_type(run: Run, type_: str) -> list:
    return [r for r in run.resources if r.type == type_]


# Lambda and Secrets Manager call KMS on the caller's behalf: a grant Lambda creates is for an
# AWS resource (kms:GrantIsForAWSResource), which is the only kind the deploy role may create.
ON_BEHALF = (("kms:GrantIsForAWSResource", "true"),)


def denied(run: Run, requests: list[Request]) -> list[str]:
    """What the deploy role may not do, each request in the context AWS gives it (the key's
    tags: the deploy role may use only keys tagged for its environment)."""
    policy = deploy_policy_of(run)
    return sorted(
        {
            str(r)
            for r in requests
            if not allows(policy, in_context(run, r.with_context(*ON_BEHALF)))
        }
    )


# --- what the functions themselves need -------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_function_reading_a_secret_may_decrypt_it_with_its_key(stack):
    """Agents (FAALF_API_KEY_SECRET) and VA functions read secrets with their own role."""
    run = stack_run(stack)
    key_of = {s.outputs["arn"]: s.inputs.get("kmsKeyId") for s in
              of_type(run, "aws:secretsmanager/secret:Secret")}  # fmt: skip
    policies = {p.inputs["role"]: json.loads(p.inputs["policy"]) for p in
                of_type(run, "aws:iam/rolePolicy:RolePolicy")}  # fmt: skip
    missing, readers = [], 0
    for fn in of_type(run, "aws:lambda/function:Function"):
        role = fn.inputs["role"].rsplit("/", 1)[-1]
        for value in fn.inputs["environment"]["variables"].values():
            key = key_of.get(value)
            if value not in key_of:
                continue
            readers += 1
            if key and not allows(policies[role], Request("kms:Decrypt", key)):
                missing.append(f"{fn.inputs['name']}: kms:Decrypt on {key}")
    assert (readers > 0, missing) == (True, [])


@pytest.mark.parametrize("stack", ["dev", "prod", "every-trigger"])
def test_the_key_policy_admits_cloudwatch_logs_for_every_log_group_it_encrypts(stack):
    run = stack_run(stack)
    for key in of_type(run, "aws:kms/key:Key"):
        statements = json.loads(key.inputs["policy"])["Statement"]
        logs = [s for s in statements if "logs." in json.dumps(s.get("Principal", {}))]
        groups = [g for g in of_type(run, "aws:cloudwatch/logGroup:LogGroup")
                  if g.inputs.get("kmsKeyId") == key.outputs["arn"]]  # fmt: skip
        for group in groups:
            arn = group.outputs["arn"].removesuffix(":*")
            patterns = [
                pattern
                for s in logs
                for pattern in as_list(
                    s["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
                )
            ]
            assert any(re.fullmatch(p.replace("*", ".*"), arn) for p in patterns), (
                f"{arn} is encrypted with {key.name} but its key policy does not admit it"
            )


# --- what the GitHub deploy role needs (components/github/deploy_policy.py) -------------------


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_deploy_role_may_set_the_stack_key_on_functions(stack):
    run = stack_run(stack)
    requests = [
        Request(action, fn.inputs["kmsKeyArn"])
        for fn in of_type(run, "aws:lambda/function:Function")
        if fn.inputs.get("kmsKeyArn")
        for action in ("kms:CreateGrant", "kms:Encrypt", "kms:Decrypt")
    ]
    assert (bool(requests), denied(run, requests)) == (True, [])


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_deploy_role_may_associate_the_stack_key_with_existing_log_groups(stack):
    run = stack_run(stack)
    requests = [
        Request(action, group.outputs["arn"])
        for group in of_type(run, "aws:cloudwatch/logGroup:LogGroup")
        if group.inputs.get("kmsKeyId")
        for action in ("logs:AssociateKmsKey", "logs:DisassociateKmsKey")
    ]
    assert (bool(requests), denied(run, requests)) == (True, [])


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_deploy_role_may_put_and_read_secret_values_under_the_stack_key(stack):
    """For a library VaSecret given a value (a SecretVersion): this repository's program puts
    none (an administrator puts them out of band, docs/operations.md), the library allows it."""
    run = stack_run(stack)
    requests = [
        Request(action, secret.inputs["kmsKeyId"])
        for secret in of_type(run, "aws:secretsmanager/secret:Secret")
        if secret.inputs.get("kmsKeyId")
        for action in ("kms:GenerateDataKey", "kms:Decrypt")
    ]
    assert (bool(requests), denied(run, requests)) == (True, [])
