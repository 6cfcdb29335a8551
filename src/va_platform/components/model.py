"""The shape every config model of the components shares, and the validators that carry their
bounds (so docs/configuration.md can print them).

Field aliases are the camelCase keys of the stack config.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Self, TypeGuard

import pulumi
from pydantic import (
    BaseModel,
    ConfigDict,
    PlainValidator,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic.alias_generators import to_camel

from va_platform.components.errors import plain_text_problem, refused


class VaModel(BaseModel):
    """Frozen, strict about unknown keys, and keyed by the stack config's camelCase names."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        strict=False,
        # An error never repeats the value it refuses: it may be a credential pasted in the
        # wrong field, and errors reach CI logs.
        hide_input_in_errors=True,
    )

    # Refusals are one line (errors.one_line), from code (``FunctionSpec(...)``) and from data
    # (``FunctionSpec.model_validate({...})``) alike; nested models report through the outermost.
    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise refused(type(self), exc) from None

    # One check for every text field of every model (a name, a key of env, a route, an
    # expression): a trailing newline or other edge whitespace or control character is refused
    # here, naming the field, before any pattern of the conventions sees it.
    @model_validator(mode="before")
    @classmethod
    def _plain_text(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key, value in data.items():
                problem = plain_text_problem(value)
                if problem:
                    raise ValueError(f"{key} {problem}")
        return data

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate(obj, **kwargs)
        except ValidationError as exc:
            raise refused(cls, exc) from None

    @classmethod
    def literal_hint(cls, field: str) -> str | None:
        """Where a value known only as an Output goes instead of ``field`` (which takes a
        literal), for the error that refuses the Output; None: nowhere."""
        return None


@dataclass(frozen=True)
class InRange:
    """A bound with the unit people think in; the config reference prints it."""

    # The smallest allowed value.
    lo: float
    # The largest allowed value.
    hi: float
    # The unit and what is bounded, e.g. "MB (Lambda memory)".
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

    # The allowed values.
    allowed: tuple[int, ...]
    # What a value is, for the error, e.g. "a CloudWatch Logs retention period (days)".
    what: str

    def __call__(self, value: int) -> int:
        if value not in self.allowed:
            raise ValueError(f"{value} is not {self.what}; allowed: {self}")
        return value

    def __str__(self) -> str:
        return ", ".join(map(str, self.allowed))


def _str_or_output(value: object) -> object:
    if isinstance(value, str | pulumi.Output):
        return value
    raise ValueError(
        f"expected a string or a pulumi Output of one, got {type(value).__name__} ({value!r})"
    )


def _name_or_output(value: object) -> object:
    return _str_or_output(value)


# An ARN another resource has: a literal from the stack config, or, in a program, the Output of a
# resource created beside it or of a StackReference. A literal is checked for its format on
# construction; an Output is checked by va-guard once it is known (preview or update).
ArnInput = Annotated[Any, PlainValidator(_str_or_output), WithJsonSchema({"type": "string"})]
# A name (or id) another resource has, e.g. a secret's name: taken as ArnInput is.
NameInput = Annotated[Any, PlainValidator(_name_or_output), WithJsonSchema({"type": "string"})]


def is_known(value: object) -> TypeGuard[str]:
    """A literal (checkable now), not an Output (known only to the engine)."""
    return isinstance(value, str)
