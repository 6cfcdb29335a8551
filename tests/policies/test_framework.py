"""What every family shares: exemptions, unknown values, config fallback, the SDK entry point."""

from __future__ import annotations

from pulumi.runtime.rpc import UNKNOWN as ENGINE_UNKNOWN
from pulumi_policy import ResourceValidationArgs
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import unknown_checking_proxy

from policies.va_guard import framework, iam, lambda_rules, naming, tagging
from policies.va_guard.pack import build_policies
from tests.policies.support import ENV_TAGS, run

FN = "aws:lambda/function:Function"


def engine_props(props):
    """Properties as the SDK hands them to a policy: deserialized, behind the unknown proxy."""
    return unknown_checking_proxy(deserialize_properties(props))


def sdk_args(type_, props, config=None, name="thing"):
    return ResourceValidationArgs(type_, engine_props(props), f"urn:pulumi:dev::p::{type_}::{name}",
                                  name, None, None, config)  # fmt: skip


def test_exemption_tag_turns_the_violation_into_a_notice():
    tags = {**ENV_TAGS, "va:policy-exempt": "va-naming: imported bucket, renaming loses data"}
    found, notices = run(naming.FAMILY, FN, {"name": "legacy", "tags": tags})
    assert found == []
    assert notices[0].startswith("exemption used (tag va:policy-exempt, reason: imported bucket")


def test_exemption_tag_for_another_policy_exempts_nothing_here():
    tags = {**ENV_TAGS, "va:policy-exempt": "va-iam: imported bucket, renaming loses data"}
    found, _ = run(naming.FAMILY, FN, {"name": "legacy", "tags": tags})
    assert len(found) == 1


def test_exemption_with_a_short_reason_keeps_the_violation_and_says_why():
    config = {"exemptions": [{"namePattern": "legacy-*", "reason": "legacy"}]}
    (message,) = run(naming.FAMILY, FN, {"name": "x"}, config, name="legacy-fn")[0]
    assert "was not applied: its reason 'legacy' is shorter than 10 characters" in message


def test_config_exemption_matches_the_logical_name_and_type():
    entry = {
        "namePattern": "legacy-*",
        "type": "aws:lambda/*",
        "reason": "migrated in Q3, ticket OPS-12",
    }
    found, notices = run(
        naming.FAMILY, FN, {"name": "x"}, {"exemptions": [entry]}, name="legacy-fn"
    )
    assert found == []
    assert "config va-naming.exemptions namePattern='legacy-*'" in notices[0]


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


def test_a_crashing_rule_can_be_exempted_like_any_violation():
    family = _crashing_family()
    tags = {"va:policy-exempt": "va-test: vendor resource, checked by hand each quarter"}
    resource = framework.Resource.of("t", "n", "u", {"tags": tags})
    violations, notices = family.evaluate(resource, family.config(None))
    assert violations == []
    assert any("could not be checked (RuntimeError in va-test)" in n for n in notices)


def test_parse_exempt_tag_accepts_comma_plus_or_space_separated_policies():
    for value in (
        "va-naming,va-iam: reason long enough",
        "va-naming+va-iam: reason long enough",
        "va-naming va-iam: reason long enough",
    ):
        assert framework.parse_exempt_tag(value) == (["va-naming", "va-iam"], "reason long enough")
