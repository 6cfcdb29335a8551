"""Decoding shared across a request's policies: same answers, one decoding, only on the
reviewed SDK. In process on the SDK's own servicer, then over gRPC against the pack as the
engine starts it, with sharing on and off."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pulumi_policy.policy as sdk
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.va_guard import shared_decoding
from policies.va_guard.framework import Resource
from preflight.analyzer import (
    PolicyPackProcess,
    Provider,
    Subject,
    analyze_request,
    analyze_stack_request,
)
from preflight.engine import subjects
from preflight.runner import run_program
from tests.policies.strategies import resources as generated_resources

PROVIDER = Provider("pulumi:providers:aws", "urn:p", "default", {"region": "eu-central-1"})
OFF = {shared_decoding.SWITCH: "0"}


def queue(name: str, **props: Any) -> Subject:
    return Subject(
        "aws:sqs/queue:Queue",
        name,
        f"urn:pulumi:dev::p::aws:sqs/queue:Queue::{name}",
        {"name": name, **props},
        provider=PROVIDER,
    )


@pytest.fixture
def sdk_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever a test installs into the SDK is put back afterwards."""
    for owner, name in shared_decoding.PATCH_POINTS:
        monkeypatch.setattr(owner, name, getattr(owner, name))
    monkeypatch.delenv(shared_decoding.SWITCH, raising=False)


@pytest.fixture
def sharing(sdk_restored: None) -> None:
    assert shared_decoding.install() is None


class Recorder:
    """Resource and stack policies that keep the props objects the SDK hands them."""

    def __init__(self, policies: int = 2) -> None:
        self.props: list[Any] = []
        self.providers: list[Any] = []
        self.stack_props: list[list[Any]] = []
        self.servicer = sdk._PolicyAnalyzerServicer(
            "recorder",
            "0.0.1",
            [
                *(
                    ResourceValidationPolicy(name=f"r{i}", description="d", validate=self.resource)
                    for i in range(policies)
                ),
                *(
                    StackValidationPolicy(name=f"s{i}", description="d", validate=self.stack)
                    for i in range(policies)
                ),
            ],
            EnforcementLevel.MANDATORY,
        )

    def resource(self, args: ResourceValidationArgs, _report: Any) -> None:
        self.props.append(args.props)
        self.providers.append(args.provider)

    def stack(self, args: StackValidationArgs, _report: Any) -> None:
        self.stack_props.append([r.props for r in args.resources])

    def analyze(self, subject: Subject) -> None:
        self.servicer.Analyze(analyze_request(subject), None)

    def analyze_stack(self, resources: list[Subject]) -> None:
        self.servicer.AnalyzeStack(analyze_stack_request(resources), None)


# --- in process ----------------------------------------------------------------------------


def test_installed_sdk_is_the_reviewed_one() -> None:
    # Fails when pulumi-policy is bumped: re-read the SDK code listed in shared_decoding,
    # then update REVIEWED_VERSION and REVIEWED_DIGEST.
    assert shared_decoding.refusal() is None


@pytest.mark.usefixtures("sharing")
@pytest.mark.parametrize("seen", ["props", "providers"])
def test_policies_of_one_request_get_the_same_decoded_value(seen: str) -> None:
    recorder = Recorder()
    recorder.analyze(queue("va-dev-core-queue"))
    first, second = getattr(recorder, seen)
    assert first is second


@pytest.mark.usefixtures("sdk_restored")
def test_without_sharing_each_policy_decodes_its_own_properties() -> None:
    recorder = Recorder()
    recorder.analyze(queue("va-dev-core-queue"))
    first, second = recorder.props
    assert first is not second


@pytest.mark.usefixtures("sharing")
def test_each_request_decodes_its_own_properties() -> None:
    recorder = Recorder(policies=1)
    recorder.analyze(queue("va-dev-a-queue", delaySeconds=1))
    recorder.analyze(queue("va-dev-b-queue", delaySeconds=2))
    assert [(p["name"], p["delaySeconds"]) for p in recorder.props] == [
        ("va-dev-a-queue", 1),
        ("va-dev-b-queue", 2),
    ]


@pytest.mark.usefixtures("sharing")
def test_stack_policies_share_each_resources_decoding() -> None:
    recorder = Recorder()
    recorder.analyze_stack([queue("va-dev-a-queue"), queue("va-dev-b-queue")])
    first, second = recorder.stack_props
    assert [p["name"] for p in first] == ["va-dev-a-queue", "va-dev-b-queue"]
    assert all(a is b for a, b in zip(first, second, strict=True))


@pytest.mark.usefixtures("sharing")
def test_nothing_is_shared_outside_a_request() -> None:
    Recorder().analyze(queue("va-dev-core-queue"))
    wire = {"name": "va-dev-core-queue"}
    assert sdk.deserialize_properties(wire) is not sdk.deserialize_properties(wire)


@pytest.mark.usefixtures("sdk_restored")
def test_switch_turns_sharing_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(shared_decoding.SWITCH, "0")
    assert shared_decoding.install() == f"{shared_decoding.SWITCH}=0"
    assert not shared_decoding.installed()


@pytest.mark.usefixtures("sdk_restored")
def test_another_sdk_version_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shared_decoding, "VERSION", "1.22.0")
    reason = shared_decoding.install()
    assert "pulumi-policy 1.22.0 is installed" in (reason or "")
    assert not shared_decoding.installed()


@pytest.mark.usefixtures("sdk_restored")
def test_changed_sdk_source_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shared_decoding, "REVIEWED_DIGEST", "0" * 64)
    reason = shared_decoding.install()
    assert "digest mismatch" in (reason or "")
    assert not shared_decoding.installed()


def _args(props: Any, urn: str = "urn:q") -> ResourceValidationArgs:
    return ResourceValidationArgs("aws:sqs/queue:Queue", props, urn, "q", None, None)


def test_families_given_the_same_properties_share_one_resource() -> None:
    props = {"name": "va-dev-core-queue"}
    assert Resource.from_sdk(_args(props)) is Resource.from_sdk(_args(props))


def test_other_properties_of_the_same_resource_get_their_own_resource() -> None:
    first = Resource.from_sdk(_args({"tags": {"Owner": "a"}}))
    second = Resource.from_sdk(_args({"tags": {"Owner": "b"}}))
    assert (first.tags, second.tags) == ({"Owner": "a"}, {"Owner": "b"})


def test_same_properties_of_another_resource_get_their_own_resource() -> None:
    props = {"name": "va-dev-core-queue"}
    first = Resource.from_sdk(_args(props, urn="urn:a"))
    assert Resource.from_sdk(_args(props, urn="urn:b")).urn == "urn:b" != first.urn


# --- over gRPC: the pack with sharing on and off answers the same ----------------------------


@pytest.fixture(scope="module")
def packs() -> Iterator[tuple[PolicyPackProcess, PolicyPackProcess]]:
    with PolicyPackProcess() as on, PolicyPackProcess(env=OFF) as off:
        yield on, off


def test_pack_says_when_it_does_not_share(
    packs: tuple[PolicyPackProcess, PolicyPackProcess],
) -> None:
    on, off = packs
    on.info(), off.info()  # both started and answer
    assert "decoding not shared" not in on.stderr()
    assert f"decoding not shared across policies: {shared_decoding.SWITCH}=0" in off.stderr()


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_sharing_changes_no_diagnostic_of_the_stacks(
    packs: tuple[PolicyPackProcess, PolicyPackProcess], stack: str
) -> None:
    per_resource, stack_view = subjects(run_program(stack))
    answers = [
        ([pack.analyze(r) for r in per_resource], pack.analyze_stack(stack_view)) for pack in packs
    ]
    assert answers[0] == answers[1]


def test_sharing_changes_no_diagnostic_of_generated_resources(
    packs: tuple[PolicyPackProcess, PolicyPackProcess],
) -> None:
    on, off = packs
    compared = []

    @settings(max_examples=50, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
    @given(st.lists(generated_resources, min_size=20, max_size=20))
    def check(batch: list[Subject]) -> None:
        for r in batch:
            assert on.analyze(r) == off.analyze(r)
        assert on.analyze_stack(batch) == off.analyze_stack(batch)
        compared.extend(batch)

    check()
    assert len(compared) >= 1000
