"""What the preflight sends the pack, per mode, for a small program written with raw pulumi_aws."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
from pulumi.runtime.rpc import UNKNOWN

from va_platform.preflight.analyzer import Subject, analyze_request, analyze_stack_request
from va_platform.preflight.engine import subjects
from va_platform.preflight.runner import Run, run_under_mocks

CONFIG = {"aws:region": "eu-central-1"}


def small_program() -> None:
    use1 = aws.Provider("use1", region="us-east-1")
    bucket = aws.s3.Bucket("site")  # no name: the provider autonames it
    aws.s3.BucketV2("logs")  # v7's deprecated alias of Bucket, autonamed alike (pulumi/workshops)
    aws.s3.BucketPublicAccessBlock("site-pab", bucket=bucket.id, block_public_acls=True)
    statement = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                 "Resource": pulumi.Output.concat(bucket.arn, "/*")}  # fmt: skip
    aws.s3.BucketPolicy(
        "site-policy",
        bucket=bucket.id,
        policy=pulumi.Output.json_dumps({"Statement": [statement]}),
    )
    aws.sqs.Queue("jobs", name="va-dev-jobs-queue", tags={"Source": bucket.arn, "Team": "a"})
    aws.acm.Certificate(
        "cert",
        domain_name="example.com",
        validation_method="DNS",
        opts=pulumi.ResourceOptions(provider=use1),
    )


@pytest.fixture(scope="module")
def runs() -> dict[str, Run]:
    out = {mode: run_under_mocks(small_program, config=CONFIG, mode=mode)
           for mode in ("preview", "update")}  # fmt: skip
    assert all(run.error is None for run in out.values()), [r.error for r in out.values()]
    return out


@pytest.fixture(scope="module")
def sent(runs) -> dict[str, tuple[dict[str, Subject], dict[str, Subject]]]:
    """Per mode: (Analyze subjects, AnalyzeStack subjects), by logical name."""
    out = {}
    for mode, run in runs.items():
        per_resource, stack = subjects(run)
        out[mode] = ({s.name: s for s in per_resource}, {s.name: s for s in stack})
    return out


def leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for v in value.values():
            yield from leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from leaves(v)
    else:
        yield value


def test_preview_input_from_an_unknown_output_is_the_sentinel(sent):
    analyze, _ = sent["preview"]
    assert analyze["site-pab"].props["bucket"] == UNKNOWN


def test_preview_unknown_inside_a_map_is_the_sentinel_and_its_siblings_stay_known(sent):
    analyze, _ = sent["preview"]
    assert analyze["jobs"].props["tags"] == {"Source": UNKNOWN, "Team": "a"}


def test_preview_json_dumps_of_an_unknown_is_unknown_as_a_whole(sent):
    analyze, _ = sent["preview"]
    assert analyze["site-policy"].props["policy"] == UNKNOWN


def test_preview_computed_outputs_are_unknown_in_the_stack_view(sent):
    _, stack = sent["preview"]
    assert (stack["site"].props["id"], stack["site"].props["arn"]) == (UNKNOWN, UNKNOWN)


def test_preview_autonames_a_resource_the_program_does_not_name(sent):
    analyze, _ = sent["preview"]
    assert re.fullmatch(r"site-[0-9a-f]{7}", analyze["site"].props["bucket"])


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_bucket_v2_is_autonamed_as_a_bucket_is(sent, mode):
    analyze, _ = sent[mode]
    assert re.fullmatch(r"logs-[0-9a-f]{7}", analyze["logs"].props["bucket"])


def test_bucket_v2_id_is_its_name_as_a_buckets_is(sent):
    _, stack = sent["update"]
    assert stack["logs"].props["id"] == stack["logs"].props["bucket"]


def test_update_autoname_is_the_same_as_in_preview(sent):
    assert sent["update"][0]["site"].props["bucket"] == sent["preview"][0]["site"].props["bucket"]


def test_update_sends_no_unknown_value(sent):
    analyze, stack = sent["update"]
    values = [v for s in [*analyze.values(), *stack.values()] for v in leaves(dict(s.props))]
    assert UNKNOWN not in values


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_no_value_is_sent_as_a_python_repr(sent, mode):
    analyze, stack = sent[mode]
    values = [v for s in [*analyze.values(), *stack.values()] for v in leaves(dict(s.props))]
    assert [v for v in values if isinstance(v, str) and " object at 0x" in v] == []


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_resource_through_an_explicit_provider_is_sent_with_that_provider(sent, mode):
    provider = sent[mode][0]["cert"].provider
    assert provider is not None
    assert (provider.urn.rsplit("::", 1)[-1], provider.props["region"]) == ("use1", "us-east-1")


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_resource_without_a_provider_gets_the_default_one_with_the_aws_config(sent, mode):
    provider = sent[mode][0]["jobs"].provider
    assert provider is not None
    assert provider.name.startswith("default")
    assert provider.props["region"] == "eu-central-1"


def test_explicit_provider_is_analyzed_as_a_resource_with_its_inputs(sent):
    assert sent["preview"][0]["use1"].props["region"] == "us-east-1"


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_property_dependencies_name_the_resource_an_input_came_from(sent, mode):
    _, stack = sent[mode]
    assert stack["site-pab"].property_dependencies == {"bucket": (stack["site"].urn,)}


def test_dependencies_list_every_resource_the_inputs_came_from(sent):
    _, stack = sent["preview"]
    assert stack["site-policy"].dependencies == (stack["site"].urn,)


def test_top_level_resource_urn_leaves_out_the_stack_type_as_the_engine_does(sent):
    _, stack = sent["preview"]
    assert stack["site"].urn.split("::")[2:] == ["aws:s3/bucket:Bucket", "site"]


def test_top_level_resource_has_the_stack_as_parent(sent):
    _, stack = sent["preview"]
    assert stack["site"].parent.split("::")[2] == "pulumi:pulumi:Stack"


def test_analyze_stack_request_carries_parent_dependencies_and_property_dependencies(sent):
    _, stack = sent["preview"]
    request = analyze_stack_request([stack["site"], stack["site-pab"]])
    pab = request.resources[1]
    assert pab.parent == stack["site-pab"].parent
    assert list(pab.dependencies) == [stack["site"].urn]
    assert list(pab.propertyDependencies["bucket"].urns) == [stack["site"].urn]


def test_analyze_request_carries_the_sentinel_on_the_wire(sent):
    request = analyze_request(sent["preview"][0]["site-pab"])
    assert request.properties["bucket"] == UNKNOWN


def protected_queue() -> None:
    aws.sqs.Queue("kept", name="va-dev-kept-queue",
                  opts=pulumi.ResourceOptions(protect=True, ignore_changes=["tags"],
                                              delete_before_replace=True,
                                              additional_secret_outputs=["url"]))  # fmt: skip


@pytest.mark.parametrize(
    "build", [analyze_request, lambda s: analyze_stack_request([s]).resources[0]]
)
def test_resource_options_are_sent_as_the_engine_sends_them(build):
    run = run_under_mocks(protected_queue, config=CONFIG, mode="preview")
    (queue,) = [s for s in subjects(run)[0] if s.name == "kept"]
    options = build(queue).options
    assert (options.protect, list(options.ignoreChanges), options.deleteBeforeReplace,
            list(options.additionalSecretOutputs)) == (True, ["tags"], True, ["url"])  # fmt: skip
