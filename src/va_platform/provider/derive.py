"""The provider's input types, derived from the components' own argument classes.

Pulumi's schema analyser reads plain annotations (TypedDicts, enums, ``pulumi.Input[T]``); the
specs are pydantic models with validators, unions and ``Annotated`` bounds it cannot read. So
each spec is turned into a TypedDict here, field by field: the same names (camelCase in the
schema), required where the model requires it, a ``Literal`` as an enum, a union of models as
one type keyed by ``kind``, an ARN as ``Input[str]``. Nothing is typed twice: a field's
description is the model's ``Field(description=...)`` (a dataclass's: the comment above the
field, as docs/library.md reads it), with its default and bounds, and it is validated by the
model itself once the provider has the values back (``to_model_input``).
"""

import dataclasses
import enum
import json
import re
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any, Literal, NotRequired, Required, TypedDict

import pulumi
from pydantic import BaseModel
from pydantic.alias_generators import to_camel
from pydantic.fields import FieldInfo

from va_platform import reference
from va_platform.components.model import ArnInput, NameInput

# Input type -> its Python field names -> the description the schema gives each.
DESCRIPTIONS: dict[type, dict[str, str]] = {}


def describe(target: type, source: type, extra: Mapping[str, str] | None = None) -> None:
    """Give ``target``'s fields the descriptions of ``source``'s fields of the same name: a
    pydantic model's ``Field(description=...)`` or a dataclass's comments, with the default."""
    found: dict[str, str] = {}
    if isinstance(source, type) and issubclass(source, BaseModel):
        for name, info in source.model_fields.items():
            found[name] = model_field_text(info)
    elif dataclasses.is_dataclass(source):
        comments = reference.field_comments(source)
        for f in dataclasses.fields(source):
            text = comments.get(f.name, "")
            if f.default is not dataclasses.MISSING:
                text = _with_default(text, f.default)
            elif f.default_factory is not dataclasses.MISSING:
                text = _with_default(text, f.default_factory())
            found[f.name] = text
    found.update(extra or {})
    DESCRIPTIONS.setdefault(target, {}).update({k: v for k, v in found.items() if v})


def _with_default(text: str, default: object) -> str:
    """The text and its default as a program in any language writes it (JSON)."""
    if default is None or default in ((), {}, []):
        return text
    if isinstance(default, BaseModel):
        shown = "each of its fields' defaults"
    else:
        value = list(default) if isinstance(default, tuple) else default
        shown = "`" + json.dumps(value) + "`"
    return f"{text.rstrip()} Default: {shown}."


def model_field_text(info: FieldInfo) -> str:
    text = info.description or ""
    allowed = reference.bounds(info.metadata, info.annotation)
    if allowed:
        text = f"{text.rstrip()} Allowed: {allowed}."
    if not info.is_required():
        text = _with_default(text, info.get_default(call_default_factory=True))
    return text


def _member_name(value: object) -> str:
    name = re.sub(r"[^A-Za-z0-9]+", "_", str(value)).strip("_") or "empty"
    return f"V{name}" if name[0].isdigit() else name


def closed_set(name: str, values: Sequence[str], doc: str) -> type[enum.Enum]:
    """An enum of string values, named for the schema (``va:index:<name>``)."""
    members = [(_member_name(v), v) for v in values]
    made = enum.Enum(name, members, module=__name__)  # type: ignore[misc]
    made.__doc__ = doc
    return made


class Derivation:
    """Turns models into TypedDicts, once per model, with the enums their Literals need."""

    def __init__(
        self,
        overrides: Mapping[tuple[str, str], Any] | None = None,
        names: Mapping[str, str] | None = None,
    ) -> None:
        # (model name, field name) -> the input type to use instead of the derived one.
        self.overrides = dict(overrides or {})
        # A derived type's name (<Model><Field>) -> the schema's, where that reads better.
        self.names = dict(names or {})
        self.made: dict[str, type] = {}

    def typed(self, model: type[BaseModel], name: str | None = None) -> type:
        """The TypedDict of ``model`` (named like it unless ``name`` is given)."""
        name = name or model.__name__
        if name in self.made:
            return self.made[name]
        fields: dict[str, Any] = {}
        made: type = TypedDict(name, fields, total=False)  # type: ignore[misc]
        self.made[name] = made
        for field_name, info in model.model_fields.items():
            kind = self._field_type(model.__name__, field_name, info.annotation)
            fields[field_name] = Required[kind] if info.is_required() else NotRequired[kind]
        self._finish(made, fields, model.__doc__)
        describe(made, model)
        return made

    def merged(self, models: Sequence[type[BaseModel]], name: str, doc: str) -> type:
        """One type for a union of models told apart by ``kind``: every field of each (a field
        of some kinds only says which), ``kind`` an enum of theirs."""
        if name in self.made:
            return self.made[name]
        kinds = [_literal_value(m.model_fields["kind"].annotation) for m in models]
        kind_enum = closed_set(f"{name}Kind", kinds, f"What kind of {name.lower()} this is.")
        # Required unless each model can tell its kind itself (a default, or another key).
        required = all(m.model_fields["kind"].is_required() for m in models)
        fields: dict[str, Any] = {
            "kind": Required[kind_enum] if required else NotRequired[kind_enum]
        }
        texts: dict[str, str] = {"kind": "One of " + ", ".join(f"`{k}`" for k in kinds) + "."}
        if not required:
            texts["kind"] += " " + (models[0].model_fields["kind"].description or "")
        made: type = TypedDict(name, fields, total=False)  # type: ignore[misc]
        self.made[name] = made
        owners: dict[str, list[str]] = {}
        for model, kind in zip(models, kinds, strict=True):
            for field_name, info in model.model_fields.items():
                if field_name == "kind":
                    continue
                kind_type = self._field_type(model.__name__, field_name, info.annotation)
                if field_name in fields and fields[field_name] != NotRequired[kind_type]:
                    raise TypeError(f"{name}.{field_name}: kinds disagree on its type")
                fields[field_name] = NotRequired[kind_type]
                owners.setdefault(field_name, []).append(kind)
                texts.setdefault(field_name, model_field_text(info))
        for field_name, of in owners.items():
            if len(of) < len(kinds):
                texts[field_name] = f"({', '.join(of)}) {texts[field_name]}".strip()
        self._finish(made, fields, doc)
        DESCRIPTIONS.setdefault(made, {}).update({k: v for k, v in texts.items() if v})
        return made

    @staticmethod
    def _finish(made: type, fields: dict[str, Any], doc: str | None) -> None:
        made.__annotations__.update(fields)
        made.__optional_keys__ = frozenset(  # type: ignore[attr-defined]
            k for k, v in fields.items() if typing.get_origin(v) is NotRequired
        )
        made.__required_keys__ = frozenset(  # type: ignore[attr-defined]
            k for k, v in fields.items() if typing.get_origin(v) is Required
        )
        made.__doc__ = (doc or "").strip()

    def _field_type(self, owner: str, field_name: str, annotation: Any) -> Any:
        if (owner, field_name) in self.overrides:
            return self.overrides[(owner, field_name)]
        derived = f"{owner}{_upper_first(field_name)}"
        return self.input_type(annotation, self.names.get(derived, derived))

    def input_type(self, annotation: Any, name: str) -> Any:
        """What the schema says for ``annotation`` (``name`` for an enum it needs)."""
        if annotation is ArnInput or annotation is NameInput:
            return pulumi.Input[str]  # type: ignore[misc]
        origin, args = typing.get_origin(annotation), typing.get_args(annotation)
        if origin is typing.Annotated:
            return self.input_type(args[0], name)
        if origin in (typing.Union, types.UnionType):
            present = [a for a in args if a is not type(None)]
            models = [a for a in present if isinstance(a, type) and issubclass(a, BaseModel)]
            if len(present) == 1:
                return self.input_type(present[0], name)
            if models and len(models) == len(present):
                return self.merged(
                    models, name, f"One of: {', '.join(m.__name__ for m in models)}."
                )
            raise TypeError(f"{name}: no input type for the union {annotation}")
        if origin is Literal:
            return closed_set(name, [str(a) for a in args], "")
        if origin is tuple:
            item = self.input_type(args[0], name)
            # A list of enum values reaches the component as empty objects (pulumi 3.272's
            # ComponentProvider maps list items of a named type as objects): a plain string
            # list, checked by the model's own Literal.
            if isinstance(item, type) and issubclass(item, enum.Enum):
                item = str
            return list[item]  # type: ignore[valid-type]
        if origin is dict:
            value = Any if args[1] is Any else self.input_type(args[1], name)
            return dict[str, value]  # type: ignore[valid-type]
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return self.typed(annotation)
        if annotation in (str, int, float, bool) or annotation is Any:
            return annotation
        raise TypeError(f"{name}: no input type for {annotation}")


def _literal_value(annotation: Any) -> str:
    (value,) = typing.get_args(annotation)
    return str(value)


def _upper_first(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def to_model_input(value: Any, kind: Any) -> Any:
    """Values as the provider got them (enum members, dicts keyed by Python name, Outputs), of
    the input type ``kind``, back to what the models validate: a typed object keyed by its
    camelCase names (the stack config's, which the models' own validators read), enum values,
    free maps (env vars, ARNs by name) as they are."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (Required, NotRequired):
        return to_model_input(value, args[0])
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping) and typing.is_typeddict(kind):
        hints = kind.__annotations__
        return {
            to_camel(k): to_model_input(v, hints.get(k, Any))
            for k, v in value.items()
            if v is not None
        }
    if isinstance(value, Mapping):
        item = args[1] if origin is dict else Any
        return {k: to_model_input(v, item) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        item = args[0] if origin is list else Any
        return [to_model_input(v, item) for v in value]
    return value
