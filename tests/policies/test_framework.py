"""What every family shares: exemptions, unknown values, config fallback, the SDK entry point."""

from __future__ import annotations

from pulumi.runtime.rpc import UNKNOWN as ENGINE_UNKNOWN
from pulumi_policy import ResourceValidationArgs
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import unknown_checking_proxy

from policies.va_guard import framework, iam, lambda_rules, naming, sdk_compat, tagging
from policies.va_guard.pack import build_policies
from tests.policies.support import ENV_TAGS, run

FN = "aws:lambda/function:Function"


def engine_props(props):
    """Properties as the SDK hands them to a policy: deserialized, behind the unknown proxy."""
    return unknown_checking_proxy(deserialize_properties(props))


def sdk_args(type_, props, config=None, name="thing"):
    return ResourceValidationArgs(type_, engine_props(props), f"urn:pulumi:dev::p::{type_}::{name}",
                                  name, None, None, config)  # fmt: skip


def test_exemption_tag_for_another_policy_exempts_nothing_here():
    tags = {**ENV_TAGS, "va:policy-exempt": "va-iam: imported bucket, renaming loses data"}
    found, _ = run(naming.FAMILY, FN, {"name": "legacy", "tags": tags})
    assert len(found) == 1


def test_unknown_value_is_reported_as_not_checked_while_the_rest_is_checked():
    props = {"policy": ENGINE_UNKNOWN}
    _, notices = iam.FAMILY.evaluate(
        framework.Resource.of("aws:iam/policy:Policy", "p", "urn", engine_props(props)),
        iam.FAMILY.config(None),
    )
    assert notices == [
        "unchecked: could not check policy document (policy) (computed from other resources' "
        "outputs): it is unknown until the resources it depends on exist (preview); the rule "
        "runs on it again during `pulumi up`"
    ]


def test_unknown_env_var_does_not_hide_a_plaintext_secret_beside_it():
    props = {"runtime": "python3.13", "vpcConfig": {"subnetIds": ["s"], "securityGroupIds": ["g"]},
             "environment": {"variables": {"A": ENGINE_UNKNOWN, "B": "AKIAIOSFODNN7EXAMPLE"}}}  # fmt: skip
    reported = []
    lambda_rules.FAMILY.validate(
        sdk_args(FN, props), lambda message, urn=None: reported.append(message)
    )
    assert len(reported) == 1
    assert "environment variable B holds what looks like" in reported[0]


def test_notices_are_reported_by_va_notices_for_the_same_resource():
    policies = {p.name: p for p in build_policies()}
    props = {"runtime": "python3.13", "environment": {"variables": {"A": ENGINE_UNKNOWN}}}
    policies["va-lambda"].validate(sdk_args(FN, props), lambda message, urn=None: None)
    reported = []
    policies["va-notices"].validate(sdk_args(FN, props), lambda m, urn=None: reported.append(m))
    assert reported == [
        "[va-lambda] unchecked: could not check environment variables A: " + framework.UNKNOWN_HINT
    ]


def test_ill_typed_config_falls_back_to_the_default_with_a_notice():
    found, notices = run(
        tagging.FAMILY, "aws:s3/bucket:Bucket", {"tags": ENV_TAGS}, {"requiredTags": "Name"}
    )
    assert found == []
    assert notices == [
        "config requiredTags='Name' is not a valid array; the default ['Name', 'Environment', 'Purpose', 'Project', 'Owner'] applies"
    ]


def _crashing_family():
    def boom(resource, config):
        yield framework.violation("found before the crash")
        raise RuntimeError("bug")

    return framework.Family("va-test", "d", "r", boom)


def test_a_crashing_rule_is_a_violation_saying_it_could_not_check():
    family = _crashing_family()
    violations, _ = family.evaluate(framework.Resource.of("t", "n", "u", {}), family.config(None))
    assert violations[0] == "found before the crash"
    assert violations[1].startswith("could not be checked (RuntimeError in va-test)")


def test_a_crashing_mandatory_rule_is_reported_at_the_policys_level_by_the_sdk():
    policy = _crashing_family().policy()
    reported = []
    policy.validate(sdk_args(FN, {}), lambda message, urn=None: reported.append(message))
    assert policy.enforcement_level.value == "mandatory"
    assert any(m.startswith("could not be checked (RuntimeError in va-test)") for m in reported)


def test_a_crashing_rule_can_be_exempted_like_any_violation(monkeypatch):
    monkeypatch.setattr(sdk_compat, "_stack", sdk_compat.StackIdentity("acme", "p", "dev"))
    family = _crashing_family()
    grant = {"id": "EX-1", "stacks": ["acme/p/dev"], "namePattern": "n", "owner": "ops",
             "reason": "vendor resource, checked by hand each quarter", "expires": "2999-01-01"}  # fmt: skip
    resource = framework.Resource.of("t", "n", "u", {})
    violations, notices = family.evaluate(resource, family.config({"exemptions": [grant]}))
    assert violations == []
    assert any("could not be checked (RuntimeError in va-test)" in n for n in notices)


def test_parse_exempt_tag_accepts_comma_plus_or_space_separated_policies():
    for value in (
        "va-naming,va-iam: reason long enough",
        "va-naming+va-iam: reason long enough",
        "va-naming va-iam: reason long enough",
    ):
        assert framework.parse_exempt_tag(value) == (["va-naming", "va-iam"], "reason long enough")
