"""The pack on a fresh stack's first preview, as the engine sends it: computed outputs and what
is derived from them unknown, links between resources given by ``propertyDependencies``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from tests.support import every_trigger_config
from va_platform.preflight.analyzer import PolicyPackProcess, Subject
from va_platform.preflight.engine import subjects
from va_platform.preflight.runner import run_program, stack_config


def first_preview(stack: str, **functions_egress: list) -> tuple[list[Subject], list[Subject]]:
    """What the engine sends on a fresh stack's first preview (the preflight's preview mode);
    ``<purpose>=[...]`` gives that function of the stack file ``egress`` entries."""
    config = stack_config(stack)
    key = "va-platform:functions"
    config[key] = [
        {**fn, "egress": functions_egress[fn["purpose"]]} if fn["purpose"] in functions_egress
        else fn
        for fn in config[key]
    ]  # fmt: skip
    run = run_program(stack, config=config, mode="preview")
    assert run.error is None, run.error
    return subjects(run)


@pytest.fixture(scope="module")
def pack() -> Iterator[PolicyPackProcess]:
    with PolicyPackProcess() as process:
        yield process


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_first_preview_of_our_stacks_has_no_mandatory_violation(pack, stack):
    per_resource, stack_view = first_preview(stack)
    diagnostics = [d for s in per_resource for d in pack.analyze(s)]
    diagnostics += pack.analyze_stack(stack_view)
    assert [d.detail for d in diagnostics if d.level == "mandatory"] == []


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_a_stack_with_every_trigger_kind_has_no_mandatory_violation(pack, mode):
    """Our own trigger resources (bucket notifications, HTTP APIs, their permissions) pass the
    pack on a first preview and on an update."""
    run = run_program("dev", config=every_trigger_config(), mode=mode)
    assert run.error is None, run.error
    per_resource, stack_view = subjects(run)
    diagnostics = [d for s in per_resource for d in pack.analyze(s)]
    diagnostics += pack.analyze_stack(stack_view)
    assert [d.detail for d in diagnostics if d.level == "mandatory"] == []
    assert not [d for d in diagnostics if "has no authorizer" in d.detail]


def test_first_preview_without_property_dependencies_reports_the_buckets_as_unchecked(pack):
    _, stack_view = first_preview("dev")
    blind = [replace(s, property_dependencies={}) for s in stack_view]
    diagnostics = pack.analyze_stack(blind)
    assert [d.detail for d in diagnostics if d.level == "mandatory"] == []
    assert any(
        "unchecked: whether bucket 'va-dev-content-bucket' has a public access block is not "
        "known until the resource that public access block" in d.detail
        for d in diagnostics
    )


def test_first_preview_of_a_stack_whose_function_has_egress_has_no_mandatory_violation(pack):
    egress = [
        {"securityGroupId": "sg-0123456789abcdef0", "port": 5432, "description": "orders db"},
        {"prefixListId": "pl-6ea54007", "port": 6379, "description": "session cache"},
    ]
    per_resource, stack_view = first_preview("dev", contentgen=egress)
    own = [s for s in per_resource if s.props.get("name") == "va-dev-contentgen-lambda-sg"]
    assert len(own) == 1
    diagnostics = [d for s in per_resource for d in pack.analyze(s)]
    diagnostics += pack.analyze_stack(stack_view)
    assert [d.detail for d in diagnostics if d.level == "mandatory"] == []
