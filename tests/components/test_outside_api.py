"""The library as a program that is not ours uses it: every argument that names an existing
resource takes an Output of the same program or a StackReference output, and a setting that
needs an argument the caller did not give is one clear error at construction."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from tests.support import CTX, NETWORKING, TOPIC_ARN, build_lambda, one, policy_statements, spec
from va_platform.components import (
    BucketRef,
    LambdaNetworking,
    TableRef,
    VaLambda,
    VaLambdaArgs,
    VaTable,
    VaTableArgs,
)
from va_platform.preflight.runner import Run, run_under_mocks

OTHER = "acme/shared/dev"
QUEUE_ARN = "arn:aws:sqs:eu-central-1:123456789012:acme-orders"
TOPIC = "arn:aws:sns:eu-central-1:123456789012:acme-events"
KEY_ARN = "arn:aws:kms:eu-central-1:123456789012:key/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
REFERENCES = {
    OTHER: {"queueArn": QUEUE_ARN, "topicArn": TOPIC, "keyArn": KEY_ARN,
            "vpcId": "vpc-0123", "subnetIds": ["subnet-0aaa", "subnet-0bbb"], "sgId": "sg-0ccc"}
}  # fmt: skip


def from_other_stack(name: str) -> pulumi.Output[Any]:
    return pulumi.StackReference(OTHER).get_output(name)


def run_function(artifact: Any, spec_fields: Any, **arg_fields: Any) -> Run:
    """A VaLambda whose spec is built inside the run (Outputs exist only there)."""

    def program() -> None:
        fields = spec_fields() if callable(spec_fields) else spec_fields
        args = {"context": CTX, "spec": spec(**fields), "networking": NETWORKING,
                "alarm_topic_arn": TOPIC_ARN, "package": artifact}  # fmt: skip
        extra = arg_fields.get("extra", lambda: {})()
        VaLambda("fn", VaLambdaArgs(**{**args, **extra}))

    return run_under_mocks(program, stack_references=REFERENCES)


def queue_of_same_program() -> pulumi.Output[str]:
    return aws.sqs.Queue("orders", name="va-dev-orders-queue").arn


@pytest.mark.parametrize("source", [queue_of_same_program, lambda: from_other_stack("queueArn")],
                         ids=["output", "stack-reference"])  # fmt: skip
def test_queue_trigger_takes_a_queue_arn_from(artifact, source) -> None:
    run = run_function(artifact, lambda: {"triggers": [{"kind": "queue", "queueArn": source()}]})
    assert run.error is None, run.error
    mapping = one(run, "aws:lambda/eventSourceMapping:EventSourceMapping")
    assert mapping["eventSourceArn"] in (
        QUEUE_ARN,
        "arn:aws:sqs:eu-central-1:123456789012:va-dev-orders-queue",
    )
    assert policy_statements(run)["ReadTriggerQueues"]["Resource"] == mapping["eventSourceArn"]


def test_destination_from_a_stack_reference_gets_its_service_action(artifact) -> None:
    run = run_function(
        artifact, lambda: {"destinations": {"onFailure": from_other_stack("topicArn")}}
    )
    assert run.error is None, run.error
    assert policy_statements(run)["DeliverOnFailure"] == {
        "Sid": "DeliverOnFailure",
        "Effect": "Allow",
        "Action": ["sns:Publish"],
        "Resource": TOPIC,
    }


def test_kms_key_from_a_stack_reference_encrypts_the_function(artifact) -> None:
    run = run_function(artifact, lambda: {"kmsKeyArn": from_other_stack("keyArn")})
    assert run.error is None, run.error
    assert one(run, "aws:lambda/function:Function")["kmsKeyArn"] == KEY_ARN


def test_statement_resource_from_a_stack_reference_is_granted(artifact) -> None:
    statement = lambda: {"statements": [{"sid": "PublishEvents", "actions": ["sns:Publish"],  # noqa: E731
                                        "resources": [from_other_stack("topicArn")]}]}  # fmt: skip
    run = run_function(artifact, statement)
    assert policy_statements(run)["PublishEvents"]["Resource"] == TOPIC


def test_table_actions_on_a_table_of_the_same_program(artifact) -> None:
    def extra() -> dict[str, Any]:
        return {"table": VaTable("t", VaTableArgs(CTX, "orders")).ref()}

    run = run_function(artifact, {"tableActions": ["dynamodb:PutItem"]}, extra=extra)
    table_arn = "arn:aws:dynamodb:eu-central-1:123456789012:table/va-dev-orders-dynamodb"
    assert policy_statements(run)["CoreTableAccess"]["Resource"] == table_arn
    env = one(run, "aws:lambda/function:Function")["environment"]["variables"]
    assert env["DYNAMODB_TABLE"] == "va-dev-orders-dynamodb"


def test_bucket_actions_on_a_bucket_of_another_stack(artifact) -> None:
    def extra() -> dict[str, Any]:
        return {"bucket": BucketRef(arn="arn:aws:s3:::acme-media", name="acme-media")}

    run = run_function(artifact, {"bucketActions": ["s3:GetObject"]}, extra=extra)
    assert policy_statements(run)["ContentBucketObjects"]["Resource"] == "arn:aws:s3:::acme-media/*"


@pytest.mark.parametrize(
    ("fields", "needs"),
    [({"tableActions": ["dynamodb:PutItem"]}, "VaLambdaArgs.table"),
     ({"bucketActions": ["s3:GetObject"]}, "VaLambdaArgs.bucket")],
    ids=["table", "bucket"],
)  # fmt: skip
def test_data_actions_without_their_resource_are_one_clear_error(artifact, fields, needs) -> None:
    with pytest.raises(ValueError, match=needs) as raised:
        VaLambdaArgs(context=CTX, spec=spec(**fields), networking=NETWORKING,
                     alarm_topic_arn=TOPIC_ARN, package=artifact)  # fmt: skip
    assert "\n" not in str(raised.value)


def test_network_of_another_stack_by_ids_scopes_the_eni_statement(artifact) -> None:
    def extra() -> dict[str, Any]:
        subnets = from_other_stack("subnetIds")
        return {"networking": LambdaNetworking.from_ids(
            vpc_id=from_other_stack("vpcId"), subnet_ids=[subnets[0], subnets[1]],
            security_group_ids=[from_other_stack("sgId")], region="eu-central-1",
            account_id="123456789012")}  # fmt: skip

    run = run_function(artifact, {}, extra=extra)
    assert run.error is None, run.error
    vpc = one(run, "aws:lambda/function:Function")["vpcConfig"]
    assert vpc["subnetIds"] == ["subnet-0aaa", "subnet-0bbb"]
    resources = policy_statements(run)["CreateEniInOwnSubnets"]["Resource"]
    assert "arn:aws:ec2:eu-central-1:123456789012:subnet/subnet-0bbb" in resources


def test_unsupplied_stack_reference_is_one_line_in_the_update(artifact) -> None:
    run = run_under_mocks(
        lambda: pulumi.export("x", pulumi.StackReference("acme/none/dev").get_output("y"))
    )
    assert "StackReference 'acme/none/dev'" in str(run.error)
    assert "--stack-references" in str(run.error)


def test_unused_refs_are_accepted(artifact) -> None:
    """A table passed without table actions grants nothing (nothing needs it)."""
    run = build_lambda(
        artifact, table=TableRef(arn="arn:aws:dynamodb:eu-central-1:1:table/x", name="x")
    )
    assert "CoreTableAccess" not in policy_statements(run)
