"""The policy preflight of ``make plan``: a program run's resources through the va-guard pack.

What the engine would send the pack during ``pulumi preview --policy-pack policies``, rebuilt
from a mocked run (its mode says which: the first preview of a fresh stack, where computed
outputs are the UNKNOWN sentinel, or an update, where every output is known): Analyze for every
provider and custom resource (type, logical name, engine camelCase inputs, parent, and the
resource's own provider: an explicit one, or the package's default one built from the stack's
config) and AnalyzeStack once (props are the stack's outputs, plus each resource's parent,
dependencies and property dependencies). No Pulumi CLI, no AWS account.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pulumi
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pulumi.runtime.config import is_config_secret

from .analyzer import (
    LEVEL_VALUES,
    Diagnostic,
    PackClient,
    PolicyPackProcess,
    Provider,
    StackIdentity,
    Subject,
)
from .mocks import DEFAULT_ORGANIZATION, PROVIDER_TYPE_PREFIX, UNKNOWN, Mode, Recorded
from .runner import Run

AWS_PROVIDER_TYPE = "pulumi:providers:aws"


@dataclass
class Report:
    """What the pack said about a stack in one mode, and how much of it was unknown."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    checked: int = 0
    mode: Mode = "update"
    # UNKNOWN sentinels sent: in the resources' inputs (Analyze) and in the stack view.
    unknown_inputs: int = 0
    unknown_outputs: int = 0
    # Multi-language components (remote=True) the preflight cannot expand: the engine would
    # send each of their children to the pack; here none exists, so none was checked.
    unexpanded: list[Recorded] = field(default_factory=list)

    @property
    def mandatory(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.level == "mandatory"]

    @property
    def verdict(self) -> str:
        """``fail`` (a mandatory violation), ``incomplete`` (none, but components were not
        expanded, so what they hold was not checked) or ``pass``."""
        if self.mandatory:
            return "fail"
        return "incomplete" if self.unexpanded else "pass"

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
    """A mocked input as the engine serializes it: assets and archives by their signature,
    values not known yet as the UNKNOWN sentinel (never a Python repr)."""
    if isinstance(value, Unknown):
        return UNKNOWN
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


def _default_provider_name(package: str) -> str:
    """``default_7_51_0``: the engine names a package's default provider after its version."""
    try:
        version = metadata.version(f"pulumi_{package}")
    except metadata.PackageNotFoundError:
        return "default"
    return "default_" + version.replace(".", "_").replace("-", "_")


def default_provider(run: Run, package: str = "aws") -> Provider:
    """The default provider the engine would create for a package from the stack's
    ``<package>:`` config (values as the CLI passes config: strings)."""
    prefix = f"{package}:"
    props = {key[len(prefix) :]: v for key, v in run.config.items() if key.startswith(prefix)}
    type_ = f"{PROVIDER_TYPE_PREFIX}{package}"
    name = _default_provider_name(package)
    return Provider(type_, f"urn:pulumi:{run.stack}::{run.project}::{type_}::{name}", name, props)


class _Providers:
    """Each resource's own provider: the explicit one its options name, else the default one
    of its package (created, and analyzed, on first use, as the engine does)."""

    def __init__(self, run: Run) -> None:
        self._run = run
        self.explicit = {
            r.urn: Provider(r.type, r.urn, r.name, engine_value(r.inputs))
            for r in run.resources
            if r.type.startswith(PROVIDER_TYPE_PREFIX)
        }
        self.defaults: dict[str, Provider] = {}

    def of(self, r: Recorded) -> Provider | None:
        if r.type.startswith(PROVIDER_TYPE_PREFIX) or not r.custom:
            return None
        if r.provider:
            urn = r.provider.rsplit("::", 1)[0]  # a reference is "<urn>::<id>"
            if urn in self.explicit:
                return self.explicit[urn]
        package = r.type.split(":", 1)[0]
        if package == "pulumi":
            return None
        if package not in self.defaults:
            self.defaults[package] = default_provider(self._run, package)
        return self.defaults[package]


def _subject(r: Recorded, props: Mapping[str, Any], provider: Provider | None) -> Subject:
    return Subject(
        type=r.type,
        name=r.name,
        urn=r.urn,
        props=engine_value(props),
        parent=r.parent,
        provider=provider,
        dependencies=tuple(r.dependencies),
        property_dependencies={k: tuple(v) for k, v in r.property_dependencies.items()},
        options=r.options,
    )


def subjects(run: Run) -> tuple[list[Subject], list[Subject]]:
    """(what Analyze sees: inputs, what AnalyzeStack sees: outputs), default providers first."""
    providers = _Providers(run)
    custom = [r for r in run.resources if r.custom]
    own = [providers.of(r) for r in custom]
    defaults = [Subject(p.type, p.name, p.urn, p.props) for p in providers.defaults.values()]
    per_resource = defaults + [_subject(r, r.inputs, p) for r, p in zip(custom, own, strict=True)]
    stack = defaults + [
        _subject(r, r.outputs or r.inputs, p) for r, p in zip(custom, own, strict=True)
    ]
    return per_resource, stack


def count_unknowns(value: Any) -> int:
    """How many UNKNOWN sentinels a value holds, at any depth."""
    return sum(1 for leaf in _leaves(value) if leaf == UNKNOWN)


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, Mapping):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


def stack_identity(run: Run, organization: str | None = None) -> StackIdentity:
    """What the engine tells the pack of the stack before any resource (``ConfigureStack``):
    its names, and its config with the secret keys (as the run set them)."""
    return StackIdentity(
        organization=organization or DEFAULT_ORGANIZATION,
        project=run.project,
        stack=run.stack,
        dry_run=run.mode == "preview",
        config=dict(run.config),
        secret_keys=tuple(sorted(k for k in run.config if is_config_secret(k))),
    )


def preflight(
    run: Run,
    pack_config: Mapping[str, Mapping[str, Any]] | None = None,
    pack: PackClient | None = None,
    organization: str | None = None,
) -> Report:
    """The pack's report on a run, as the engine would get it in the run's mode. ``pack``: a
    started pack to reuse (configured here); by default one is started for this call.
    ``organization``: the Pulumi organization the stack belongs to (the pack scopes its
    exemptions by organization, project and stack)."""
    if pack is None:
        with PolicyPackProcess() as started:
            return preflight(run, pack_config, started, organization)
    per_resource, stack = subjects(run)
    report = Report(
        checked=len(per_resource),
        mode=run.mode,
        unknown_inputs=sum(count_unknowns(s.props) for s in per_resource),
        unknown_outputs=sum(count_unknowns(s.props) for s in stack),
        unexpanded=[r for r in run.resources if r.remote],
    )
    pack.configure_stack(stack_identity(run, organization))
    pack.configure(pack_config or {})
    for s in per_resource:
        found = pack.analyze(s)
        # The SDK leaves a resource diagnostic's urn empty; the engine fills in the request's.
        report.diagnostics.extend(
            Diagnostic(d.policy, d.level, d.message, d.urn or s.urn, d.description) for d in found
        )
    report.diagnostics.extend(pack.analyze_stack(stack))
    return report


def report_json(report: Report) -> dict[str, Any]:
    return {
        "resources": report.checked,
        "unknownInputs": report.unknown_inputs,
        "unknownOutputs": report.unknown_outputs,
        "mandatory": len(report.mandatory),
        "advisory": len(report.advisory),
        "unexpanded": [{"type": r.type, "name": r.name, "urn": r.urn} for r in report.unexpanded],
        "diagnostics": [
            {"policy": d.policy, "level": d.level, "urn": d.urn, "message": d.detail}
            for d in report.diagnostics
        ],
    }


class PackConfigError(ValueError):
    """The ``--policy-config`` file cannot be read; the message is one line."""


def load_pack_config(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as exc:
        raise PackConfigError(f"{path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise PackConfigError(
            f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}"
        ) from None
    if not isinstance(data, dict):
        raise PackConfigError(
            f"{path}: expected an object of policies, found {type(data).__name__}"
        )
    return data


JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def _type_ok(value: Any, expected: str | list[str]) -> bool:
    names = [expected] if isinstance(expected, str) else list(expected)
    for name in names:
        kinds = JSON_TYPES.get(name, (object,))
        if isinstance(value, bool) and bool not in kinds:
            continue
        if isinstance(value, kinds) or (
            name == "integer" and isinstance(value, float) and value.is_integer()
        ):
            return True
    return False


def pack_config_problems(
    config: Mapping[str, Any], policies: Mapping[str, Mapping[str, Any]], path: str
) -> list[str]:
    """What the engine would refuse (or silently ignore) in a ``--policy-config`` file, one line
    each: a policy the pack does not have, an enforcement level that does not exist, a setting
    the policy does not take, a value of the wrong type. Checked once, before any resource."""
    problems = []
    names = sorted(policies)
    for policy, values in config.items():
        if policy == "all":
            continue
        if policy not in policies:
            problems.append(
                f"{path}: {policy!r} is not a policy of the pack; it has {', '.join(names)}"
            )
            continue
        if isinstance(values, str):
            values = {"enforcementLevel": values}
        if not isinstance(values, Mapping):
            problems.append(f"{path}: {policy}: expected an object of settings")
            continue
        schema = policies[policy].get("configSchema") or {}
        for key, value in values.items():
            if key == "enforcementLevel":
                if value not in LEVEL_VALUES:
                    problems.append(
                        f"{path}: {policy}.enforcementLevel = {value!r}: one of "
                        f"{', '.join(LEVEL_VALUES)}"
                    )
            elif key not in schema:
                problems.append(
                    f"{path}: {policy}.{key}: not a setting of {policy}; it takes "
                    f"{', '.join(sorted(schema)) or 'none'}"
                )
            elif "type" in schema[key] and not _type_ok(value, schema[key]["type"]):
                problems.append(
                    f"{path}: {policy}.{key} = {value!r}: expected {schema[key]['type']}"
                )
    return problems
