"""va-region: the provider's region and v7's per-resource region."""

from __future__ import annotations

from pulumi_policy.proxy import unknown_checking_proxy

from policies.va_guard import region
from tests.policies.support import violations

QUEUE = "aws:sqs/queue:Queue"


def test_eu_central_1_passes():
    assert violations(region.FAMILY, QUEUE, {}) == []


def test_provider_in_another_region_is_a_violation():
    (message,) = violations(region.FAMILY, QUEUE, {}, provider={"region": "us-east-1"})
    assert "the region of its provider is 'us-east-1'; only eu-central-1 is allowed" in message


def test_resource_region_overrides_and_is_checked():
    (message,) = violations(region.FAMILY, QUEUE, {"region": "eu-west-1"})
    assert "the resource's region is 'eu-west-1'" in message


def test_provider_without_region_is_a_violation():
    (message,) = violations(region.FAMILY, QUEUE, {}, provider={})
    assert "sets no region, so it would follow AWS_REGION" in message


def test_provider_resource_itself_is_checked():
    (message,) = violations(region.FAMILY, "pulumi:providers:aws", {"region": "us-west-2"})
    assert "the provider's region is 'us-west-2'" in message


def test_non_aws_resource_is_not_judged():
    assert violations(region.FAMILY, "random:index/randomId:RandomId", {}, provider={}) == []


def test_region_of_another_shape_is_shown_as_its_value():
    # The SDK hands proxies; a message shows the value, never a proxy object's address.
    props = unknown_checking_proxy({"region": ["eu-west-1"]})
    (message,) = violations(region.FAMILY, QUEUE, props)
    assert "the resource's region is ['eu-west-1']; only eu-central-1" in message
