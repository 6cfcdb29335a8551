"""The policy preflight of ``make plan``: a program run's resources through the va-guard pack.

What the engine would send the pack during ``pulumi preview --policy-pack policies``, rebuilt
from a mocked run: Analyze for the default AWS provider and every custom resource (type, logical
name, engine camelCase inputs, parent, provider) and AnalyzeStack once (props are the stack's
outputs: inputs plus the ids and ARNs the mocks answered). No Pulumi CLI, no AWS account.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import rpc

from preflight.analyzer import (
    Diagnostic,
    PolicyPackProcess,
    Provider,
    Subject,
)
from preflight.mocks import Recorded
from preflight.runner import Run, project_name

AWS_PROVIDER_TYPE = "pulumi:providers:aws"
AWS_PROVIDER_NAME = "default"


@dataclass
class Report:
    """What the pack said about a stack."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    checked: int = 0

    @property
    def mandatory(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.level == "mandatory"]

    @property
    def advisory(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.level == "advisory"]

    def by_policy(self, level: str) -> dict[str, list[Diagnostic]]:
        grouped: dict[str, list[Diagnostic]] = {}
        for d in self.diagnostics:
            if d.level == level:
                grouped.setdefault(d.policy, []).append(d)
        return grouped


def engine_value(value: Any) -> Any:
    """A mocked input as the engine serializes it: assets and archives by their signature."""
    if isinstance(value, Mapping):
        return {str(k): engine_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [engine_value(v) for v in value]
    if isinstance(value, pulumi.Archive | pulumi.Asset):
        sig = (
            rpc._special_archive_sig
            if isinstance(value, pulumi.Archive)
            else rpc._special_asset_sig
        )
        path = getattr(value, "path", None) or getattr(value, "uri", None) or ""
        return {rpc._special_sig_key: sig, "path": str(path)}
    if value is None or isinstance(value, str | bool | int | float):
        return value
    return str(value)


def default_provider(run: Run) -> Provider:
    """The default AWS provider the engine would create from the stack's ``aws:`` config."""
    props = {key[len("aws:") :]: v for key, v in run.config.items() if key.startswith("aws:")}
    urn = f"urn:pulumi:{run.stack}::{project_name()}::{AWS_PROVIDER_TYPE}::{AWS_PROVIDER_NAME}"
    return Provider(AWS_PROVIDER_TYPE, urn, AWS_PROVIDER_NAME, props)


def _subject(r: Recorded, props: Mapping[str, Any], provider: Provider) -> Subject:
    return Subject(
        type=r.type,
        name=r.name,
        urn=r.urn,
        props=engine_value(props),
        parent=r.parent,
        provider=provider if r.type.startswith("aws:") else None,
        dependencies=tuple(r.dependencies),
    )


def subjects(run: Run) -> tuple[list[Subject], list[Subject]]:
    """(what Analyze sees: inputs, what AnalyzeStack sees: outputs), provider first."""
    provider = default_provider(run)
    provider_subject = Subject(provider.type, provider.name, provider.urn, provider.props)
    custom = [r for r in run.resources if r.custom]
    per_resource = [provider_subject] + [_subject(r, r.inputs, provider) for r in custom]
    stack = [provider_subject] + [_subject(r, r.outputs or r.inputs, provider) for r in custom]
    return per_resource, stack


def preflight(run: Run, pack_config: Mapping[str, Mapping[str, Any]] | None = None) -> Report:
    per_resource, stack = subjects(run)
    report = Report(checked=len(per_resource))
    with PolicyPackProcess() as pack:
        pack.configure(pack_config or {})
        for s in per_resource:
            found = pack.analyze(s)
            # The SDK leaves a resource diagnostic's urn empty; the engine fills in the request's.
            report.diagnostics.extend(
                Diagnostic(d.policy, d.level, d.message, d.urn or s.urn, d.description)
                for d in found
            )
        report.diagnostics.extend(pack.analyze_stack(stack))
    return report


def report_json(report: Report) -> list[dict[str, str]]:
    return [
        {"policy": d.policy, "level": d.level, "urn": d.urn, "message": d.detail}
        for d in report.diagnostics
    ]


def load_pack_config(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    with open(path, encoding="utf-8") as f:
        return dict(json.load(f))
