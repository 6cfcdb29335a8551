"""The pack says which version of it judged a stack, and that version is a real semver."""

from __future__ import annotations

import re

import pytest
import yaml

from policies.va_guard import version
from tests.paths import PACK_DIR, PROJECT_ROOT
from tests.policies import pack_reports
from va_platform.preflight.analyzer import PolicyPackProcess, StackIdentity

SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?$")


def declared_version() -> str:
    return str(yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())["version"])


@pytest.fixture(scope="module")
def pack():
    with PolicyPackProcess() as process:
        yield process


def test_pack_version_is_a_semver_above_the_first_one():
    declared = declared_version()
    assert SEMVER.match(declared), declared
    assert tuple(int(p) for p in declared.split("-")[0].split(".")) > (0, 1, 0)


def test_pack_reads_its_version_from_pulumipolicy_yaml():
    assert (version.PACK_NAME, version.pack_version()) == ("va-guard", declared_version())


def test_unreadable_policy_file_gives_unknown_not_a_crash(tmp_path):
    assert version.pack_version(tmp_path / "missing.yaml") == "unknown"
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\n")
    assert version.pack_version(tmp_path / "PulumiPolicy.yaml") == "unknown"


def test_every_stack_report_names_the_pack_and_its_version(pack):
    notices = [d for d in pack.analyze_stack([]) if d.policy == "va-stack-notices"]
    assert [d.level for d in notices] == ["advisory"]
    assert notices[0].detail.startswith(
        f"[va-guard] va-guard {declared_version()} judged this stack"
    )


def test_stack_report_names_the_stack_the_engine_configured(pack):
    pack.configure_stack(StackIdentity("acme", "billing", "prod"))
    (notice,) = [d for d in pack.analyze_stack([]) if d.policy == "va-stack-notices"]
    assert (
        notice.detail
        == f"[va-guard] va-guard {declared_version()} judged this stack acme/billing/prod"
    )


# --- what the pack reports is recorded with its version (pack_reports) ---------------------------


def test_pack_reports_over_the_corpus_are_the_ones_recorded_for_this_version():
    recorded = pack_reports.load(pack_reports.REPORTS_FILE)
    current = pack_reports.reports(pack_reports.load(pack_reports.CORPUS_FILE))
    problem = pack_reports.verdict(recorded, current, version.pack_version())
    assert problem is None, problem


def test_changed_reports_under_the_recorded_version_ask_for_a_bump():
    recorded = {"version": "0.2.0", "reports": {"a/update": [["va-x", "mandatory", "u", "old"]]}}
    current = {"a/update": [["va-x", "mandatory", "u", "new"]]}
    problem = pack_reports.verdict(recorded, current, "0.2.0")
    assert problem is not None
    assert "changed (a/update) but PulumiPolicy.yaml still says 0.2.0" in problem
    assert "bump PulumiPolicy.yaml's version" in problem
    assert f"record with `{pack_reports.RECORD}`" in problem


def test_changed_reports_under_a_new_version_ask_only_to_record():
    recorded = {"version": "0.2.0", "reports": {"a/update": []}}
    problem = pack_reports.verdict(recorded, {"a/update": [["p", "l", "u", "m"]]}, "0.3.0")
    assert (
        problem == f"PulumiPolicy.yaml says 0.3.0: record its reports with `{pack_reports.RECORD}`"
    )


def test_same_reports_recorded_under_another_version_ask_to_record():
    recorded = {"version": "0.2.0", "reports": {"a/update": []}}
    problem = pack_reports.verdict(recorded, {"a/update": []}, "0.2.1")
    assert problem is not None
    assert "record them with" in problem


def test_corpus_covers_our_stacks_and_every_fixture_program_in_both_modes():
    corpus = pack_reports.load(pack_reports.CORPUS_FILE)
    fixtures = {
        d.name
        for d in (PROJECT_ROOT / "tests" / "fixtures").iterdir()
        if (d / "Pulumi.yaml").is_file()
    }
    # Each of these stops in a mode by design (a reproduction of what the preflight reports).
    assert fixtures >= pack_reports.STOPPING
    fixtures -= pack_reports.STOPPING
    programs = {"va-platform/dev", "va-platform/prod", "fixtures/bad_program"} | {
        f"fixtures/{f}" for f in fixtures
    }
    assert set(corpus) == {f"{p}/{m}" for p in programs for m in ("preview", "update")}
