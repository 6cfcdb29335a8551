"""How a rule family becomes a CrossGuard policy: config with defaults, exemptions, notices.

A family's ``check`` is a pure function from one resource (or the stack) and its config to
findings. This module does the rest the same way for every family:

- config: each family declares its settings once (JSON schema + the VA default); the schema goes
  to the engine, the defaults apply when an org enables the pack without config, and an ill-typed
  value falls back to the default with a notice instead of crashing the rule;
- exemptions: granted in the pack's configuration only, scoped to stacks and resources, with
  an owner and an expiry date (``exemptions``); one that applies turns a violation into a
  notice, one that does not (out of scope, expired, malformed) leaves it and says why;
- notices: what a policy could not check (unknown values during preview), warnings (a runtime
  nearing deprecation) and every exemption used must be visible, but only as advisories. A
  policy reports at one enforcement level, so ``va-notices``, the pack's last policy, reports
  them as advisories: handed over by the families on the reviewed SDK, worked out again by
  ``va-notices`` itself otherwise (``sdk_compat``, the one module that relies on the SDK's
  internals, and ``docs/adr/0001-sdk-compat.md``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any, Literal

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from . import exemptions, sdk_compat
from .props import UNKNOWN, get, string_map
from .version import PACK_NAME, judged_by

Kind = Literal["violation", "warning", "unchecked"]

# The resource tag that may name the exemptions granted to a resource (``exemptions``).
EXEMPT_TAG = exemptions.EXEMPT_TAG
MIN_EXEMPTION_REASON_LENGTH = exemptions.MIN_EXEMPTION_REASON_LENGTH

UNKNOWN_HINT = (
    "it is unknown until the resources it depends on exist (preview); the rule runs on it "
    "again during `pulumi up`"
)


def today() -> date:
    """Today's date (UTC or local does not matter at a day's grain); tests fix it."""
    return date.today()


@dataclass(frozen=True)
class Finding:
    message: str
    kind: Kind = "violation"
    # For stack rules: the resource the finding is about ("" = the stack).
    urn: str = ""


def violation(message: str, urn: str = "") -> Finding:
    return Finding(message, "violation", urn)


def warning(message: str, urn: str = "") -> Finding:
    return Finding(message, "warning", urn)


def unchecked(what: str, urn: str = "") -> Finding:
    """``what`` names the check and the property, e.g. "the IAM policy document (policy)"."""
    return Finding(f"could not check {what}: {UNKNOWN_HINT}", "unchecked", urn)


def could_not_check(exc: Exception, rule: str, urn: str = "") -> Finding:
    """A rule that raised on a resource: a violation (the rule cannot vouch for it), with the
    usual exemption path."""
    return violation(
        f"could not be checked ({type(exc).__name__} in {rule}): the rule failed on this "
        "resource's properties, so it cannot vouch for them; report it to the platform team, "
        f"who can grant an exemption from {rule} once someone has checked the resource",
        urn,
    )


def unknown_link(what: str, until: str, urn: str = "") -> Finding:
    """A link between resources the engine gave no way to resolve: "<what> is not known until
    <until> exists"; never a violation, since the rule could not see the value."""
    return Finding(
        f"{what} is not known until {until} exists; the rule runs on it again during `pulumi up`",
        "unchecked",
        urn,
    )


# --- config ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """One config key of a policy: its JSON schema, the VA default and a type check."""

    schema: dict[str, Any]
    default: Any
    valid: Callable[[Any], bool]


def string_list(default: Iterable[str], description: str) -> Setting:
    return Setting(
        {"type": "array", "items": {"type": "string"}, "description": description},
        list(default),
        lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    )


def integer(default: int, description: str, minimum: int = 0) -> Setting:
    return Setting(
        {"type": "integer", "minimum": minimum, "description": description},
        default,
        lambda v: isinstance(v, int | float) and not isinstance(v, bool) and v >= minimum,
    )


def text(default: str, description: str) -> Setting:
    return Setting(
        {"type": "string", "description": description},
        default,
        lambda v: isinstance(v, str) and bool(v),
    )


def pattern(default: str, description: str) -> Setting:
    return Setting({"type": "string", "description": description}, default, _compiles)


def _compiles(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        re.compile(value)
    except re.error:
        return False
    return True


def _valid_exemptions(value: Any) -> bool:
    """A list of objects; each entry is read on its own (``exemptions.grant_of``), so one bad
    entry exempts nothing without dropping the others."""
    return isinstance(value, list) and all(isinstance(e, dict) for e in value)


EXEMPTIONS_SETTING = Setting(
    {
        "type": "array",
        "description": (
            "Exemptions granted by the organisation: each turns this policy's violations of "
            "the resources it names, in the stacks it names, into advisories until it expires. "
            "id: what reports and va:policy-exempt tags call it; stacks: "
            "<organization>/<project>/<stack> (project or stack may be *); namePattern / type: "
            "globs on the logical name / type; byTag: only resources whose va:policy-exempt "
            "tag names the id; owner; reason (at least "
            f"{MIN_EXEMPTION_REASON_LENGTH} characters); expires: the last day, YYYY-MM-DD."
        ),
        "items": {
            "type": "object",
            "properties": {
                "id": {"type": "string", "pattern": exemptions.ID_RE.pattern},
                "stacks": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                "namePattern": {"type": "string"},
                "type": {"type": "string"},
                "byTag": {"type": "boolean"},
                "owner": {"type": "string", "minLength": 1},
                "reason": {"type": "string", "minLength": MIN_EXEMPTION_REASON_LENGTH},
                "expires": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
            },
            "required": ["id", "stacks", "owner", "reason", "expires"],
        },
    },
    [],
    _valid_exemptions,
)


@dataclass(frozen=True)
class Config:
    values: Mapping[str, Any]
    problems: tuple[str, ...] = ()
    # The policy's exemptions, read once per distinct config.
    grants: tuple[exemptions.Grant, ...] = ()

    def __getitem__(self, key: str) -> Any:
        return self.values[key]


def resolve_config(settings: Mapping[str, Setting], given: Mapping[str, Any] | None) -> Config:
    """The VA defaults overlaid with the org's config; bad values fall back, with a notice."""
    values = {key: s.default for key, s in settings.items()}
    problems = []
    for key, value in (given or {}).items():
        setting = settings.get(key)
        if setting is None:
            continue  # the engine validated keys against the schema already
        if setting.valid(value):
            values[key] = value
        else:
            problems.append(
                f"config {key}={value!r} is not a valid {setting.schema['type']}; "
                f"the default {setting.default!r} applies"
            )
    return Config(values, tuple(problems))


_CONFIG_CACHE: dict[tuple[str, str], Config] = {}
_CONFIG_CACHE_SIZE = 256


# --- exemptions ------------------------------------------------------------------------------

# The former tag form ``<policy>[,<policy>]: <reason>`` (va-tagging says it is obsolete).
parse_exempt_tag = exemptions.parse_legacy_tag


def exemption_for(
    policy: str, resource_type: str, name: str, tags: Mapping[str, Any], config: Config
) -> exemptions.Decision | None:
    """What the exemptions granted in ``config`` make of a violation of this resource, in the
    stack the engine named, today."""
    return exemptions.decide(
        policy, resource_type, name, tags, config.grants, sdk_compat.stack_identity(), today()
    )


# --- notices ---------------------------------------------------------------------------------


STACK_SUBJECT = "<stack>"
# Each family's config as the SDK last handed it, by policy name: what va-notices needs to work
# the notices out itself when the hand-over is off (sdk_compat's fallback). The SDK calls only
# enabled policies, so only enabled families are here.
_last_config: dict[str, Mapping[str, Any]] = {}


# --- families --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    """What a rule sees of one resource: engine props (proxied), tags, provider props, and (stack
    rules only) which resources each property's value came from."""

    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    provider: Mapping[str, Any] = field(default_factory=dict)
    provider_type: str = ""
    # The engine's propertyDependencies: property name -> URNs of the stack's resources whose
    # outputs the value was computed from (AnalyzeStack only; what resolves an unknown link).
    dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Where the engine marked the properties secret (paths of keys and indexes); None: as the
    # request being served says (sdk_compat), given only by tests.
    secrets: frozenset[tuple[str | int, ...]] | None = None

    @cached_property
    def secret_paths(self) -> frozenset[tuple[str | int, ...]]:
        """The paths of the properties the engine sent marked secret (values unwrapped in
        ``props``): a secret config value, an ``Output.secret``, a provider's secret output."""
        return self.secrets if self.secrets is not None else sdk_compat.secret_paths(self.urn)

    def secret_at(self, *path: str | int) -> bool:
        """Whether the value at ``path`` is secret: marked itself, or inside a marked value."""
        return any(path[: len(p)] == p for p in self.secret_paths)

    @cached_property
    def tags(self) -> Mapping[str, Any]:
        """The resource's own tags (plain); read only by the rules that need them."""
        tags = get(self.props, "tags")
        return string_map(tags) if tags is not UNKNOWN else {}

    def get(self, *path: str | int) -> Any:
        return get(self.props, *path)

    @classmethod
    def of(
        cls,
        type_: str,
        name: str,
        urn: str,
        props: Any,
        provider: Any = None,
        provider_type: str = "",
        dependencies: Mapping[str, tuple[str, ...]] | None = None,
        secrets: Iterable[tuple[str | int, ...]] | None = None,
    ) -> Resource:
        props = props if isinstance(props, Mapping) else {}
        return cls(
            type=type_ if isinstance(type_, str) else "",
            name=name if isinstance(name, str) else "",
            urn=urn if isinstance(urn, str) else "",
            props=props,
            provider=provider if isinstance(provider, Mapping) else {},
            provider_type=provider_type if isinstance(provider_type, str) else "",
            dependencies=dependencies or {},
            secrets=frozenset(secrets) if secrets is not None else None,
        )

    @classmethod
    def from_sdk(cls, r: ResourceValidationArgs | PolicyResource) -> Resource:
        """From what the SDK hands a resource policy (args) or a stack policy (a resource).

        When the SDK hands the policies of one request the same decoded properties (see
        ``sdk_compat``), they share one Resource too, so its tags are read once.
        """
        provider = r.provider
        props = r.props
        provider_props = provider.props if provider is not None else None
        provider_type = provider.resource_type if provider is not None else ""
        names = (r.resource_type, r.name, r.urn, provider_type)
        deps = getattr(r, "property_dependencies", None)
        dependencies = (
            {k: tuple(d.urn for d in v) for k, v in deps.items() if v}
            if isinstance(deps, Mapping) and deps
            else None
        )
        return sdk_compat.reuse(
            props,
            provider_props,
            names,
            lambda: cls.of(
                r.resource_type, r.name, r.urn, props, provider_props, provider_type, dependencies
            ),
        )


ResourceCheck = Callable[[Resource, Config], Iterable[Finding]]
StackCheck = Callable[[list[Resource], Config], Iterable[Finding]]


@dataclass(frozen=True)
class Family:
    """One rule family: its policy metadata, its settings and its pure check."""

    name: str
    description: str
    remediation: str
    check: ResourceCheck | StackCheck
    settings: Mapping[str, Setting] = field(default_factory=dict)
    level: EnforcementLevel = EnforcementLevel.MANDATORY
    severity: Severity = Severity.HIGH
    stack: bool = False
    # The resource types the family judges (None: any). The SDK calls every policy for every
    # resource; returning before any work keeps the pack near the SDK's own cost.
    applies_to: Callable[[str], bool] | None = None

    @property
    def all_settings(self) -> dict[str, Setting]:
        return {**self.settings, "exemptions": EXEMPTIONS_SETTING}

    def config(self, given: Mapping[str, Any] | None) -> Config:
        """Resolved once per distinct config: the SDK hands every call a fresh copy."""
        key = (self.name, json.dumps(given, sort_keys=True, default=repr) if given else "")
        config = _CONFIG_CACHE.get(key)
        if config is None:
            if len(_CONFIG_CACHE) > _CONFIG_CACHE_SIZE:
                _CONFIG_CACHE.clear()
            resolved = resolve_config(self.all_settings, given)
            grants, problems = exemptions.grants_of(self.name, resolved["exemptions"])
            config = _CONFIG_CACHE[key] = Config(
                resolved.values, resolved.problems + problems, grants
            )
        return config

    def evaluate(self, resource: Resource, config: Config) -> tuple[list[str], list[str]]:
        """(violations to report, notices to hand over) for one resource."""
        violations, notices = self._split(
            self._safe_check(resource, config),
            lambda _urn: exemption_for(
                self.name, resource.type, resource.name, resource.tags, config
            ),
        )
        return violations, [*config.problems, *notices]

    def evaluate_stack(
        self, resources: list[Resource], config: Config
    ) -> tuple[list[tuple[str, str]], list[str]]:
        """([(urn, violation)], notices) for the whole stack; exemptions by the resource's tags."""
        by_urn = {r.urn: r for r in resources}

        def exemption(urn: str) -> exemptions.Decision | None:
            r = by_urn.get(urn)
            return exemption_for(self.name, r.type, r.name, r.tags, config) if r else None

        violations: list[tuple[str, str]] = []
        notices: list[str] = list(config.problems)
        for f in self._safe_check(resources, config):
            v, n = self._split([f], exemption)
            violations.extend((f.urn, msg) for msg in v)
            notices.extend(f"{f.urn}: {msg}" if f.urn else msg for msg in n)
        return violations, notices

    def _safe_check(self, subject: Any, config: Config) -> list[Finding]:
        """The check's findings; if it raises, what it found so far and a violation at the
        policy's level: a rule that could not check a resource fails closed."""
        findings: list[Finding] = []
        try:
            findings.extend(self.check(subject, config))
        except Exception as exc:  # noqa: BLE001 - a rule bug must be visible, never a crash
            findings.append(could_not_check(exc, self.name))
        return findings

    @staticmethod
    def _split(
        findings: list[Finding], exemption: Callable[[str], exemptions.Decision | None]
    ) -> tuple[list[str], list[str]]:
        """Violations stay violations unless an exemption applies; the rest become notices."""
        violations: list[str] = []
        notices: list[str] = []
        for f in findings:
            if f.kind != "violation":
                notices.append(f"{f.kind}: {f.message}")
                continue
            decision = exemption(f.urn)
            if decision is None:
                violations.append(f.message)
            elif decision.applied:
                notices.append(f"exemption used ({decision.note}): {f.message}")
            else:
                violations.append(f"{f.message}; {decision.note}")
        return violations, notices

    # The SDK's ``validate(args, report_violation)`` entry point, per family.
    def validate(self, args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        _last_config[self.name] = args.get_config()
        if not self.applies(args.resource_type):
            return
        resource = Resource.from_sdk(args)
        violations, notices = self.evaluate(resource, self.config(args.get_config()))
        for message in violations:
            report_violation(message, None)
        if sdk_compat.installed():
            sdk_compat.hand_over(resource.urn, self.name, notices)

    def validate_stack(self, args: StackValidationArgs, report_violation: ReportViolation) -> None:
        _last_config[self.name] = args.get_config()
        resources = [Resource.from_sdk(r) for r in args.resources]
        violations, notices = self.evaluate_stack(resources, self.config(args.get_config()))
        for urn, message in violations:
            report_violation(message, urn or None)
        if sdk_compat.installed():
            sdk_compat.hand_over(STACK_SUBJECT, self.name, notices)

    def applies(self, resource_type: str) -> bool:
        return self.applies_to is None or self.applies_to(resource_type)

    def schema(self) -> PolicyConfigSchema:
        return PolicyConfigSchema({key: s.schema for key, s in self.all_settings.items()})

    def policy(self) -> ResourceValidationPolicy | StackValidationPolicy:
        common: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "enforcement_level": self.level,
            "config_schema": self.schema(),
            "severity": self.severity,
            "remediation_steps": self.remediation,
        }
        if self.stack:
            return StackValidationPolicy(validate=self.validate_stack, **common)
        return ResourceValidationPolicy(validate=self.validate, **common)


def resource_notices(
    families: Iterable[Family], args: ResourceValidationArgs
) -> list[tuple[str, str]]:
    """(policy, notice) of every enabled resource family for one resource: handed over by the
    families themselves, or, when the hand-over is off, worked out again here."""
    if sdk_compat.installed():
        return sdk_compat.take_notices(args.urn)
    resource = Resource.from_sdk(args)
    return [
        (f.name, notice)
        for f in families
        if not f.stack and f.name in _last_config and f.applies(resource.type)
        for notice in f.evaluate(resource, f.config(_last_config[f.name]))[1]
    ]


def stack_notices(families: Iterable[Family], args: StackValidationArgs) -> list[tuple[str, str]]:
    """The same for the stack families."""
    if sdk_compat.installed():
        return sdk_compat.take_notices(STACK_SUBJECT)
    resources = [Resource.from_sdk(r) for r in args.resources]
    return [
        (f.name, notice)
        for f in families
        if f.stack and f.name in _last_config
        for notice in f.evaluate_stack(resources, f.config(_last_config[f.name]))[1]
    ]


def notices_policies(
    families: Iterable[Family],
) -> list[ResourceValidationPolicy | StackValidationPolicy]:
    """The advisory policies that report the other policies' notices; they run last."""
    families = tuple(families)

    def report(notices: list[tuple[str, str]], report_violation: ReportViolation) -> None:
        for policy, message in notices:
            report_violation(f"[{policy}] {message}", None)

    common: dict[str, Any] = {
        "enforcement_level": EnforcementLevel.ADVISORY,
        "severity": Severity.LOW,
        "remediation_steps": (
            "Nothing to fix here; read each notice: an exemption should still be justified, "
            "an unchecked value is checked at `pulumi up`, a warning becomes a violation later."
        ),
    }
    return [
        ResourceValidationPolicy(
            name="va-notices",
            description=(
                "What the va-guard policies could not check, the exemptions they applied and "
                "their early warnings, reported so that nothing is hidden."
            ),
            validate=lambda args, rv: report(resource_notices(families, args), rv),
            **common,
        ),
        StackValidationPolicy(
            name="va-stack-notices",
            description=(
                "Which version of the pack judged the stack, then the same notices for the "
                "stack-wide rules."
            ),
            validate=lambda args, rv: report(
                [
                    (PACK_NAME, judged_by(sdk_compat.stack_identity())),
                    *stack_notices(families, args),
                ],
                rv,
            ),
            **common,
        ),
    ]
