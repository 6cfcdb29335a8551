"""The pack as the engine runs it: a subprocess started with ``python -m pulumi.policy``, over gRPC."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pulumi.runtime.rpc import UNKNOWN as ENGINE_UNKNOWN

from policies.va_guard import exemptions, standard
from policies.va_guard.pack import FAMILIES
from va_platform.preflight.analyzer import PolicyPackProcess, Provider, StackIdentity, Subject
from va_platform.preflight.engine import subjects
from va_platform.preflight.runner import run_program

PROVIDER = Provider("pulumi:providers:aws", "urn:pulumi:dev::p::pulumi:providers:aws::default",
                    "default", {"region": "eu-central-1"})  # fmt: skip
TAGS = standard.standard_tags("dev", "core", "va-dev-core-queue", "platform-team")
QUEUE = "aws:sqs/queue:Queue"


def subject(type_, props, name="thing", provider=PROVIDER):
    return Subject(type_, name, f"urn:pulumi:dev::p::{type_}::{name}", props, provider=provider)


GOOD_QUEUE = subject(
    QUEUE, {"name": "va-dev-core-queue", "sqsManagedSseEnabled": True, "tags": TAGS}
)


@pytest.fixture(scope="module")
def pack():
    with PolicyPackProcess() as process:
        yield process


@pytest.fixture
def fresh_config(pack):
    """Tests that configure the pack put the VA defaults back afterwards."""
    yield pack
    pack.configure({})


def test_pack_reports_every_policy_with_level_and_remediation(pack):
    info = pack.info()
    assert info.name == "va-guard"
    expected = [f.name for f in FAMILIES] + ["va-notices", "va-stack-notices"]
    assert list(info.policies) == expected
    assert all(p["remediation"] for p in info.policies.values())
    assert info.policies["va-naming"]["level"] == "mandatory"
    assert info.policies["va-runtime-patch"]["level"] == "advisory"


def test_exemption_tag_names_exactly_the_pack_policies():
    assert tuple(f.name for f in FAMILIES) == exemptions.POLICY_NAMES


def test_config_schema_carries_the_va_defaults(pack):
    schema = pack.info().policies["va-region"]["configSchema"]
    assert schema["allowedRegions"]["type"] == "array"
    assert schema["exemptions"]["items"]["properties"]["reason"]["minLength"] == 10


def test_compliant_resource_gets_no_diagnostics(pack):
    assert pack.analyze(GOOD_QUEUE) == []


def test_violation_carries_policy_level_message_and_resource(pack):
    bad = subject(
        QUEUE, {"name": "orders", "sqsManagedSseEnabled": True, "tags": TAGS}, name="orders"
    )
    (d,) = pack.analyze(bad)
    assert (d.policy, d.level) == ("va-naming", "mandatory")
    assert d.detail.startswith("name='orders' does not follow va-<env>-<purpose>-<type>")
    assert d.urn in ("", bad.urn)  # the engine attributes resource diagnostics to the request


def test_configure_changes_a_rule(fresh_config):
    fresh_config.configure({"va-region": {"allowedRegions": ["us-east-1"]}})
    (d,) = fresh_config.analyze(GOOD_QUEUE)
    assert d.policy == "va-region"
    assert "only us-east-1 is allowed" in d.detail


def test_configure_can_make_a_policy_advisory(fresh_config):
    fresh_config.configure({"va-naming": {"enforcementLevel": "advisory"}})
    bad = subject(QUEUE, {"name": "orders", "sqsManagedSseEnabled": True, "tags": TAGS})
    assert [(d.policy, d.level) for d in fresh_config.analyze(bad)] == [("va-naming", "advisory")]


def test_unknown_value_is_reported_as_an_advisory_notice_not_skipped(pack):
    props = {"name": "va-dev-core-policy", "policy": ENGINE_UNKNOWN, "tags": TAGS}
    (d,) = pack.analyze(subject("aws:iam/policy:Policy", props))
    assert (d.policy, d.level) == ("va-notices", "advisory")
    assert d.detail.startswith("[va-iam] unchecked: could not check policy document (policy)")
    assert "runs on it again during `pulumi up`" in d.detail


def test_unknown_value_does_not_stop_the_other_checks_of_the_same_policy(pack):
    props = {"name": "va-dev-core-policy", "tags": TAGS, "policy": {"Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": ENGINE_UNKNOWN}]}}  # fmt: skip
    diagnostics = pack.analyze(subject("aws:iam/policy:Policy", props))
    assert [(d.policy, d.level) for d in diagnostics] == [
        ("va-iam", "mandatory"),
        ("va-notices", "advisory"),
    ]
    assert "Allow statement grants *" in diagnostics[0].detail
    assert (
        "[va-iam] unchecked: could not check statement 1 of policy document"
        in diagnostics[1].detail
    )


VENDOR_GRANT = {"id": "EX-7", "stacks": ["acme/billing/prod"], "namePattern": "vendor",
                "owner": "billing-team", "reason": "created by the vendor's CloudFormation",
                "expires": "2999-12-31"}  # fmt: skip
VENDOR = subject(
    QUEUE, {"name": "vendor", "sqsManagedSseEnabled": True, "tags": TAGS}, name="vendor"
)


def test_exemption_used_is_reported_as_an_advisory(fresh_config):
    fresh_config.configure_stack(StackIdentity("acme", "billing", "prod"))
    fresh_config.configure({"va-naming": {"exemptions": [VENDOR_GRANT]}})
    diagnostics = fresh_config.analyze(VENDOR)
    assert [(d.policy, d.level) for d in diagnostics] == [("va-notices", "advisory")]
    assert diagnostics[0].detail.startswith(
        "[va-naming] exemption used (EX-7 for acme/billing/prod, owner billing-team, expires "
        "2999-12-31; reason: created by the vendor's CloudFormation)"
    )


def test_exemption_of_one_stack_is_a_mandatory_violation_in_another(fresh_config):
    fresh_config.configure_stack(StackIdentity("acme", "billing", "dev"))
    fresh_config.configure({"va-naming": {"exemptions": [VENDOR_GRANT]}})
    (d,) = fresh_config.analyze(VENDOR)
    assert (d.policy, d.level) == ("va-naming", "mandatory")
    assert "exemption EX-7 is granted for acme/billing/prod, not for this stack" in d.detail


def test_team_tag_alone_is_a_mandatory_violation_over_grpc(pack):
    tags = {**TAGS, "va:policy-exempt": "va-naming: created by the vendor's CloudFormation"}
    diagnostics = pack.analyze(
        subject(QUEUE, {"name": "vendor", "sqsManagedSseEnabled": True, "tags": tags})
    )
    assert ("va-naming", "mandatory") in [(d.policy, d.level) for d in diagnostics]


def test_analyze_stack_reports_against_the_offending_resource(pack):
    fn = subject(
        "aws:lambda/function:Function", {"name": "va-dev-x-lambda", "role": "arn:r"}, name="fn"
    )
    diagnostics = pack.analyze_stack([fn])
    mandatory = [d for d in diagnostics if d.level == "mandatory"]
    assert {d.policy for d in mandatory} == {"va-stack"}
    assert all(d.urn == fn.urn for d in mandatory)
    assert any("has no log group '/aws/lambda/va-dev-x-lambda'" in d.detail for d in mandatory)


def test_provider_region_is_checked_on_the_provider_resource(pack):
    provider = subject("pulumi:providers:aws", {"region": "us-east-1"}, provider=None)
    (d,) = pack.analyze(provider)
    assert d.policy == "va-region"
    assert "'us-east-1'" in d.detail


def test_secret_values_never_appear_in_diagnostics(pack):
    key = "AKIAIOSFODNN7EXAMPLE"
    props = {"name": "va-dev-x-lambda", "environment": {"variables": {"K": key}}}
    diagnostics = pack.analyze(subject("aws:lambda/function:Function", props))
    assert diagnostics
    assert all(key not in d.message for d in diagnostics)
    assert key not in json.dumps([d.message for d in diagnostics])


# What a message may not contain: the pack is applied org-wide, so it names the VA standard's
# rule and the fix, never this repository's classes, packages or files.
REPOSITORY_WORDS = re.compile(r"\bVa[A-Z]\w+|\bcomponents?\b|\bpolicies\.[a-z_]|\w\.py\b")
BAD_PROGRAM = Path(__file__).parents[1] / "fixtures" / "bad_program.py"


def test_descriptions_and_remediations_name_no_repository_code(pack):
    texts = [
        text for p in pack.info().policies.values() for text in (p["description"], p["remediation"])
    ]
    assert [t for t in texts if REPOSITORY_WORDS.search(t)] == []


def test_violation_messages_name_no_repository_code(pack):
    per_resource, stack_view = subjects(run_program("dev", program=BAD_PROGRAM))
    diagnostics = [d for s in per_resource for d in pack.analyze(s)]
    diagnostics += pack.analyze_stack(stack_view)
    assert len(diagnostics) > 20
    assert [d.detail for d in diagnostics if REPOSITORY_WORDS.search(d.detail)] == []


def test_ssh_ingress_rule_without_to_port_is_a_mandatory_violation(pack):
    props = {
        "cidrIpv4": "0.0.0.0/0",
        "ipProtocol": "tcp",
        "fromPort": 22,
        "securityGroupId": "sg-1",
    }
    diagnostics = pack.analyze(
        subject("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", props)
    )
    network = [(d.level, d.detail) for d in diagnostics if d.policy in ("va-network", "va-notices")]
    assert network == [
        ("mandatory", "ingress rule protocol 'tcp' port 22 is open to 0.0.0.0/0; allow only the "
                      "security groups or CIDRs that need it")
    ]  # fmt: skip


def test_exemption_scope_holds_with_the_sdk_workarounds_off():
    with PolicyPackProcess(env={"VA_GUARD_SDK_COMPAT": "0"}) as off:
        off.configure_stack(StackIdentity("acme", "billing", "prod"))
        off.configure({"va-naming": {"exemptions": [VENDOR_GRANT]}})
        assert [(d.policy, d.level) for d in off.analyze(VENDOR)] == [("va-notices", "advisory")]
