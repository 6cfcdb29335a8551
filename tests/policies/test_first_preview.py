"""The pack on a fresh stack's first preview, as the engine sends it: computed outputs and what
is derived from them unknown, links between resources given by ``propertyDependencies``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from preflight.analyzer import PolicyPackProcess
from tests.policies.first_preview import first_preview


@pytest.fixture(scope="module")
def pack() -> Iterator[PolicyPackProcess]:
    with PolicyPackProcess() as process:
        yield process


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_first_preview_of_our_stacks_has_no_mandatory_violation(pack, stack, monkeypatch):
    per_resource, stack_view = first_preview(stack, monkeypatch)
    diagnostics = [d for s in per_resource for d in pack.analyze(s)]
    diagnostics += pack.analyze_stack(stack_view)
    assert [d.detail for d in diagnostics if d.level == "mandatory"] == []


def test_first_preview_without_property_dependencies_reports_the_buckets_as_unchecked(
    pack, monkeypatch
):
    _, stack_view = first_preview("dev", monkeypatch)
    blind = [replace(s, property_dependencies={}) for s in stack_view]
    diagnostics = pack.analyze_stack(blind)
    assert [d.detail for d in diagnostics if d.level == "mandatory"] == []
    assert any(
        "unchecked: whether bucket 'va-dev-content-bucket' has a public access block is not "
        "known until the resource that public access block" in d.detail
        for d in diagnostics
    )
