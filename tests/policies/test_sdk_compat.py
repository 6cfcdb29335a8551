"""The workarounds that rely on pulumi-policy's internals: only on the reviewed SDK, one
decoding per request, and the same answers when the guard refuses (the fallback). In process on
the SDK's own servicer, then over gRPC against the pack as the engine starts it, guard on and
refusing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pulumi_policy.policy as sdk
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pulumi.runtime.rpc import UNKNOWN
from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.va_guard import sdk_compat
from policies.va_guard.framework import Resource
from policies.va_guard.pack import build_policies
from tests.policies.strategies import resources as generated_resources
from va_platform.preflight.analyzer import (
    PolicyPackProcess,
    Provider,
    Subject,
    analyze_request,
    analyze_stack_request,
)
from va_platform.preflight.engine import subjects
from va_platform.preflight.runner import run_program

PROVIDER = Provider("pulumi:providers:aws", "urn:p", "default", {"region": "eu-central-1"})
OFF = {sdk_compat.SWITCH: "0"}


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
    for owner, name in sdk_compat.PATCH_POINTS:
        monkeypatch.setattr(owner, name, getattr(owner, name))
    monkeypatch.delenv(sdk_compat.SWITCH, raising=False)


@pytest.fixture
def sharing(sdk_restored: None) -> None:
    assert sdk_compat.install() is None


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
    # Fails when pulumi-policy is bumped: re-read the SDK code listed in sdk_compat,
    # then update REVIEWED_VERSION and REVIEWED_DIGEST.
    assert sdk_compat.refusal() is None


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
def test_switch_turns_the_workarounds_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(sdk_compat.SWITCH, "0")
    assert sdk_compat.install() == f"{sdk_compat.SWITCH}=0"
    assert not sdk_compat.installed()
    assert sdk_compat.proxy_types() == ((), ())


@pytest.mark.usefixtures("sdk_restored")
def test_another_sdk_version_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sdk_compat, "VERSION", "1.22.0")
    reason = sdk_compat.install()
    assert "pulumi-policy 1.22.0 is installed" in (reason or "")
    assert not sdk_compat.installed()


@pytest.mark.usefixtures("sdk_restored")
def test_changed_sdk_source_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sdk_compat, "REVIEWED_DIGEST", "0" * 64)
    reason = sdk_compat.install()
    assert "digest mismatch" in (reason or "")
    assert not sdk_compat.installed()


def _args(props: Any, urn: str = "urn:q") -> ResourceValidationArgs:
    return ResourceValidationArgs("aws:sqs/queue:Queue", props, urn, "q", None, None)


@pytest.mark.usefixtures("sharing")
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


# --- the fallback: the notices reach va-notices without the hand-over -----------------------

FN = "aws:lambda/function:Function"


def _sdk_args(type_: str, props: dict[str, Any]) -> ResourceValidationArgs:
    """Arguments as the SDK builds them: decoded properties behind the unknown proxy."""
    proxied = sdk.unknown_checking_proxy(sdk.deserialize_properties(props))
    return ResourceValidationArgs(
        type_, proxied, f"urn:pulumi:dev::p::{type_}::fn", "fn", None, None
    )


@pytest.mark.usefixtures("sdk_restored")
def test_notices_reach_va_notices_without_the_hand_over_even_from_another_thread() -> None:
    """With the guard refusing, nothing may rely on the SDK running a request's policies on
    one thread: a family run on another thread still has its notices reported."""
    import threading

    policies = {p.name: p for p in build_policies()}
    args = _sdk_args(FN, {"runtime": "python3.13", "environment": {"variables": {"A": UNKNOWN}}})
    family = threading.Thread(target=policies["va-lambda"].validate, args=(args, _ignore))
    family.start()
    family.join()
    reported: list[str] = []
    policies["va-notices"].validate(args, lambda message, urn=None: reported.append(message))
    assert [m for m in reported if "could not check environment variables A" in m] != []


def _ignore(message: str, urn: str | None = None) -> None:
    pass


# --- over gRPC: the pack with the guard on and refusing answers the same ---------------------


@pytest.fixture(scope="module")
def packs() -> Iterator[tuple[PolicyPackProcess, PolicyPackProcess]]:
    with PolicyPackProcess() as on, PolicyPackProcess(env=OFF) as off:
        yield on, off


def test_pack_says_when_the_guard_refuses(
    packs: tuple[PolicyPackProcess, PolicyPackProcess],
) -> None:
    on, off = packs
    on.info(), off.info()  # both started and answer
    assert "workarounds off" not in on.stderr()
    assert f"va-guard: SDK workarounds off ({sdk_compat.SWITCH}=0)" in off.stderr()


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_guard_refusing_changes_no_diagnostic_of_the_stacks(
    packs: tuple[PolicyPackProcess, PolicyPackProcess], stack: str
) -> None:
    per_resource, stack_view = subjects(run_program(stack))
    answers = [
        ([pack.analyze(r) for r in per_resource], pack.analyze_stack(stack_view)) for pack in packs
    ]
    assert answers[0] == answers[1]


def test_guard_refusing_changes_no_diagnostic_of_generated_resources(
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
