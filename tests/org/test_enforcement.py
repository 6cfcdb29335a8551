"""org/ enforces va-guard on every stack of the organisation, new ones included, at a pinned
version, with a rollout (audit on every stack before preventative), and hands the policies the
exemptions the organisation granted. Run under the recording mocks like the main program."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

import org.config
from policies.va_guard.pack import FAMILIES, PACK_NAME
from tests.org.test_org import ORGANIZATION, org_config, run_org
from tests.paths import PACK_DIR
from va_platform.preflight import runner
from va_platform.preflight.runner import Run

GROUP = "pulumiservice:index:PolicyGroup"


def rollout(**overrides: Any) -> dict[str, Any]:
    value = {
        "preventativeGroup": "default-policy-group",
        "auditGroup": "default-audit-policy-group",
        "preventative": "0.2.0",
        "audit": "0.3.0",
        "audited": ["0.1.0", "0.2.0"],
    }
    value.update(overrides)
    return {k: v for k, v in value.items() if v is not None}


def config_with(**overrides: Any) -> dict[str, Any]:
    return {**org_config(), "va-org:vaGuard": rollout(**overrides)}


@pytest.fixture
def registrations(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Each registration's request by logical name: what the recorder keeps of the options
    leaves out import ids and retainOnDelete."""
    seen: dict[str, Any] = {}
    register = runner.RecordingMonitor.RegisterResource

    def recording(self: Any, request: Any) -> Any:
        seen[request.name] = request
        return register(self, request)

    monkeypatch.setattr(runner.RecordingMonitor, "RegisterResource", recording)
    return seen


def groups(run: Run) -> dict[str, Any]:
    return {r.inputs["mode"]: r for r in run.of_type(GROUP)}


def packs(group: Any) -> list[dict[str, Any]]:
    return group.inputs.get("policyPacks", [])


def test_va_guard_is_preventative_in_the_organisations_default_group_at_the_pinned_version():
    run = run_org(config_with())
    assert run.error is None, run.error
    preventative = groups(run)["preventative"]
    assert preventative.inputs["name"] == "default-policy-group"
    assert preventative.inputs["organizationName"] == ORGANIZATION
    assert [(p["name"], p["versionTag"]) for p in packs(preventative)] == [(PACK_NAME, "0.2.0")]


def test_the_default_groups_are_adopted_and_their_members_left_to_pulumi_cloud(registrations):
    run = run_org(config_with())
    assert run.error is None, run.error
    for group in run.of_type(GROUP):
        request = registrations[group.name]
        assert request.importId == f"{ORGANIZATION}/{group.inputs['name']}"
        assert {"stacks", "accounts"} <= set(request.ignoreChanges)
        assert "stacks" not in group.inputs  # every stack, new ones included: Pulumi Cloud's
        assert request.protect
        assert request.retainOnDelete  # a default group cannot be deleted, only left


def test_the_next_version_runs_as_audit_on_every_stack():
    audit = groups(run_org(config_with()))["audit"]
    assert audit.inputs["name"] == "default-audit-policy-group"
    assert [(p["name"], p["versionTag"]) for p in packs(audit)] == [(PACK_NAME, "0.3.0")]


def test_with_no_version_in_audit_the_audit_group_runs_no_va_guard():
    audit = groups(run_org(config_with(audit=None)))["audit"]
    assert packs(audit) == []


@pytest.mark.parametrize(
    ("overrides", "said"),
    [
        pytest.param({"preventative": "0.3.0", "audit": None}, "0.3.0 has not run as audit",
                     id="not-audited"),
        pytest.param({"audit": "0.1.0"}, "audit 0.1.0 must be newer than preventative 0.2.0",
                     id="audit-older"),
        pytest.param({"preventative": "latest"}, "'latest' is not a version (x.y.z)",
                     id="not-semver"),
        pytest.param({"preventative": None}, "no preventative version", id="unset"),
    ],
)  # fmt: skip
def test_a_bad_rollout_stops_the_run_with_one_line_and_declares_nothing(overrides, said):
    run = run_org(config_with(**overrides))
    assert isinstance(run.error, pulumi.RunError)
    assert "\n" not in str(run.error)
    assert said in str(run.error)
    assert "va-org:vaGuard" in str(run.error)
    assert run.resources == []


def test_the_packs_version_in_this_repository_is_rolling_out():
    value = org_config()["va-org:vaGuard"]
    declared = str(yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())["version"])
    assert declared in (value["preventative"], value.get("audit"))


def test_our_own_rollout_is_valid():
    run = run_org(org_config())
    assert run.error is None, run.error
    assert set(groups(run)) == {"preventative", "audit"}


def test_no_group_config_lowers_a_policy_level():
    for group in run_org(config_with()).of_type(GROUP):
        for pack in packs(group):
            levels = {
                policy: settings.get("enforcementLevel")
                for policy, settings in pack.get("config", {}).items()
            }
            assert set(levels.values()) <= {None}, levels


# --- exemptions: one register in org/, handed to each policy it names --------------------------

GRANT = {
    "id": "EX-12",
    "policies": ["va-naming", "va-tagging"],
    "stacks": ["virtualagentics/billing/prod"],
    "namePattern": "legacy-*",
    "owner": "billing-team",
    "reason": "imported in 2024; renaming would drop its data",
    "expires": "2027-03-31",
}


@pytest.fixture
def register(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def write(*entries: dict[str, Any]) -> Path:
        path = tmp_path / "exemptions.yaml"
        path.write_text(yaml.safe_dump({"exemptions": list(entries)}))
        monkeypatch.setattr(org.config, "EXEMPTIONS_FILE", path)
        return path

    return write


def test_each_granted_exemption_reaches_the_config_of_each_policy_it_names(register):
    register(GRANT)
    preventative = groups(run_org(config_with()))["preventative"]
    (pack,) = packs(preventative)
    expected = {k: v for k, v in GRANT.items() if k != "policies"}
    assert pack["config"] == {
        "va-naming": {"exemptions": [expected]},
        "va-tagging": {"exemptions": [expected]},
    }


def test_a_version_that_does_not_scope_exemptions_gets_none(register):
    register(GRANT)
    run = run_org(config_with(preventative="0.1.0", audit="0.2.0", audited=["0.1.0"]))
    by_mode = groups(run)
    assert "config" not in packs(by_mode["preventative"])[0]  # 0.1.0 would apply them everywhere
    assert packs(by_mode["audit"])[0]["config"]["va-naming"]["exemptions"][0]["id"] == "EX-12"


@pytest.mark.parametrize(
    ("change", "said"),
    [
        pytest.param({"owner": None}, "EX-12: no owner", id="owner"),
        pytest.param({"expires": "soon"}, "EX-12: expires='soon' is not a date", id="expiry"),
        pytest.param({"policies": ["va-nameing"]}, "EX-12: policy 'va-nameing' is not", id="policy"),
        pytest.param({"stacks": ["*/billing/prod"]}, "EX-12: stack '*/billing/prod'", id="stack"),
        pytest.param({"reason": "legacy"}, "EX-12: its reason 'legacy' is shorter", id="reason"),
    ],
)  # fmt: skip
def test_a_bad_exemption_stops_the_run_with_one_line(register, change, said):
    entry = {k: v for k, v in {**GRANT, **change}.items() if v is not None}
    register(entry)
    run = run_org(config_with())
    assert isinstance(run.error, pulumi.RunError)
    assert "\n" not in str(run.error)
    assert said in str(run.error)
    assert run.resources == []


def test_two_exemptions_with_one_id_stop_the_run(register):
    register(GRANT, {**GRANT, "namePattern": "old-*"})
    run = run_org(config_with())
    assert isinstance(run.error, pulumi.RunError)
    assert "EX-12 is granted twice" in str(run.error)


def test_exemption_register_knows_exactly_the_packs_policies():
    assert set(org.config.POLICY_NAMES) == {f.name for f in FAMILIES}


def test_the_register_in_this_repository_is_valid_and_reaches_the_packs_schema():
    entries = org.config.load_exemptions()
    schema = FAMILIES[0].all_settings["exemptions"].schema["items"]
    for entry in entries:
        pack_entry = {k: v for k, v in entry.items() if k != "policies"}
        assert set(pack_entry) <= set(schema["properties"]), json.dumps(entry)
