"""The shape every config model of the components shares, and the validators that carry their
bounds (so docs/configuration.md can print them).

Field aliases are the camelCase keys of the stack config.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class VaModel(BaseModel):
    """Frozen, strict about unknown keys, and keyed by the stack config's camelCase names."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        strict=False,
    )


@dataclass(frozen=True)
class InRange:
    """A bound with the unit people think in; the config reference prints it."""

    lo: float
    hi: float
    what: str

    def __call__(self, value: int | float) -> int | float:
        if not self.lo <= value <= self.hi:
            raise ValueError(f"must be within {self}")
        return value

    def __str__(self) -> str:
        return f"{self.lo:g}-{self.hi:g} {self.what}"


@dataclass(frozen=True)
class OneOf:
    """A value from a fixed list (e.g. CloudWatch's retention periods); the reference prints it."""

    allowed: tuple[int, ...]
    what: str

    def __call__(self, value: int) -> int:
        if value not in self.allowed:
            raise ValueError(f"{value} is not {self.what}; allowed: {self}")
        return value

    def __str__(self) -> str:
        return ", ".join(map(str, self.allowed))
