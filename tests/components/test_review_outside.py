"""Found by another team trying the library from outside the repository (review of rev20): each
test states what the docs promise ("a literal is checked for its format on construction", "one
clear error", "nothing is silently ignored"); each failed before its fix."""

from __future__ import annotations

import pulumi
import pytest
from pydantic import ValidationError

from tests.support import CTX, NETWORKING, TOPIC_ARN, spec
from va_platform.components import (
    ExistingSecret,
    LambdaNetworking,
    VaLambda,
    VaLambdaArgs,
    VaNetwork,
    VaNetworkArgs,
)
from va_platform.preflight.runner import ApplyFailedError, run_under_mocks

OTHER = "teamy/events/dev"
REFERENCES = {OTHER: {"notAnArn": "jobs", "region": "eu-central-1"}}
ACCOUNT = "123456789012"


def from_other_stack(name: str) -> pulumi.Output[str]:
    return pulumi.StackReference(OTHER).get_output(name)


@pytest.mark.parametrize(
    "name",
    ["sk_live_4eC39HqLyjWDarjtT1zdp7dc", "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
     "AKIAIOSFODNN7EXAMPLE"],
    ids=["stripe-live-key", "github-token", "aws-access-key-id"],
)  # fmt: skip
def test_a_credential_shaped_secret_name_is_one_clear_error(name) -> None:
    with pytest.raises(ValueError, match="name") as raised:
        ExistingSecret(env="PARTNER_SECRET", name=name)
    assert "\n" not in str(raised.value)
    assert name not in str(raised.value)  # the error must not echo the credential


@pytest.mark.parametrize(
    "name",
    ["sk_live_4eC39HqLyjWDarjtT1zdp7dc", "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
     "AKIAIOSFODNN7EXAMPLE"],
    ids=["stripe-live-key", "github-token", "aws-access-key-id"],
)  # fmt: skip
def test_a_credential_shaped_secret_name_is_refused_without_echoing_it(name) -> None:
    with pytest.raises(ValueError, match="name looks like") as raised:
        ExistingSecret(env="PARTNER_SECRET", name=name)
    assert name[-8:] not in str(raised.value)


@pytest.mark.parametrize(
    ("fields", "names"),
    [({"vpc_id": "subnet-0123456789abcdef0"}, "vpc_id"),
     ({"subnet_ids": ["vpc-0123456789abcdef0", "subnet-0123456789abcdef1"]}, "subnet_ids"),
     ({"security_group_ids": ["subnet-0123456789abcdef0"]}, "security_group_ids"),
     ({"account_id": "12"}, "account_id"),
     ({"subnet_ids": ["subnet-0123456789abcdef0"]}, "subnet_ids")],
    ids=["vpc", "subnet", "security-group", "account", "one-subnet"],
)  # fmt: skip
def test_network_ids_given_as_literals_are_checked(fields, names) -> None:
    good = {"vpc_id": "vpc-0123456789abcdef0",
            "subnet_ids": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
            "security_group_ids": ["sg-0123456789abcdef0"], "region": "eu-central-1",
            "account_id": ACCOUNT}  # fmt: skip
    with pytest.raises(ValueError, match=names) as raised:
        LambdaNetworking.from_ids(**{**good, **fields})
    assert "\n" not in str(raised.value)


def test_an_alarm_topic_literal_that_is_no_sns_arn_is_one_clear_error(artifact) -> None:
    with pytest.raises(ValueError, match="alarm_topic_arn") as raised:
        VaLambdaArgs(context=CTX, spec=spec(), networking=NETWORKING, alarm_topic_arn="alarms",
                     package=artifact)  # fmt: skip
    assert "\n" not in str(raised.value)


def test_a_network_region_from_an_output_is_used_or_refused() -> None:
    def program() -> None:
        VaNetwork("n", VaNetworkArgs(context=CTX, region=from_other_stack("region"),
                                     vpc_cidr="10.40.0.0/16",
                                     availability_zones=("eu-central-1a", "eu-central-1b"),
                                     purpose="core"))  # fmt: skip

    run = run_under_mocks(program, stack_references=REFERENCES)
    if run.error is not None:
        assert "region" in str(run.error)
        assert "\n" not in str(run.error)
        return
    names = [r.inputs["serviceName"] for r in run.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")]
    assert names
    assert all(n.startswith("com.amazonaws.eu-central-1.") for n in names), names


def spec_error(**fields) -> str:
    with pytest.raises(ValidationError) as raised:
        spec(**fields)
    return str(raised.value)


def test_a_typod_spec_field_is_one_line_naming_the_field_it_meant() -> None:
    message = spec_error(memroy=512)
    assert "\n" not in message
    assert "errors.pydantic.dev" not in message
    assert "memory" in message


@pytest.mark.parametrize(
    "fields",
    [lambda: {"purpose": from_other_stack("region")},
     lambda: {"env": {"REGION": from_other_stack("region")}},
     lambda: {"layerArns": [from_other_stack("region")]}],
    ids=["purpose", "env", "layer-arns"],
)  # fmt: skip
def test_an_output_where_a_literal_is_required_says_so_in_one_line(fields) -> None:
    messages: list[str] = []
    run_under_mocks(lambda: messages.append(spec_error(**fields())), stack_references=REFERENCES)
    (message,) = messages
    assert "\n" not in message
    assert "Output" in message
    assert "literal" in message


def test_an_args_log_retention_that_cloudwatch_refuses_is_one_clear_error(artifact) -> None:
    with pytest.raises(ValueError, match="log_retention_days") as raised:
        VaLambdaArgs(context=CTX, spec=spec(), networking=NETWORKING, alarm_topic_arn=TOPIC_ARN,
                     package=artifact, log_retention_days=13)  # fmt: skip
    assert "\n" not in str(raised.value)


def test_a_destination_that_is_no_arn_is_one_line_naming_destinations() -> None:
    """What an Output destination runs through once known (it raised IndexError before)."""
    from va_platform.components.lambda_function.spec import destination_action

    with pytest.raises(ValueError, match="destinations: 'jobs' is not") as raised:
        destination_action("jobs")
    assert "\n" not in str(raised.value)


def test_a_destination_output_that_is_no_arn_is_one_line_without_the_sdk_chain(artifact) -> None:
    """An Output destination is checked once known: the refusal reaches the user as the one
    line the library wrote, not wrapped in the SDK's "While processing input" chain (which
    repeats the value), and as a pulumi.RunError (the CLI prints it without a traceback)."""

    def program() -> None:
        destinations = {"onFailure": from_other_stack("notAnArn")}
        VaLambda("fn", VaLambdaArgs(context=CTX, spec=spec(destinations=destinations),
                                    networking=NETWORKING, alarm_topic_arn=TOPIC_ARN,
                                    package=artifact))  # fmt: skip

    error = run_under_mocks(program, stack_references=REFERENCES).error
    # What the program raised (the preflight notes it was raised in an apply).
    error = error.original if isinstance(error, ApplyFailedError) else error
    assert isinstance(error, pulumi.RunError), repr(error)
    assert str(error).startswith("destinations: 'jobs' is not an SQS queue")
    assert "\n" not in str(error)
    assert "While processing" not in str(error)


def test_a_model_refusal_is_a_pulumi_run_error_so_the_cli_prints_no_traceback() -> None:
    with pytest.raises(pulumi.RunError):
        spec(memroy=512)


def test_a_model_refusal_is_still_a_pydantic_validation_error_listing_each_problem() -> None:
    with pytest.raises(ValidationError) as raised:
        spec(memroy=512, timeout=0)
    assert [e["loc"] for e in raised.value.errors()] == [("timeout",), ("memroy",)]


def test_a_typod_field_with_no_close_name_lists_the_valid_fields() -> None:
    message = spec_error(zzzzzz=1)
    assert "unknown field 'zzzzzz'; valid fields: " in message
    assert "tableActions" in message


def test_a_typod_field_inside_a_trigger_suggests_that_kinds_field() -> None:
    message = spec_error(triggers=[{"kind": "bucket", "prefx": "uploads/"}])
    assert message == "FunctionSpec.triggers[0]: unknown field 'prefx'; did you mean 'prefix'?"


def test_an_output_in_env_says_where_outputs_go_instead() -> None:
    messages: list[str] = []
    run_under_mocks(lambda: messages.append(spec_error(env={"REGION": from_other_stack("region")})),
                    stack_references=REFERENCES)  # fmt: skip
    (message,) = messages
    assert message.startswith("FunctionSpec.env['REGION'] takes a literal, not a pulumi Output")
    assert message.endswith("; give a value known only as an Output in VaLambdaArgs.extra_env")


def test_an_args_refusal_is_a_pulumi_run_error_so_the_cli_prints_no_traceback(artifact) -> None:
    """VaLambdaArgs (a dataclass) refuses a missing table in one line, as a model does."""
    with pytest.raises(pulumi.RunError, match="need the table") as raised:
        VaLambdaArgs(context=CTX, spec=spec(tableActions=["dynamodb:PutItem"]),
                     networking=NETWORKING, alarm_topic_arn=TOPIC_ARN, package=artifact)  # fmt: skip
    assert isinstance(raised.value, ValueError)
    assert "\n" not in str(raised.value)


def test_network_ids_refused_by_from_ids_are_a_pulumi_run_error() -> None:
    with pytest.raises(pulumi.RunError, match="vpc_id"):
        LambdaNetworking.from_ids(vpc_id="subnet-0", subnet_ids=["subnet-a", "subnet-b"],
                                  security_group_ids=["sg-0"], region="eu-central-1",
                                  account_id=ACCOUNT)  # fmt: skip
