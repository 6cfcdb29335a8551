"""Issue 21 §5: real programs nobody here wrote (tests/preflight/corpus), each through the
preflight in both modes, judged as recorded in expected.json: no crash, no hang, every program
runs or says in one line what it could not emulate, and no finding appears or disappears
without a reviewer re-recording it (docs/development.md, "The corpus of real programs")."""

from __future__ import annotations

import os
import re

import pytest

from tests.preflight.corpus import corpus
from tests.preflight.corpus.corpus import Outcome

ENTRIES = corpus.manifest()
SLUGS = [e.slug for e in ENTRIES]
# Set in an environment that must run the corpus: missing mirrors fail instead of skipping.
REQUIRED = os.environ.get("VA_CORPUS_REQUIRED") == "1"


@pytest.fixture(scope="module")
def outcomes() -> dict[str, Outcome]:
    """Every program run once, two at a time (one process per program, both modes in it)."""
    missing = corpus.missing_mirrors(ENTRIES)
    if missing:
        message = (
            f"no mirror of {', '.join(missing)} under {corpus.MIRRORS} (VA_CORPUS_MIRRORS): "
            "the programs are read from local mirrors of their repositories, never copied here"
        )
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    if not corpus.SITE.is_dir():
        pytest.fail(f"{corpus.SITE} is missing: `make corpus-site` installs the programs' SDKs")
    return {o.slug: o for o in corpus.run_all(ENTRIES)}


# --- the manifest ---------------------------------------------------------------------------------


def test_corpus_has_at_least_thirty_programs_from_outside_pulumi_examples_and_templates():
    assert len(set(SLUGS)) == len(SLUGS) >= 30
    assert not {e.repo for e in ENTRIES} & {"pulumi/examples", "pulumi/templates"}


@pytest.mark.parametrize("entry", ENTRIES, ids=SLUGS)
def test_corpus_program_is_pinned_by_commit_and_tree_with_its_licence(entry):
    assert re.fullmatch(r"[0-9a-f]{40}", entry.commit)
    assert re.fullmatch(r"[0-9a-f]{40}", entry.tree)
    assert entry.licence


def test_every_corpus_program_has_a_recorded_expectation():
    assert sorted(corpus.expected()) == sorted(SLUGS)


# --- what a run is compared with --------------------------------------------------------------

FINDING = ["mandatory", "va-network", "aws:ec2/securityGroup:SecurityGroup::web", "port 80 open"]
RECORDED = {
    mode: {"verdict": "fail", "resources": 1, "unexpanded": [], "diagnostics": [FINDING]}
    for mode in corpus.MODES
}


def _run(diagnostics: list[list[str]]) -> Outcome:
    modes = {mode: {**RECORDED[mode], "diagnostics": diagnostics} for mode in corpus.MODES}
    return Outcome("p", 1.0, modes=modes)


def test_a_run_judged_as_recorded_has_no_difference():
    assert corpus.differences(_run([FINDING]), RECORDED) == []


def test_a_new_finding_is_a_difference():
    extra = ["mandatory", "va-iam", "aws:iam/role:Role::r", "new"]
    assert f"p preview new: {extra}" in corpus.differences(_run([FINDING, extra]), RECORDED)


def test_a_lost_finding_is_a_difference():
    assert f"p update lost: {FINDING}" in corpus.differences(_run([]), RECORDED)


def test_a_hang_is_a_difference():
    hang = Outcome("p", 150.0, hang=True)
    assert corpus.differences(hang, RECORDED) == [
        f"p: did not finish within {corpus.TIMEOUT_S:g} s"
    ]


def test_a_crash_is_a_difference():
    crash = Outcome("p", 1.0, crash="exit 1: Traceback ...")
    assert corpus.differences(crash, RECORDED) == ["p: crashed: exit 1: Traceback ..."]


# --- the programs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", SLUGS)
def test_corpus_program_neither_crashes_nor_hangs(outcomes, slug):
    outcome = outcomes[slug]
    assert not outcome.hang, f"{slug} did not finish within {corpus.TIMEOUT_S:g} s"
    assert outcome.crash is None, outcome.crash


@pytest.mark.parametrize("slug", SLUGS)
def test_corpus_program_runs_or_says_in_one_line_what_it_could_not_emulate(outcomes, slug):
    modes = outcomes[slug].modes or {}
    for mode in corpus.MODES:
        error = modes.get(mode, {}).get("error")
        assert error is None or ("\n" not in error and error.startswith("the program stopped: "))


@pytest.mark.parametrize("slug", SLUGS)
def test_corpus_program_is_judged_as_recorded(outcomes, slug):
    assert corpus.differences(outcomes[slug], corpus.expected().get(slug)) == []
