"""How the library refuses a bad input: one line, in the caller's terms, never the value.

Every refusal of a caller's input by a config model or an args class of
``va_platform.components`` is a ``VaError``, which is a ``pulumi.RunError``: ``pulumi preview``
and ``pulumi up`` print its message as one diagnostic line, without a Python traceback (the
Pulumi language host does so for ``RunError``). The preflight prints it as one line too. (A
feature used without its extra is ``va_platform.extras.MissingExtraError``, a RunError too.)

- ``VaValidationError``: a config model (``VaModel``) refused what it was given. It is still a
  pydantic ``ValidationError`` (``errors()`` lists each problem, for the stack config's
  report), but its message is one line that names the model and the field: an unknown field
  with the closest valid one, an ``Output`` where a literal is required with why, and the
  validators' own messages. ``one_line`` is the single place that formats them.
- ``VaInputError``: a component's args (a dataclass) refused what they were given; every args
  dataclass of ``va_platform.components`` raises it from its checks (``refuse_in_one_line``).
- ``VaUnknownInputError``: an input given as an ``Output`` turned out bad once the engine
  resolved it (``checked_once_known``). It is deliberately not a ``ValueError``: the SDK wraps a
  ``ValueError`` raised while it serializes a resource's inputs in a multi-line "While processing
  input ..." chain that repeats the refused value.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import inspect
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Annotated, Any, ParamSpec, TypeVar

import pulumi
from pydantic import BaseModel, ValidationError
from pydantic_core import InitErrorDetails

from va_platform import standard

T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")


class VaError(pulumi.RunError):
    """A bad input to the library, said in one line (Pulumi prints it without a traceback)."""


class VaValidationError(ValidationError, VaError):
    """A VaModel refused its input: ``errors()`` as pydantic gives them, ``str()`` one line."""

    model: type[BaseModel]

    def __str__(self) -> str:
        return one_line(self.model, self.errors())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class VaInputError(VaError, ValueError):
    """A component's args (a dataclass) refused what they were given: one line."""


class VaUnknownInputError(VaError):
    """An input given as an Output, refused once its value is known (not a ValueError: see the
    module docstring)."""


def refused(model: type[BaseModel], error: ValidationError) -> VaValidationError:
    """``error`` as a VaValidationError of ``model`` (same ``errors()``, input still hidden)."""
    # ErrorDetails carries every key InitErrorDetails needs (type, loc, input, ctx).
    details = typing.cast(list[InitErrorDetails], error.errors())
    raised = VaValidationError.from_exception_data(error.title, details, hide_input=True)
    raised.model = model
    return raised


def refusing_in_one_line(check: Callable[P, R]) -> Callable[P, R]:
    """``check`` (an args dataclass's ``__post_init__`` or ``from_*``), its ValueError raised
    as one VaInputError line, without a value of the args that could be a credential; a
    ``__post_init__`` first refuses a text field with edge whitespace or a control character
    (``plain_text_problem``)."""
    if getattr(check, "one_line", False):
        return check

    @functools.wraps(check)
    def checked(*args: P.args, **kwargs: P.kwargs) -> R:
        given: list[object] = list(kwargs.values())
        if check.__name__ == "__post_init__" and args and dataclasses.is_dataclass(args[0]):
            given = [getattr(args[0], f.name) for f in dataclasses.fields(args[0])]
            for f in dataclasses.fields(args[0]):
                problem = plain_text_problem(getattr(args[0], f.name))
                if problem:
                    raise VaInputError(f"{type(args[0]).__name__}.{f.name} {problem}")
        else:
            given += list(args[1:])
        try:
            return check(*args, **kwargs)
        except VaError:
            raise
        except ValueError as exc:
            raise VaInputError(withheld(" ".join(str(exc).split()), given)) from None

    checked.one_line = True  # type: ignore[attr-defined]
    return checked


def refuse_in_one_line(classes: Iterable[object]) -> None:
    """Every args dataclass among ``classes`` refuses in one line, as the models do: its
    ``__post_init__`` and its ``from_*`` constructors (``LambdaNetworking.from_ids``)."""
    for cls in classes:
        if not (inspect.isclass(cls) and dataclasses.is_dataclass(cls)):
            continue
        for name, member in list(vars(cls).items()):
            if name == "__post_init__":
                setattr(cls, name, refusing_in_one_line(member))
            elif name.startswith("from_") and isinstance(member, classmethod):
                setattr(cls, name, classmethod(refusing_in_one_line(member.__func__)))


def checked_once_known(check: Callable[[T], R]) -> Callable[[T], R]:
    """``check`` for use in ``Output.apply``: its ValueError becomes one VaUnknownInputError
    line, which the SDK reports as it is."""

    def checked(value: T) -> R:
        try:
            return check(value)
        except ValueError as exc:
            raise VaUnknownInputError(withheld(" ".join(str(exc).split()), value)) from None

    return checked


# --- never the refused value ---------------------------------------------------------------------

# What a refusal says instead of a value it refuses that could be a credential (pasted in the
# wrong field; refusals reach CI logs): the field and the expected shape say what to fix.
WITHHELD = "<value withheld>"
# The values a refusal may repeat, because they have the shape of a name and so cannot be a
# credential: identifiers (a Sid, a purpose, an env key), lowercase names (``openai-api-key``),
# actions (``sqs:ReceiveMessage``), ARNs and paths, or words of these (a route), unless they
# look like a credential all the same (``standard.secret_value_kind``).
_NAMES_NOTHING_SECRET = re.compile(
    r"[A-Za-z][A-Za-z0-9]{0,63}|[a-z0-9-]+:[A-Za-z0-9*]+|arn:[A-Za-z0-9:/._*${}+=,@-]+"
    r"|/[A-Za-z0-9/{}+._~*-]*|\*|[a-z0-9]+(?:[-_/.:][a-z0-9]+)*|[A-Z][A-Z0-9_]*"
)


def _leaves(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [leaf for k, v in value.items() for leaf in _leaves(k) + _leaves(v)]
    if isinstance(value, list | tuple | set | frozenset):
        return [leaf for v in value for leaf in _leaves(v)]
    if isinstance(value, BaseModel):
        return _leaves(value.model_dump())
    return []


def may_repeat(value: str) -> bool:
    """Whether a refusal may quote ``value``: each of its words has the shape of a name (see
    above) and none looks like a credential."""
    words = value.split(" ")
    return all(
        _NAMES_NOTHING_SECRET.fullmatch(w) and not standard.secret_value_kind(w) for w in words
    ) and not standard.secret_value_kind(value)


def withheld(message: str, given: object) -> str:
    """``message`` with every value of ``given`` (what the caller gave: a field's value, a
    statement's fields, an args dataclass's) that could be a credential replaced by WITHHELD:
    the one rule every refusal of the library goes through (``one_line``, the args classes'
    checks, ``checked_once_known``)."""
    for leaf in sorted(set(_leaves(given)), key=len, reverse=True):
        if not leaf.strip() or may_repeat(leaf):
            continue
        message = message.replace(repr(leaf), WITHHELD)
        if len(leaf) >= 4:
            message = re.sub(rf"(?<![\w]){re.escape(leaf)}(?![\w])", WITHHELD, message)
    return message


# --- plain text: no edge whitespace, no control character ----------------------------------------


def plain_text_problem(value: object) -> str | None:
    """Why a text value (a string, the strings of a list, a mapping's keys) is no plain text
    value: a trailing newline (a YAML block scalar, a file read) or other edge whitespace or
    control character passes the conventions' patterns nowhere, so it is refused here, once,
    for every field; None if it is one."""
    if isinstance(value, str):
        texts = [value]
    elif isinstance(value, list | tuple):
        texts = [v for v in value if isinstance(v, str)]
    elif isinstance(value, Mapping):
        texts = [k for k in value if isinstance(k, str)]
    else:
        return None
    for text in texts:
        if text != text.strip():
            return "starts or ends with whitespace (a trailing newline?); give the value alone"
        if any(ord(c) < 32 or ord(c) == 127 for c in text):
            return "holds a control character (a newline, a tab); give the value alone"
    return None


# --- the one line --------------------------------------------------------------------------------

# Why a field that takes no Output must be a literal: the component reads it before any resource
# exists, and the engine resolves an Output only after the program has declared its resources.
WHY_LITERAL = (
    "the component checks it and derives names, statements or resources from it while the "
    "program runs, before the engine resolves any Output, so it must be known at preview"
)


def one_line(model: type[BaseModel], errors: Sequence[Mapping[str, Any]]) -> str:
    """Every problem of ``errors`` (pydantic's), joined in one line and prefixed by the model's
    name; never the refused value."""
    return "; ".join(dict.fromkeys(_problem(model, err) for err in errors))


def _problem(model: type[BaseModel], err: Mapping[str, Any]) -> str:
    loc = tuple(err.get("loc") or ())
    where = _where(model, loc)
    if err["type"] == "extra_forbidden":
        return f"{_where(model, loc[:-1])}: unknown field {loc[-1]!r}" + _suggestion(model, loc)
    if isinstance(err.get("input"), pulumi.Output):
        hint = _literal_hint(model, loc)
        return f"{where} takes a literal, not a pulumi Output: {WHY_LITERAL}" + (
            f"; {hint}" if hint else ""
        )
    if err["type"] == "missing":
        return f"{where}: required but not given"
    message = " ".join(str(err.get("msg", "")).split())
    message = withheld(message, err.get("input"))
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if message.startswith(f"{model.__name__} ") or message.startswith(f"{model.__name__}:"):
        return message  # the validator named the model itself
    return f"{where}: {message}"


def _where(model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    """``FunctionSpec.triggers[0].prefix``, ``FunctionSpec.env['REGION']``: the model, then the
    path (union tags left out; a key of a mapping in brackets)."""
    text = model.__name__
    for i, part in enumerate(loc):
        if isinstance(part, int):
            text += f"[{part}]"
        elif not _models_at(model, loc[:i]):
            text += f"[{part!r}]"
        elif not _is_union_tag(model, loc, i):
            text += f".{part}"
    return text


def _is_union_tag(model: type[BaseModel], loc: tuple[Any, ...], i: int) -> bool:
    """Whether ``loc[i]`` names a member of a union (a trigger's kind, a code's zip/image)
    rather than a field: pydantic puts the member's tag into the location."""
    return i > 0 and bool(_tagged(_models_at(model, loc[:i]), loc[i]))


def _tagged(models: list[type[BaseModel]], part: object) -> list[type[BaseModel]]:
    """The members of a union (two or more models) that ``part`` is the tag of."""
    if len(models) < 2:
        return []
    return [m for m in models if part in _tags(m) or part == m.__name__]


def _suggestion(model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    """ "; did you mean 'memory'?" (the closest valid field), else the valid fields."""
    names = sorted(
        {
            name
            for m in _models_at(model, loc[:-1])
            for field, info in m.model_fields.items()
            for name in (field, info.alias)
            if name and name != "kind"
        }
    )
    if not names:
        return ""
    close = difflib.get_close_matches(str(loc[-1]), names, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; valid fields: {', '.join(names)}"


def _literal_hint(model: type[BaseModel], loc: tuple[Any, ...]) -> str | None:
    """Where an Output goes instead, if the model that owns the field says (``literal_hint``)."""
    for i in range(len(loc), 0, -1):
        for owner in _models_at(model, loc[: i - 1]):
            if _is_field(owner, loc[i - 1]):
                hint = getattr(owner, "literal_hint", None)
                found = hint(_field_name(owner, loc[i - 1])) if callable(hint) else None
                if found:
                    return str(found)
    return None


def _is_field(model: type[BaseModel], part: object) -> bool:
    return isinstance(part, str) and _field_name(model, part) is not None


def _field_name(model: type[BaseModel], part: object) -> str | None:
    for name, info in model.model_fields.items():
        if part in (name, info.alias):
            return name
    return None


def _models_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[type[BaseModel]]:
    """The models a location inside ``model`` may be (several inside a union)."""
    models = [model]
    for part in loc:
        if isinstance(part, int):
            continue
        tagged = _tagged(models, part)
        if tagged:
            models = tagged
            continue
        models = [
            found
            for m in models
            for name, info in m.model_fields.items()
            if part in (name, info.alias)
            for found in _models_in(info.annotation)
        ]
    return models


def _tags(model: type[BaseModel]) -> tuple[Any, ...]:
    """The values of a union member's ``kind`` tag (``Literal["bucket"]`` -> ``("bucket",)``)."""
    field = model.model_fields.get("kind")
    return typing.get_args(field.annotation) if field is not None else ()


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _models_in(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, tuple, list, dict):
        return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]
    return []
