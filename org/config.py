"""What org/ is told (its stack config) and what it reads from the repository, checked first.

A wrong repository would hand this organization's tokens to someone else's workflows, a wrong
rollout would enforce a version of va-guard nobody has seen run, a malformed exemption would
exempt nothing (or too much): so every value is checked before any resource is declared, and a
bad one ends the run with one line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# What makes an exemption valid is the pack's own reading of it (stdlib only, no SDK): org/
# refuses what the pack would refuse, before it reaches a policy group.
from policies.va_guard.exemptions import ID_RE, POLICY_NAMES, grant_of

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
# The organisation's register of exemptions from va-guard's policies (reviewed like code).
EXEMPTIONS_FILE = Path(__file__).resolve().parent / "exemptions.yaml"
ROLLOUT_KEY = "va-org:vaGuard"
# The first va-guard version that scopes exemptions to stacks and lets them expire: an older
# one would apply an exemption in every stack of the organisation, forever.
SCOPED_EXEMPTIONS_SINCE = (0, 2, 0)
SEMVER_RE = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
# GitHub's rules: an owner of 1-39 letters, digits or hyphens; a repository name of letters,
# digits, '.', '_' and '-'.
REPOSITORY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$")
ORGANIZATION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class OrgConfigError(ValueError):
    """A config value org/ cannot work with; the message is the whole report."""


@dataclass(frozen=True)
class OrgConfig:
    organization: str  # the Pulumi organization (the one this stack lives in)
    repository: str  # owner/repo on GitHub

    def __post_init__(self) -> None:
        if not REPOSITORY_RE.match(self.repository):
            raise OrgConfigError(
                f"va-org:githubRepository = {self.repository!r}: expected <owner>/<repo> as on "
                "GitHub, e.g. virtualagentics/va-platform "
                "(pulumi config set githubRepository <owner>/<repo>)"
            )
        if not ORGANIZATION_RE.match(self.organization):
            raise OrgConfigError(
                f"Pulumi organization {self.organization!r}: run org/ in a stack of the "
                "organization it manages (pulumi stack init <org>/org)"
            )


# --- the rollout of va-guard versions -------------------------------------------------------


def semver(version: str) -> tuple[int, int, int]:
    major, minor, patch = (int(p) for p in version.split("."))
    return major, minor, patch


@dataclass(frozen=True)
class Rollout:
    """Which va-guard version runs where (``va-org:vaGuard``).

    ``preventative``: the version every stack must pass (mandatory violations block), in the
    organisation's default preventative policy group, which Pulumi Cloud adds every new stack
    to. ``audit``: the next version, run in the default audit policy group: it reports on every
    stack and blocks nothing. A version becomes preventative only once it has run as audit and
    its findings were reviewed (``audited``): a team never meets a new rule for the first time
    as a blocked ``pulumi up``.
    """

    preventative_group: str
    audit_group: str
    preventative: str
    audit: str | None = None
    audited: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        problem = self._problem()
        if problem:
            raise OrgConfigError(f"{ROLLOUT_KEY}: {problem}")

    def _problem(self) -> str | None:
        if not self.preventative:
            return "no preventative version (the va-guard version every stack must pass)"
        if not self.preventative_group or not self.audit_group:
            return (
                "name the organisation's default policy groups (preventativeGroup, auditGroup; "
                "`pulumi policy group ls` shows them)"
            )
        for what, version in (
            ("preventative", self.preventative),
            ("audit", self.audit),
            *(("audited", v) for v in self.audited),
        ):
            if version is not None and not SEMVER_RE.match(version):
                return f"{what} {version!r} is not a version (x.y.z)"
        if self.preventative not in self.audited:
            return (
                f"preventative {self.preventative} has not run as audit on every stack: set "
                f"audit: {self.preventative} first, and add it to audited once its findings "
                "are reviewed"
            )
        if self.audit is not None and semver(self.audit) <= semver(self.preventative):
            return f"audit {self.audit} must be newer than preventative {self.preventative}"
        return None

    @classmethod
    def of(cls, value: Any) -> Rollout:
        """From the stack config's object; anything but an object is a one-line error."""
        if not isinstance(value, Mapping):
            raise OrgConfigError(
                f"{ROLLOUT_KEY}: expected an object (preventativeGroup, auditGroup, "
                "preventative, audit, audited), found "
                f"{type(value).__name__}"
            )
        audited = value.get("audited") or []
        return cls(
            preventative_group=str(value.get("preventativeGroup") or ""),
            audit_group=str(value.get("auditGroup") or ""),
            preventative=str(value.get("preventative") or ""),
            audit=str(value["audit"]) if value.get("audit") else None,
            audited=tuple(str(v) for v in audited) if isinstance(audited, list) else (),
        )


# --- the exemptions the organisation grants -------------------------------------------------


def load_exemptions(path: Path | None = None) -> tuple[dict[str, Any], ...]:
    """The register (``exemptions: [...]``), each entry checked as the pack reads it, plus the
    policies it names; a bad entry is a one-line error naming it."""
    path = path or EXEMPTIONS_FILE
    data = (yaml.safe_load(path.read_text()) or {}) if path.is_file() else {}
    entries = (data.get("exemptions") or []) if isinstance(data, Mapping) else None
    if not isinstance(entries, list):
        raise OrgConfigError(f"{path}: expected `exemptions:` and a list of exemptions")
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        label = entry.get("id") if isinstance(entry, Mapping) else None
        label = label if isinstance(label, str) and ID_RE.match(label) else f"exemptions[{i}]"
        problem = _exemption_problem(entry)
        if problem is None and label in seen:
            problem = f"{label} is granted twice; one id, one exemption"
        if problem is not None:
            raise OrgConfigError(f"{path}: {label}: {problem}")
        seen.add(label)
    return tuple(dict(e) for e in entries)


def _exemption_problem(entry: Any) -> str | None:
    if not isinstance(entry, Mapping):
        return "not an object"
    policies = entry.get("policies")
    if not isinstance(policies, list) or not policies:
        return "no policies (the va-guard policies it exempts from)"
    for policy in policies:
        if policy not in POLICY_NAMES:
            return f"policy {policy!r} is not one of the pack's: {', '.join(POLICY_NAMES)}"
    problems = grant_of("", {k: v for k, v in entry.items() if k != "policies"}).problems
    return "; ".join(problems) if problems else None


def pack_config(
    exemptions: Iterable[Mapping[str, Any]], version: str
) -> dict[str, dict[str, Any]] | None:
    """The policy group's config for va-guard ``version``: each policy's granted exemptions.
    None for a version that does not scope exemptions, or when nothing is granted."""
    if semver(version) < SCOPED_EXEMPTIONS_SINCE:
        return None
    config: dict[str, dict[str, Any]] = {}
    for policy in POLICY_NAMES:
        granted = [
            {k: v for k, v in e.items() if k != "policies"}
            for e in exemptions
            if policy in e["policies"]
        ]
        if granted:
            config[policy] = {"exemptions": granted}
    return config or None
