"""Exemptions are granted, scoped and expire: only the pack's configuration (owned by the
organisation's admins) grants one, for named stacks, named resources, an owner and an expiry
date; a team's tag alone exempts nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from policies.va_guard import framework, naming, sdk_compat, tagging
from tests.policies.support import ENV_TAGS, run

FN = "aws:lambda/function:Function"
BUCKET = "aws:s3/bucket:Bucket"
STACK = ("acme", "billing", "prod")
TODAY = date(2026, 12, 7)


def grant(**overrides):
    entry = {
        "id": "EX-12",
        "stacks": ["acme/billing/prod"],
        "namePattern": "legacy-*",
        "owner": "billing-team",
        "reason": "imported in 2024; renaming would drop its data",
        "expires": "2027-03-31",
    }
    entry.update(overrides)
    return {k: v for k, v in entry.items() if v is not None}


@pytest.fixture(autouse=True)
def analysed_stack(monkeypatch):
    """The engine named acme/billing/prod (ConfigureStack); the clock says TODAY."""
    monkeypatch.setattr(sdk_compat, "_stack", sdk_compat.StackIdentity(*STACK))
    monkeypatch.setattr(framework, "today", lambda: TODAY)


def naming_of(name="legacy-fn", config=None, tags=None):
    """(violations, notices) of va-naming for a function whose physical name breaks the rule."""
    props = {"name": "x", "tags": {**ENV_TAGS, **(tags or {})}}
    return run(naming.FAMILY, FN, props, config, name=name)


def test_granted_exemption_for_this_stack_turns_the_violation_into_a_notice():
    found, notices = naming_of(config={"exemptions": [grant()]})
    assert found == []
    assert notices[0].startswith(
        "exemption used (EX-12 for acme/billing/prod, owner billing-team, expires 2027-03-31; "
        "reason: imported in 2024; renaming would drop its data): name='x' does not follow"
    )


def test_exemption_for_another_stack_does_not_apply_here():
    found, notices = naming_of(config={"exemptions": [grant(stacks=["acme/billing/dev"])]})
    (message,) = found
    assert message.startswith("name='x' does not follow")
    assert (
        "exemption EX-12 is granted for acme/billing/dev, not for this stack (acme/billing/prod)"
        in message
    )
    assert not [n for n in notices if "exemption used" in n]


def test_exemption_for_a_stack_of_another_organisation_does_not_apply_here():
    (message,) = naming_of(config={"exemptions": [grant(stacks=["other/billing/prod"])]})[0]
    assert "granted for other/billing/prod, not for this stack" in message


def test_exemption_for_every_stack_of_a_project_applies_to_each():
    found, _ = naming_of(config={"exemptions": [grant(stacks=["acme/billing/*"])]})
    assert found == []


def test_stack_pattern_with_a_wildcard_organisation_is_refused():
    (message,) = naming_of(config={"exemptions": [grant(stacks=["*/billing/prod"])]})[0]
    assert "exemption EX-12 was not applied" in message
    assert "'*/billing/prod'" in message
    assert "<organization>/<project>/<stack>" in message


def test_expired_exemption_is_a_violation_saying_it_expired_and_when():
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    (message,) = naming_of(config={"exemptions": [grant(expires=yesterday)]})[0]
    assert message.startswith("name='x' does not follow")
    assert f"exemption EX-12 (owner billing-team) expired on {yesterday}" in message
    assert "renew it in the pack's configuration or fix the resource" in message


def test_exemption_applies_through_its_expiry_day():
    found, _ = naming_of(config={"exemptions": [grant(expires=TODAY.isoformat())]})
    assert found == []


@pytest.mark.parametrize(
    ("missing", "said"),
    [
        ("owner", "no owner"),
        ("expires", "no expiry date"),
        ("id", "no id"),
        ("stacks", "no stacks"),
    ],
)
def test_exemption_without_owner_expiry_id_or_stacks_exempts_nothing_and_says_why(missing, said):
    entry = grant(**{missing: None})
    (message,) = naming_of(config={"exemptions": [entry]})[0]
    assert "was not applied" in message
    assert said in message


def test_exemption_with_an_unreadable_expiry_exempts_nothing():
    (message,) = naming_of(config={"exemptions": [grant(expires="next spring")]})[0]
    assert "expires='next spring' is not a date (YYYY-MM-DD)" in message


def test_exemption_with_a_short_reason_keeps_the_violation_and_says_why():
    (message,) = naming_of(config={"exemptions": [grant(reason="legacy")]})[0]
    assert "its reason 'legacy' is shorter than 10 characters" in message


def test_exemption_naming_no_resources_is_refused():
    entry = grant(namePattern=None)
    (message,) = naming_of(config={"exemptions": [entry]})[0]
    assert "names no resources: give namePattern, type or byTag" in message


def test_exemption_by_type_alone_applies_to_that_type_only():
    entry = grant(namePattern=None, type="aws:lambda/*")
    assert naming_of(name="any-fn", config={"exemptions": [entry]})[0] == []
    bucket = run(naming.FAMILY, BUCKET, {"bucket": "x", "tags": ENV_TAGS},
                 {"exemptions": [grant(namePattern=None, type="aws:lambda/*")]})  # fmt: skip
    assert len(bucket[0]) == 1


def test_exemption_for_other_resources_says_nothing_here():
    (message,) = naming_of(name="orders-fn", config={"exemptions": [grant()]})[0]
    assert "exemption" not in message


def test_team_tag_alone_no_longer_exempts_a_mandatory_violation():
    tag = {"va:policy-exempt": "va-naming: imported bucket, renaming loses data"}
    found, notices = naming_of(tags=tag)
    (message,) = found
    assert message.startswith("name='x' does not follow")
    assert "the tag va:policy-exempt no longer exempts by itself" in message
    assert "ask the platform team" in message
    assert not [n for n in notices if "exemption used" in n]


def test_tag_naming_an_approved_exemption_selects_the_resource():
    entry = grant(namePattern=None, byTag=True)
    found, notices = naming_of(name="any-fn", config={"exemptions": [entry]},
                               tags={"va:policy-exempt": "EX-12"})  # fmt: skip
    assert found == []
    assert notices[0].startswith("exemption used (EX-12 for acme/billing/prod")


def test_exemption_by_tag_does_not_apply_to_an_untagged_resource():
    entry = grant(namePattern=None, byTag=True)
    found, _ = naming_of(name="any-fn", config={"exemptions": [entry]})
    assert len(found) == 1


def test_tag_naming_an_exemption_the_configuration_does_not_grant_exempts_nothing():
    (message,) = naming_of(name="any-fn", tags={"va:policy-exempt": "EX-99"})[0]
    assert "the tag va:policy-exempt names EX-99, which the pack's configuration does not " \
           "grant for va-naming" in message  # fmt: skip


def test_exemption_does_not_apply_while_the_engine_has_not_named_the_stack(monkeypatch):
    monkeypatch.setattr(sdk_compat, "_stack", None)
    (message,) = naming_of(config={"exemptions": [grant()]})[0]
    assert (
        "exemption EX-12 was not applied: the engine did not say which stack it analyses" in message
    )


def test_exemption_config_schema_requires_id_stacks_owner_reason_and_expiry():
    schema = naming.FAMILY.all_settings["exemptions"].schema
    assert set(schema["items"]["required"]) == {"id", "stacks", "owner", "reason", "expires"}


def test_tag_naming_exemption_ids_is_well_formed_for_va_tagging():
    assert run(
        tagging.FAMILY, BUCKET, {"tags": {**ENV_TAGS, "va:policy-exempt": "EX-12 EX-13"}}
    ) == ([], [])


def test_old_form_tag_is_an_advisory_for_va_tagging_not_a_violation():
    found, notices = run(
        tagging.FAMILY,
        BUCKET,
        {"tags": {**ENV_TAGS, "va:policy-exempt": "va-naming: old reason here"}},
    )
    assert found == []
    assert notices == [
        "warning: tag va:policy-exempt='va-naming: old reason here' uses the old "
        "'<policy>: <reason>' form, which exempts nothing since va-guard 0.2.0; ask the "
        "platform team for an exemption and tag the resource with its id"
    ]
