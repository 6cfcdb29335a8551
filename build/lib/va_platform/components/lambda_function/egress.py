"""Ways out of a VA Lambda besides HTTPS (``egress:``): one TCP port to a named target.

The stack's Lambda security group lets a function out on TCP 443 only. A function that talks to
a database (5432) or a cache (6379) names that target: its security group, or a managed prefix
list, and the port; never a CIDR, so "the database" cannot quietly become "anything on 5432".
VaLambda gives such a function a security group of its own, with no ingress and exactly these
egress rules, attached beside the stack's group. The target must still admit the function: an
ingress rule on the target's group from this one is the target owner's to add, not ours.

HTTPS (443) to a named target is accepted too: redundant while the stack's group allows 443
everywhere, and what keeps working if that group is ever narrowed.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, Field, field_validator, model_validator

from va_platform.components.model import InRange, VaModel

# sg-/pl- and 8 (older) or 17 hex digits, as EC2 writes them.
SECURITY_GROUP_ID_RE = re.compile(r"^sg-([0-9a-f]{8}|[0-9a-f]{17})$")
PREFIX_LIST_ID_RE = re.compile(r"^pl-([0-9a-f]{8}|[0-9a-f]{17})$")
# EC2's rule descriptions: up to 255 of these characters.
DESCRIPTION_RE = re.compile(r"^[A-Za-z0-9 ._\-:/()#,@\[\]+=&;{}!$*]{1,255}$")
DESCRIPTION_CHARS = "letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*"
# EC2's default quota of egress rules per security group.
MAX_EGRESS_RULES = 60
NAME_A_TARGET = "name a security group (securityGroupId) or a prefix list (prefixListId)"


class EgressRule(VaModel):
    """One TCP port the function may reach on a named target, besides HTTPS everywhere."""

    security_group_id: str | None = Field(
        default=None, description="The target's security group (sg-...), e.g. a database's."
    )
    prefix_list_id: str | None = Field(
        default=None, description="A managed prefix list (pl-...), e.g. a partner's addresses."
    )
    port: Annotated[int, AfterValidator(InRange(1, 65535, "TCP port"))] = Field(
        description="The TCP port on the target (5432 PostgreSQL, 6379 Redis, ...)."
    )
    description: str = Field(
        description=f"What the target is; shown on the rule ({DESCRIPTION_CHARS}, at most 255)."
    )

    @model_validator(mode="before")
    @classmethod
    def _no_cidrs(cls, data: Any) -> Any:
        """A CIDR is refused by name (not as an unknown key) so the fix is in the message."""
        if isinstance(data, dict):
            cidrs = sorted(k for k in data if isinstance(k, str) and "cidr" in k.lower())
            if cidrs:
                raise ValueError(
                    f"{', '.join(cidrs)}: egress never goes to a CIDR; {NAME_A_TARGET}"
                )
        return data

    @field_validator("security_group_id")
    @classmethod
    def _group_id(cls, value: str | None) -> str | None:
        if value is not None and not SECURITY_GROUP_ID_RE.match(value):
            raise ValueError(
                f"{value!r} is not a security group id (sg- and 8 or 17 hex digits); the target "
                f"is named, never a CIDR: {NAME_A_TARGET}"
            )
        return value

    @field_validator("prefix_list_id")
    @classmethod
    def _prefix_list_id(cls, value: str | None) -> str | None:
        if value is not None and not PREFIX_LIST_ID_RE.match(value):
            raise ValueError(f"{value!r} is not a prefix list id (pl- and 8 or 17 hex digits)")
        return value

    @field_validator("description")
    @classmethod
    def _description(cls, value: str) -> str:
        if not DESCRIPTION_RE.match(value):
            raise ValueError(
                f"description {value!r} is not one EC2 accepts: {DESCRIPTION_CHARS}, 1-255"
            )
        return value

    @model_validator(mode="after")
    def _one_target(self) -> EgressRule:
        if self.security_group_id and self.prefix_list_id:
            raise ValueError("names both securityGroupId and prefixListId; give one per entry")
        if not self.target:
            raise ValueError(f"names no target: {NAME_A_TARGET}")
        return self

    @property
    def target(self) -> str:
        return self.security_group_id or self.prefix_list_id or ""


def _each_once(rules: tuple[EgressRule, ...]) -> tuple[EgressRule, ...]:
    seen: set[tuple[str, int]] = set()
    for rule in rules:
        key = (rule.target, rule.port)
        if key in seen:
            raise ValueError(f"egress to {rule.target} port {rule.port} is listed twice")
        seen.add(key)
    return rules


Egress = Annotated[tuple[EgressRule, ...], AfterValidator(_each_once)]
