"""Exemptions: granted by the organisation, scoped to stacks and resources, with an owner and an
expiry date.

A mandatory violation blocks a team's ``pulumi up``; whoever may turn it into an advisory holds
the standard's keys. So only the pack's configuration grants an exemption: in Pulumi Cloud that
is the policy group's configuration, which only the organisation's admins write (``org/`` in
the VA platform repository). A team's own code cannot: the resource tag ``va:policy-exempt``
no longer exempts by itself, it may only name the exemptions granted to the resource (an
exemption with ``byTag`` applies to the tagged resources of its stacks only).

Each exemption, in a policy's ``exemptions`` list, names:

- ``id``: what reports and tags call it (``EX-12``);
- ``stacks``: where it applies, ``<organization>/<project>/<stack>`` as the engine names the
  analysed stack (``ConfigureStack``); project or stack may be ``*``, the organisation may not.
  One stack's exemption never applies to another's resources of the same name;
- the resources: ``namePattern`` (a glob on the logical name), ``type`` (a glob on the type),
  ``byTag`` (only resources whose ``va:policy-exempt`` tag names the id); at least one;
- ``owner``, ``reason`` (10+ characters) and ``expires`` (``YYYY-MM-DD``, the last day it
  applies). From the next day the violation is mandatory again and says the exemption expired,
  and when.

An exemption that cannot apply (malformed, out of scope, expired, or the stack unnamed because
the engine never said) exempts nothing, and the violation says why. Every exemption used is
reported (``va-notices``), with its id, stack, owner, expiry and reason.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

# The va-guard policies an exemption may name, by name (a test ties the list to the pack;
# org/ checks its register against it).
POLICY_NAMES: tuple[str, ...] = (
    "va-naming",
    "va-tagging",
    "va-region",
    "va-lambda",
    "va-runtime-patch",
    "va-network",
    "va-iam",
    "va-data",
    "va-secrets",
    "va-compute",
    "va-stack",
)

EXEMPT_TAG = "va:policy-exempt"
MIN_EXEMPTION_REASON_LENGTH = 10
SINCE = "0.2.0"  # the pack version from which a tag alone exempts nothing
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_STACK_PART_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
STACK_FORM = "<organization>/<project>/<stack>"
# The tag's former form, ``<policy>[,<policy>]: <reason>``: recognised to say it is obsolete.
_LEGACY_TAG_RE = re.compile(r"^\s*(?P<policies>[\w\-]+(?:\s*[,+ ]\s*[\w\-]+)*)\s*:(?P<reason>.*)$")
_TAG_SEPARATORS = re.compile(r"[,+\s]+")


@dataclass(frozen=True)
class Grant:
    """One configured exemption of one policy; ``problems`` say why it can never apply."""

    id: str
    policy: str
    stacks: tuple[str, ...]
    name_pattern: str | None
    type_pattern: str | None
    by_tag: bool
    owner: str
    reason: str
    expires: date | None
    problems: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.id or "(no id)"

    def selects(self, resource_type: str, name: str, tag_ids: Sequence[str]) -> bool:
        """Whether it is about this resource (whether it may apply is ``refusal``'s)."""
        if self.by_tag and self.id not in tag_ids:
            return False
        return fnmatch.fnmatchcase(name, self.name_pattern or "*") and fnmatch.fnmatchcase(
            resource_type, self.type_pattern or "*"
        )

    def refusal(self, stack: Any, today: date) -> str | None:
        """Why it does not apply in ``stack`` on ``today``; None when it applies."""
        if self.problems:
            return f"exemption {self.label} was not applied: {'; '.join(self.problems)}"
        if stack is None:
            return (
                f"exemption {self.label} was not applied: the engine did not say which stack it "
                f"analyses (ConfigureStack), so its scope ({', '.join(self.stacks)}) cannot be "
                "checked"
            )
        if not any(stack_matches(pattern, stack) for pattern in self.stacks):
            return (
                f"exemption {self.label} is granted for {', '.join(self.stacks)}, not for this "
                f"stack ({_name(stack)})"
            )
        if self.expires is not None and today > self.expires:
            return (
                f"exemption {self.label} (owner {self.owner}) expired on "
                f"{self.expires.isoformat()}: renew it in the pack's configuration or fix the "
                "resource"
            )
        return None

    def used(self, stack: Any) -> str:
        expires = self.expires.isoformat() if self.expires else "never"
        return (
            f"{self.label} for {_name(stack)}, owner {self.owner}, expires {expires}; "
            f"reason: {self.reason}"
        )


@dataclass(frozen=True)
class Decision:
    """What the exemptions make of one violation: applied (``note`` names the exemption) or
    not (``note`` says why not)."""

    applied: bool
    note: str


def _name(stack: Any) -> str:
    return f"{stack.organization}/{stack.project}/{stack.stack}"


def stack_matches(pattern: str, stack: Any) -> bool:
    parts = pattern.split("/")
    names = (stack.organization, stack.project, stack.stack)
    return len(parts) == 3 and all(p in ("*", n) for p, n in zip(parts, names, strict=True))


def _stack_problem(pattern: Any) -> str | None:
    parts = pattern.split("/") if isinstance(pattern, str) else []
    if (
        len(parts) == 3
        and _STACK_PART_RE.match(parts[0])
        and all(p == "*" or _STACK_PART_RE.match(p) for p in parts[1:])
    ):
        return None
    return (
        f"stack {pattern!r} is not {STACK_FORM} (project or stack may be *, not the organization)"
    )


def _text(entry: Mapping[str, Any], key: str) -> str:
    value = entry.get(key)
    return value.strip() if isinstance(value, str) else ""


def _pattern(entry: Mapping[str, Any], key: str) -> str | None:
    value = entry.get(key)
    return value if isinstance(value, str) and value else None


def _expiry(value: Any) -> tuple[date | None, str | None]:
    if value is None or value == "":
        return None, "no expiry date (expires: YYYY-MM-DD)"
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None, None
    except ValueError:
        pass
    return None, f"expires={value!r} is not a date (YYYY-MM-DD)"


def grant_of(policy: str, entry: Mapping[str, Any]) -> Grant:
    """One ``exemptions`` entry, read; what is wrong with it goes into ``problems``."""
    problems: list[str] = []
    id_ = _text(entry, "id")
    if not id_:
        problems.append("no id")
    elif not ID_RE.match(id_):
        problems.append(f"id={id_!r} is not an id (letters, digits, '.', '_', '-')")
    raw_stacks = entry.get("stacks")
    stacks = (
        tuple(s for s in raw_stacks if isinstance(s, str)) if isinstance(raw_stacks, list) else ()
    )
    if not stacks:
        problems.append(f"no stacks ({STACK_FORM}; project or stack may be *)")
    problems.extend(p for p in map(_stack_problem, stacks) if p)
    name_pattern, type_pattern = _pattern(entry, "namePattern"), _pattern(entry, "type")
    by_tag = entry.get("byTag") is True
    if name_pattern is None and type_pattern is None and not by_tag:
        problems.append("it names no resources: give namePattern, type or byTag")
    owner = _text(entry, "owner")
    if not owner:
        problems.append("no owner")
    reason = _text(entry, "reason")
    if len(reason) < MIN_EXEMPTION_REASON_LENGTH:
        problems.append(
            f"its reason {reason!r} is shorter than {MIN_EXEMPTION_REASON_LENGTH} characters - "
            "say why this resource may break the rule"
        )
    expires, problem = _expiry(entry.get("expires"))
    if problem:
        problems.append(problem)
    return Grant(id_, policy, stacks, name_pattern, type_pattern, by_tag, owner, reason,
                 expires, tuple(problems))  # fmt: skip


def grants_of(policy: str, entries: Iterable[Any]) -> tuple[tuple[Grant, ...], tuple[str, ...]]:
    """(grants, config problems) of a policy's ``exemptions`` list."""
    grants, problems = [], []
    for i, entry in enumerate(entries):
        if isinstance(entry, Mapping):
            grants.append(grant_of(policy, entry))
        else:
            problems.append(f"config exemptions[{i}] is not an object; it exempts nothing")
    return tuple(grants), tuple(problems)


# --- the resource tag ------------------------------------------------------------------------


def parse_legacy_tag(value: Any) -> tuple[list[str], str] | None:
    """The former ``<policy>[,<policy>]: <reason>`` form → (policies, reason); None otherwise."""
    if not isinstance(value, str):
        return None
    m = _LEGACY_TAG_RE.match(value)
    if m is None:
        return None
    return re.split(r"\s*[,+ ]\s*", m["policies"].strip()), m["reason"].strip()


def tag_ids(value: Any) -> tuple[str, ...] | None:
    """The exemption ids a tag names (``EX-12``, ``EX-12 EX-13``, ``EX-12+EX-13``); None when
    the value is not a list of ids (the former form included)."""
    if not isinstance(value, str) or ":" in value:
        return None
    ids = tuple(t for t in _TAG_SEPARATORS.split(value.strip()) if t)
    return ids if ids and all(ID_RE.match(i) for i in ids) else None


# --- the decision ----------------------------------------------------------------------------


def decide(
    policy: str,
    resource_type: str,
    name: str,
    tags: Mapping[str, Any],
    grants: Sequence[Grant],
    stack: Any,
    today: date,
) -> Decision | None:
    """What the exemptions of ``policy`` make of a violation of this resource: the first
    granted one that applies, else why none did; None when none is about the resource."""
    tag = tags.get(EXEMPT_TAG)
    ids = tag_ids(tag) or ()
    refusals: list[str] = []
    for grant in grants:
        if not grant.selects(resource_type, name, ids):
            continue
        why = grant.refusal(stack, today)
        if why is None:
            return Decision(True, grant.used(stack))
        refusals.append(why)
    granted = {g.id for g in grants}
    for id_ in ids:
        if id_ not in granted:
            refusals.append(
                f"the tag {EXEMPT_TAG} names {id_}, which the pack's configuration does not "
                f"grant for {policy}"
            )
    legacy = parse_legacy_tag(tag)
    if legacy is not None and policy in legacy[0]:
        refusals.append(
            f"the tag {EXEMPT_TAG} no longer exempts by itself (since va-guard {SINCE}): ask "
            "the platform team for an exemption in the pack's configuration (stacks, owner, "
            "reason, expiry) and tag the resource with its id"
        )
    return Decision(False, "; ".join(refusals)) if refusals else None
