"""A small IAM evaluator for the tests: as AWS decides one request within one account.

Honours Allow and explicit Deny, Action/NotAction, Resource/NotResource, the condition operators
the platform's policies use (with ``IfExists``, negated operators, ``Null``, ``Bool`` and the
``ForAnyValue:``/``ForAllValues:`` set operators), policy variables in condition values and
resources (``${aws:PrincipalTag/Owner}``, from the request context; ``${$}``),
and a permissions boundary: a request is allowed only if the identity policies allow it, the
boundary allows it, and neither denies it.

Where it cannot evaluate something it errs on the side of *not* matching the statement: an
unknown operator never grants (Allow) and never refuses (Deny), so a test that shows an attack
refused cannot pass because of an evaluator gap in a Deny. A policy variable whose key the
request does not carry (once, single-valued) is such a gap too: the condition block or the
resource pattern that names it is not evaluated (as AWS, it never grants).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from va_platform import catalogue

Context = tuple[tuple[str, str], ...]
Policy = Mapping[str, Any]


@dataclass(frozen=True)
class Request:
    """One authorization AWS makes: ``action`` on ``arn``, with request context keys (a key
    given twice is multi-valued, e.g. ``aws:TagKeys``)."""

    action: str
    arn: str
    context: Context = ()

    @property
    def resource(self) -> str:
        """What IAM matches the policy's Resource against: ``*`` for an action AWS lists no
        resource type for (granted on ``*`` only), else the ARN."""
        found = catalogue.action(self.action)
        return self.arn if found is not None and found.takes_resources else "*"

    def with_context(self, *pairs: tuple[str, str]) -> Request:
        return Request(self.action, self.arn, (*self.context, *pairs))

    def __str__(self) -> str:
        extra = "".join(f" [{k}={v}]" for k, v in self.context)
        return f"{self.action} on {self.resource}{extra}"


def listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def glob(pattern: str, value: str, *, case: bool = True) -> bool:
    """IAM's wildcards: ``*`` any run of characters, ``?`` one; everything else literal."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, 0 if case else re.IGNORECASE) is not None


def _bool(pattern: str, value: str) -> bool:
    return pattern.lower() == value.lower()


# The positive operators; ``...Not...`` ones are their negation (see _operator).
POSITIVE: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda p, v: p == v,
    "StringEqualsIgnoreCase": lambda p, v: p.lower() == v.lower(),
    "StringLike": glob,
    "ArnEquals": lambda p, v: p == v,
    "ArnLike": glob,
    "Bool": _bool,
    "NumericEquals": lambda p, v: float(p) == float(v),
}
NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
    "NumericNotEquals": "NumericEquals",
}


VARIABLE = re.compile(r"\$\{([^}]*)\}")
LITERALS = {"$": "$"}  # ${*} and ${?} (literal wildcards) are not supported: unknown


def resolved(pattern: str, context: Sequence[tuple[str, str]]) -> str | None:
    """``pattern`` with its policy variables replaced by the request's values; None when one
    names a key the request does not carry exactly once (or a default value, or ``${*}``)."""
    unknown = False

    def value(match: re.Match[str]) -> str:
        nonlocal unknown
        name = match.group(1).strip()
        if name in LITERALS:
            return LITERALS[name]
        found = _values(context, name)
        if len(found) != 1:
            unknown = True
            return ""
        return found[0]

    out = VARIABLE.sub(value, pattern)
    return None if unknown else out


def _values(context: Sequence[tuple[str, str]], key: str) -> list[str]:
    return [v for k, v in context if k.lower() == key.lower()]


def _block_holds(operator: str, key: str, patterns: list[str], context: Context) -> bool | None:
    """Whether one operator/key pair holds; None when this evaluator cannot tell."""
    substituted = [resolved(p, context) for p in patterns]
    if any(p is None for p in substituted):
        return None
    patterns = [p for p in substituted if p is not None]
    values = _values(context, key)
    if operator == "Null":
        return (not values) == _bool(patterns[0], "true")
    qualifier, _, operator = operator.rpartition(":")
    if_exists = operator.endswith("IfExists")
    operator = operator.removesuffix("IfExists")
    negated = operator in NEGATED
    test = POSITIVE.get(NEGATED.get(operator, operator))
    if test is None or qualifier not in ("", "ForAnyValue", "ForAllValues"):
        return None
    if not values:
        # A missing key: IfExists and the negated operators hold, ForAllValues holds
        # (vacuously), anything else does not.
        return if_exists or negated or qualifier == "ForAllValues"

    def one(value: str) -> bool:
        hit = any(test(p, value) for p in patterns)
        return not hit if negated else hit

    if qualifier == "ForAllValues":
        return all(one(v) for v in values)
    if qualifier == "ForAnyValue" or len(values) > 1:
        return any(one(v) for v in values)
    return one(values[0])


def conditions_hold(condition: Mapping[str, Any], context: Context) -> bool | None:
    """All blocks must hold (AND); None when one of them cannot be evaluated."""
    unknown = False
    for operator, keys in condition.items():
        for key, patterns in keys.items():
            held = _block_holds(operator, key, listed(patterns), context)
            if held is None:
                unknown = True
            elif not held:
                return False
    return None if unknown else True


def _matches(statement: Mapping[str, Any], request: Request) -> bool:
    action = request.action.lower()
    if "NotAction" in statement:
        in_actions = not any(fnmatchcase(action, a.lower()) for a in listed(statement["NotAction"]))
    else:
        in_actions = any(fnmatchcase(action, a.lower()) for a in listed(statement.get("Action")))
    if not in_actions:
        return False

    def hits(patterns: Any) -> bool | None:
        substituted = [resolved(p, request.context) for p in listed(patterns)]
        if any(p is None for p in substituted):
            return None
        return any(glob(p, request.resource) for p in substituted if p is not None)

    if "NotResource" in statement:
        held = hits(statement["NotResource"])
        return held is False
    return hits(statement.get("Resource")) is True


def statements(policy: Policy) -> list[Mapping[str, Any]]:
    found = policy["Statement"]
    return [found] if isinstance(found, Mapping) else list(found)


def effects(policies: Sequence[Policy], request: Request) -> set[str]:
    """The effects of the statements that apply to ``request``. A statement whose condition the
    evaluator cannot evaluate applies neither as Allow nor as Deny."""
    found = set()
    for policy in policies:
        for st in statements(policy):
            if _matches(st, request) and conditions_hold(st.get("Condition", {}), request.context):
                found.add(str(st.get("Effect")))
    return found


def allows(
    policy: Policy | Sequence[Policy], request: Request, boundary: Policy | None = None
) -> bool:
    """As IAM decides within one account for a role: an explicit Deny in any of its policies or
    in its boundary wins; otherwise the identity policies must allow, and so must the boundary
    when the role has one."""
    identity = [policy] if isinstance(policy, Mapping) else list(policy)
    granted = effects(identity, request)
    if "Deny" in granted or "Allow" not in granted:
        return False
    if boundary is None:
        return True
    bounded = effects([boundary], request)
    return "Allow" in bounded and "Deny" not in bounded
