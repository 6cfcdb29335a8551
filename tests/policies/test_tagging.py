"""va-tagging: the five tags on taggable resources, provider defaultTags, the exemption tag."""

from __future__ import annotations

import json

import pytest

from policies.va_guard import tagging
from tests.policies.support import ENV_TAGS, run, violations

BUCKET = "aws:s3/bucket:Bucket"


def test_all_five_tags_pass():
    assert violations(tagging.FAMILY, BUCKET, {"tags": ENV_TAGS}) == []


def test_missing_tags_are_named():
    tags = {k: v for k, v in ENV_TAGS.items() if k not in ("Owner", "Purpose")}
    (message,) = violations(tagging.FAMILY, BUCKET, {"tags": tags})
    assert message.startswith("missing tags Purpose, Owner;")


def test_untaggable_type_is_not_judged():
    assert (
        violations(tagging.FAMILY, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", {})
        == []
    )


@pytest.mark.parametrize(
    "default_tags",
    [{"tags": ENV_TAGS}, json.dumps({"tags": ENV_TAGS})],
    ids=["object", "json-string"],
)
def test_provider_default_tags_count(default_tags):
    provider = {"region": "eu-central-1", "defaultTags": default_tags}
    assert violations(tagging.FAMILY, BUCKET, {}, provider=provider) == []


def test_environment_tag_outside_the_list_is_a_violation():
    (message,) = violations(tagging.FAMILY, BUCKET, {"tags": {**ENV_TAGS, "Environment": "qa"}})
    assert "tag Environment='qa' is not allowed; use one of dev, test, prod" in message


def test_project_tag_must_be_virtualagentics():
    (message,) = violations(tagging.FAMILY, BUCKET, {"tags": {**ENV_TAGS, "Project": "Other"}})
    assert "tag Project='Other' must be 'VirtualAgentics'" in message


def test_required_tags_are_configurable():
    assert run(tagging.FAMILY, BUCKET, {"tags": {"Team": "x"}}, {"requiredTags": ["Team"]})[0] == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("EX-12!", "is malformed"),
        ("EX-12;EX-13", "is malformed"),
        ("   ", "is malformed"),
    ],
)
def test_bad_exemption_tag_is_a_violation(value, expected):
    (message,) = violations(
        tagging.FAMILY, BUCKET, {"tags": {**ENV_TAGS, "va:policy-exempt": value}}
    )
    assert expected in message
