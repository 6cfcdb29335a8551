"""va-naming: physical names, secret names, log group names, auto-named resources."""

from __future__ import annotations

import pytest

from policies.va_guard import naming
from tests.policies.support import ENV_TAGS, violations

FN = "aws:lambda/function:Function"


@pytest.mark.parametrize(
    ("type_", "props"),
    [
        (FN, {"name": "va-prod-example-lambda"}),
        ("aws:ec2/securityGroup:SecurityGroup", {"name": "va-prod-lambda-sg"}),
        ("aws:dynamodb/table:Table", {"name": "va-prod-core-dynamodb"}),
        ("aws:s3/bucket:Bucket", {"bucket": "va-prod-content-bucket"}),
        ("aws:iam/role:Role", {"name": "va-prod-contentgen-lambda-role"}),
        ("aws:kms/alias:Alias", {"name": "alias/va-prod-alarms-key"}),
        ("aws:secretsmanager/secret:Secret", {"name": "va/prod/openai-api-key"}),
        ("aws:cloudwatch/logGroup:LogGroup", {"name": "/aws/lambda/va-prod-example-lambda"}),
        ("aws:ec2/vpc:Vpc", {}),  # no name property: named by its Name tag only
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_convention_names_pass(type_, props):
    assert violations(naming.FAMILY, type_, props) == []


def test_name_off_the_convention_is_a_violation_with_an_example():
    (message,) = violations(naming.FAMILY, FN, {"name": "my-function"})
    assert "name='my-function' does not follow va-<env>-<purpose>-<type>" in message
    assert "va-prod-example-lambda" in message


def test_unknown_environment_in_a_name_is_a_violation():
    (message,) = violations(naming.FAMILY, FN, {"name": "va-staging-example-lambda"})
    assert "environment 'staging'" in message


def test_type_suffix_must_match_the_resource_type():
    (message,) = violations(naming.FAMILY, FN, {"name": "va-prod-example-bucket"})
    assert "must end in -lambda" in message


def test_name_environment_must_match_the_environment_tag():
    props = {"name": "va-prod-example-lambda", "tags": {**ENV_TAGS, "Environment": "dev"}}
    (message,) = violations(naming.FAMILY, FN, props)
    assert "name says environment 'prod' but the Environment tag says 'dev'" in message


def test_auto_named_resource_is_judged_by_its_logical_name():
    assert violations(naming.FAMILY, FN, {}, name="va-dev-example-lambda") == []
    (message,) = violations(naming.FAMILY, FN, {}, name="myFunction")
    assert "no name is set, so Pulumi names it after the logical name 'myFunction'" in message


def test_name_prefix_must_start_with_va_env():
    (message,) = violations(
        naming.FAMILY, "aws:ec2/securityGroup:SecurityGroup", {"namePrefix": "web-"}
    )
    assert "namePrefix='web-' must start with va-<env>-" in message


def test_secret_name_off_the_convention_is_a_violation():
    (message,) = violations(naming.FAMILY, "aws:secretsmanager/secret:Secret", {"name": "openai"})
    assert "must follow va/<env>/<name>" in message


def test_log_group_must_be_aws_lambda_or_va_name():
    (message,) = violations(naming.FAMILY, "aws:cloudwatch/logGroup:LogGroup", {"name": "app-logs"})
    assert "/aws/lambda/<function name> or a va-<env>-<purpose>-<type> name" in message


def test_kms_alias_needs_the_alias_prefix():
    (message,) = violations(naming.FAMILY, "aws:kms/alias:Alias", {"name": "va-prod-alarms-key"})
    assert "must start with 'alias/'" in message


def test_environments_are_configurable():
    props = {"name": "va-staging-example-lambda"}
    config = {"environments": ["dev", "staging", "prod"]}
    from tests.policies.support import run

    assert run(naming.FAMILY, FN, props, config)[0] == []
