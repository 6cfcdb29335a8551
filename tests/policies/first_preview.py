"""The stack as the engine sends it to the pack on a fresh stack's first preview.

Every computed output of a resource still to be created (``id``, ``arn``, ...) is unknown, and
so is every input derived from one (``bucket = self.bucket.id``); the engine sends them as the
unknown sentinel, inside lists and maps too, and AnalyzeStack carries each resource's
``propertyDependencies`` (property -> the URNs it came from). The program runs under the
preflight's recording mocks in preview mode, with the mocks answering no id and no computed
output, so the SDK itself marks what would be unknown.

Test support until the preflight's own first-preview mode (issue 13 §1) lands; then the tests
can take their subjects from it instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pytest
from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN as ENGINE_UNKNOWN

from preflight import runner
from preflight.analyzer import Subject
from preflight.engine import subjects
from preflight.mocks import RecordingMonitor, VaMocks


class _FreshMocks(VaMocks):
    """A resource to be created: its inputs are known, its id and computed outputs are not."""

    def new_resource(self, args: Any) -> tuple[str | None, dict[str, Any]]:
        _, full = super().new_resource(args)
        self.computed = {k for k in full if k not in args.inputs}
        return None, dict(args.inputs)


class _RecordingDependencies(RecordingMonitor):
    """The preflight's monitor, also keeping each resource's propertyDependencies."""

    def __init__(self, mocks: VaMocks) -> None:
        super().__init__(mocks)
        self.property_dependencies: dict[str, dict[str, tuple[str, ...]]] = {}
        self.computed: dict[str, set[str]] = {}

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        self.property_dependencies[response.urn] = {
            key: tuple(deps.urns) for key, deps in request.propertyDependencies.items()
        }
        self.computed[response.urn] = set(getattr(self.va_mocks, "computed", ()))
        return response


def engine_unknowns(value: Any) -> Any:
    """The SDK's unknown markers as the engine's sentinel, at any depth."""
    if isinstance(value, Unknown):
        return ENGINE_UNKNOWN
    if isinstance(value, Mapping):
        return {k: engine_unknowns(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [engine_unknowns(v) for v in value]
    return value


def first_preview(
    stack: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[Subject], list[Subject]]:
    """(what Analyze sees, what AnalyzeStack sees) on the first preview of a fresh ``stack``."""
    monitors: list[_RecordingDependencies] = []

    def monitor(mocks: VaMocks) -> _RecordingDependencies:
        monitors.append(_RecordingDependencies(mocks))
        return monitors[-1]

    monkeypatch.setattr(runner, "VaMocks", _FreshMocks)
    monkeypatch.setattr(runner, "RecordingMonitor", monitor)
    run = runner.run_program(stack, preview=True)
    assert run.error is None, run.error
    (recorded,) = monitors
    for r in run.resources:
        r.inputs = engine_unknowns(r.inputs)
        r.outputs = {**r.inputs, **dict.fromkeys(recorded.computed.get(r.urn, ()), ENGINE_UNKNOWN)}
    per_resource, stack_view = subjects(run)
    return per_resource, [
        replace(s, property_dependencies=recorded.property_dependencies.get(s.urn, {}))
        for s in stack_view
    ]
