"""Who and where a stack is: the two values every VA name and tag is made from."""

import re
from dataclasses import dataclass, field
from typing import Any

from va_platform import standard


@dataclass(frozen=True)
class VaContext:
    """Environment and owner of a stack; every component takes one so names and tags agree.

    Validated on construction, so a component can never be built for ``staging`` or with an
    owner AWS would reject as a tag value.
    """

    # dev or prod: the <env> of every name (va-<env>-<purpose>-<type>) and the Environment tag.
    environment: str
    # The team that owns the stack: the Owner tag (a tag value AWS accepts).
    owner: str
    # The ARN (a str or an Output, so roles wait for the policy) of the administrator-owned
    # ``va-<env>-workload-boundary`` that every workload role carries; None outside a stack
    # that declares one (component tests). The deploy role may create roles only with it.
    permissions_boundary: Any = field(default=None, compare=False)

    def __post_init__(self) -> None:
        standard.validate_environment(self.environment)
        standard.validate_tag_value("Owner", self.owner)

    def name(self, purpose: str, type_: str) -> str:
        return standard.physical_name(self.environment, purpose, type_)

    def tags(self, purpose: str, name: str) -> dict[str, str]:
        return standard.standard_tags(self.environment, purpose, name, self.owner)

    def secret_name(self, leaf: str) -> str:
        return standard.secret_name(self.environment, leaf)

    def own_purpose(self, owner: str, suffix: str = "") -> str:
        """The purpose an args class ``owner`` defaults to: the stack owner's letters and digits
        (``payments-team`` -> ``paymentsteam``), then ``suffix``; never the platform stack's
        (``lambda``, ``alarms``, ``core``), so a team's default names are its own in an account
        it shares with the platform. Refused in one line if the owner makes no purpose."""
        token = re.sub(r"[^a-z0-9]", "", self.owner.lower())[: 32 - len(suffix)] + suffix
        if not standard.PURPOSE_RE.match(token):
            raise ValueError(
                f"{owner}.purpose: the owner makes no default purpose; give purpose (a "
                "lowercase token of 2-32 letters and digits starting with a letter)"
            )
        return token


def purpose_checked(owner: str, context: VaContext, purpose: object, type_: str) -> None:
    """An args class's ``purpose``, checked as the names made from it will be, in one line
    naming ``<owner>.purpose`` (at construction, not when the component is built)."""
    if not isinstance(purpose, str):
        raise ValueError(f"{owner}.purpose: a literal string, not {type(purpose).__name__}")
    try:
        context.name(purpose, type_)
    except ValueError as exc:
        raise ValueError(f"{owner}.purpose: {exc}") from None


def purpose_of(args: object) -> str:
    """An args class's ``purpose`` once constructed: given, or the default its
    ``__post_init__`` set (``VaContext.own_purpose``)."""
    purpose = getattr(args, "purpose", None)
    if not isinstance(purpose, str):
        raise TypeError(f"{type(args).__name__}.purpose is not set")
    return purpose
