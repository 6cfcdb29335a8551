"""A stack as a Terraform plan: what Terraform-plan scanners (Checkov) read of our resources."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pytest

from va_platform.preflight import terraform_plan as tf
from va_platform.preflight.runner import run_program, run_under_mocks


@pytest.fixture(scope="module")
def dev_plan() -> dict:
    run = run_program("dev")
    assert run.error is None
    return tf.plan(run)


def resources(plan: dict, tf_type: str) -> list[dict]:
    return [r for r in plan["planned_values"]["root_module"]["resources"] if r["type"] == tf_type]


def one_function(build) -> dict:
    run = run_under_mocks(build, config={"aws:region": "eu-central-1"})
    assert run.error is None
    return resources(tf.plan(run), "aws_lambda_function")[0]["values"]


def test_every_aws_type_of_both_stacks_has_a_terraform_twin() -> None:
    for stack in ("dev", "prod"):
        run = run_program(stack)
        assert tf.plan(run)["va_skipped_types"] == ["docker:index/image:Image"]


def test_ec2_types_drop_their_module_as_terraform_names_them() -> None:
    assert tf.terraform_type("aws:ec2/securityGroup:SecurityGroup") == "aws_security_group"


def test_renamed_types_get_their_terraform_names() -> None:
    assert tf.terraform_type("aws:s3/bucketObjectv2:BucketObjectv2") == "aws_s3_object"


def test_the_function_name_argument_gets_its_terraform_name(dev_plan: dict) -> None:
    names = {r["values"].get("function_name") for r in resources(dev_plan, "aws_lambda_function")}
    assert "va-dev-contentgen-lambda" in names


def test_env_var_names_are_kept_as_written(dev_plan: dict) -> None:
    fn = next(
        r["values"]
        for r in resources(dev_plan, "aws_lambda_function")
        if r["values"]["function_name"] == "va-dev-contentgen-lambda"
    )
    assert "POWERTOOLS_SERVICE_NAME" in fn["environment"]["variables"]


def test_nested_blocks_are_snake_cased(dev_plan: dict) -> None:
    fn = resources(dev_plan, "aws_lambda_function")[0]["values"]
    assert fn["tracing_config"] == {"mode": "Active"}


def test_integral_numbers_are_integers(dev_plan: dict) -> None:
    fn = resources(dev_plan, "aws_lambda_function")[0]["values"]
    assert isinstance(fn["memory_size"], int)


def test_a_resources_references_are_the_resources_its_inputs_came_from(dev_plan: dict) -> None:
    blocks = [
        c for c in dev_plan["configuration"]["root_module"]["resources"]
        if c["type"] == "aws_s3_bucket_public_access_block"
    ]  # fmt: skip
    refs = {ref for c in blocks for ref in c["expressions"]["bucket"]["references"]}
    assert "aws_s3_bucket.content_bucket_bucket" in refs


def test_secret_values_are_masked() -> None:
    def build() -> None:
        aws.lambda_.Function(
            "fn", role="arn:aws:iam::123456789012:role/r", image_uri="x", package_type="Image",
            environment={"variables": {"TOKEN": pulumi.Output.secret("hunter2hunter2")}},
        )  # fmt: skip

    fn = one_function(build)
    assert "hunter2" not in json.dumps(fn)


def test_local_code_archives_stand_in_as_their_kind() -> None:
    def build() -> None:
        aws.lambda_.Function(
            "fn", role="arn:aws:iam::123456789012:role/r", runtime="python3.12",
            handler="index.handler", code=pulumi.AssetArchive({}),
        )  # fmt: skip

    assert one_function(build)["code"] == "(AssetArchive)"
