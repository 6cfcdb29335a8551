"""The data sources the preflight answers, as the AWS provider answers them
(``va_platform.preflight.invokes``)."""

from __future__ import annotations

import json
import zlib

import pulumi
import pulumi_aws as aws
import pytest
from pulumi.output import Unknown

from va_platform.preflight.invokes import Where, ami, policy_document, subnet, subnets, vpc
from va_platform.preflight.runner import run_under_mocks

WHERE = Where("123456789012", "eu-central-1")


def test_one_value_sets_are_strings_and_larger_sets_are_reverse_sorted():
    doc = json.loads(policy_document({"statements": [
        {"actions": ["s3:GetObject"], "resources": ["arn:aws:s3:::b/*", "arn:aws:s3:::b"]},
    ]})["json"])  # fmt: skip
    assert doc["Statement"] == [{
        "Effect": "Allow", "Action": "s3:GetObject", "Resource": ["arn:aws:s3:::b/*", "arn:aws:s3:::b"],
    }]  # fmt: skip


def test_statement_keys_follow_the_providers_order_and_omit_what_is_empty():
    doc = json.loads(policy_document({"statements": [{
        "conditions": [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}],
        "principals": [{"type": "*", "identifiers": ["*"]}],
        "notResources": ["arn:aws:s3:::b"], "effect": "Deny", "notActions": ["s3:Get*"],
        "sid": "DenyInsecure",
    }]})["json"])  # fmt: skip
    assert list(doc["Statement"][0]) == ["Sid", "Effect", "NotAction", "NotResource", "Principal",
                                         "Condition"]  # fmt: skip
    assert doc["Statement"][0]["Principal"] == "*"


def test_principals_of_one_type_merge_and_condition_values_keep_their_order():
    statement = json.loads(policy_document({"statements": [{
        "actions": ["sts:AssumeRole"],
        "principals": [{"type": "Service", "identifiers": ["lambda.amazonaws.com"]},
                       {"type": "AWS", "identifiers": ["arn:aws:iam::1:root", "arn:aws:iam::2:root"]}],
        "conditions": [{"test": "StringEquals", "variable": "aws:SourceAccount",
                        "values": ["2", "1"]}],
    }]})["json"])["Statement"][0]  # fmt: skip
    assert statement["Principal"] == {
        "AWS": ["arn:aws:iam::2:root", "arn:aws:iam::1:root"], "Service": "lambda.amazonaws.com",
    }  # fmt: skip
    assert list(statement["Principal"]) == ["AWS", "Service"]
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ["2", "1"]}}


def test_python_names_of_a_plain_dict_are_read_as_the_sdk_sends_them():
    statement = json.loads(policy_document({"statements": [
        {"not_actions": ["iam:*"], "not_resources": ["*"]},
    ]})["json"])["Statement"][0]  # fmt: skip
    assert statement == {"Effect": "Allow", "NotAction": "iam:*", "NotResource": "*"}


def test_hcl_variable_escapes_become_policy_variables():
    statement = json.loads(policy_document({"statements": [
        {"actions": ["s3:*"], "resources": ["arn:aws:s3:::b/&{aws:username}/*"]},
    ]})["json"])["Statement"][0]  # fmt: skip
    assert statement["Resource"] == "arn:aws:s3:::b/${aws:username}/*"


def test_source_documents_come_first_and_overrides_replace_by_sid():
    source = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Keep", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"},
        {"Sid": "Replace", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
    ]})  # fmt: skip
    override = json.dumps({"Statement": [
        {"Sid": "Replace", "Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"},
    ]})  # fmt: skip
    doc = json.loads(policy_document({
        "sourcePolicyDocuments": [source], "overridePolicyDocuments": [override],
        "statements": [{"sid": "Own", "actions": ["s3:GetObject"], "resources": ["*"]}],
    })["json"])  # fmt: skip
    assert [(s["Sid"], s["Effect"]) for s in doc["Statement"]] == [
        ("Keep", "Allow"), ("Replace", "Deny"), ("Own", "Allow"),
    ]  # fmt: skip


def test_json_is_indented_minified_json_is_not_and_the_id_is_the_crc32_of_the_json():
    result = policy_document({"policyId": "p1", "statements": [
        {"actions": ["sqs:SendMessage"], "resources": ["arn:aws:sqs:eu-central-1:1:q<&>"]},
    ]})  # fmt: skip
    assert result["json"].startswith('{\n  "Version": "2012-10-17",\n  "Id": "p1",\n')
    assert "\n" not in result["minifiedJson"]
    assert json.loads(result["json"]) == json.loads(result["minifiedJson"])
    # Go's encoder escapes HTML characters.
    assert "q\\u003c\\u0026\\u003e" in result["minifiedJson"]
    assert result["id"] == str(zlib.crc32(result["json"].encode()))


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_a_data_source_read_through_a_provider_in_another_region_answers_for_that_region(mode):
    def program() -> None:
        use1 = aws.Provider("use1", region="us-east-1")
        options = pulumi.InvokeOptions(provider=use1)
        pulumi.export("zones", aws.get_availability_zones(opts=options).names)
        pulumi.export("here", aws.get_region().region)

    run = run_under_mocks(program, config={"aws:region": "eu-central-1"}, mode=mode)
    assert run.error is None
    assert run.outputs == {
        "zones": ["us-east-1a", "us-east-1b", "us-east-1c"], "here": "eu-central-1",
    }  # fmt: skip


def test_zone_ids_have_awss_shape():
    assert WHERE.zone_ids() == ["euc1-az1", "euc1-az2", "euc1-az3"]
    assert Where("1", "us-east-1").zone_ids() == ["use1-az1", "use1-az2", "use1-az3"]


def test_an_ami_alias_parameter_answers_an_ami_id():
    def program() -> None:
        name = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
        pulumi.export("ami", aws.ssm.get_parameter(name=name).value)

    run = run_under_mocks(program, config={"aws:region": "eu-central-1"})
    assert run.outputs["ami"].startswith("ami-")


@pytest.mark.parametrize("answer", [subnets, subnet, vpc, ami], ids=lambda f: f.__name__)
def test_answer_to_arguments_holding_an_unknown_is_the_same_every_run(answer):
    # pulumi/workshops aws-advanced-networking (in the corpus) looks subnets up by an awsx VPC's
    # id, unknown offline: the ids it got changed from run to run (the placeholder's address).
    first = {"filters": [{"name": "vpc-id", "values": [Unknown()]}]}
    second = {"filters": [{"name": "vpc-id", "values": [Unknown()]}]}  # alive at once
    answers = [
        {k: v for k, v in answer(args, WHERE).items() if k not in args} for args in (first, second)
    ]
    assert answers[0] == answers[1]
