"""The stack configuration reference (docs/configuration.md), generated from the models.

Every key's type, default, bounds and description come from the pydantic models that validate
the stack file, so the reference cannot drift from what the program accepts; a test fails when
the committed file differs from what this prints. Run ``make docs`` after changing a model.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
import types
import typing
from collections.abc import Iterator
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from stack.config import PROJECT_NAMESPACE, StackConfig
from va_platform.components import TRIGGER_KINDS, ArnInput, InRange, NameInput, OneOf

HEADER = f"""# Stack configuration reference

Generated from the models that validate it (`python -m stack.reference`); do not edit by hand.
Keys are set in `Pulumi.<stack>.yaml` as `{PROJECT_NAMESPACE}:<key>`, except the region
(`aws:region`). A bad value stops the program before any resource is registered, with one line
per problem naming the key, the value and what is allowed; a misspelt key is refused too.
"""


def key_of(name: str, info: FieldInfo) -> str:
    return info.alias or name


def models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    """The models a field holds, however nested (lists, optionals, unions)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in typing.get_args(annotation):
        yield from models_in(arg)


def type_text(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if annotation == ArnInput:  # a literal in the stack config; an Output in a program
        return "string (ARN)"
    if annotation == NameInput:
        return "string (name)"
    if origin is typing.Annotated:
        return type_text(args[0])
    if origin is Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(type_text(a) for a in args)
    if origin is tuple:
        return f"list of {type_text(args[0])}"
    if origin is dict:
        return f"map of {type_text(args[0])} to {type_text(args[1])}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{section_title(annotation)}](#{anchor(annotation)})"
    return {str: "string", int: "integer", float: "number", bool: "boolean"}.get(
        annotation, str(annotation)
    )


def bounds(info: FieldInfo) -> str:
    parts = []
    for meta in [*info.metadata, *_nested_metadata(info.annotation)]:
        func = getattr(meta, "func", None)
        if isinstance(func, InRange | OneOf):
            parts.append(str(func))
        for attr, sign in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            if isinstance(meta, getattr(annotated_types, attr.capitalize())):
                parts.append(f"{sign} {getattr(meta, attr):g}")
        if isinstance(meta, annotated_types.MinLen):
            parts.append(f"at least {meta.min_length}")
        pattern = getattr(meta, "pattern", None)
        if pattern:
            parts.append(f"matches `{pattern}`")
    return "; ".join(parts)


def _nested_metadata(annotation: Any) -> list[Any]:
    """Bounds written inside an optional: ``Annotated[int, InRange(...)] | None``."""
    found = []
    for arg in typing.get_args(annotation):
        if typing.get_origin(arg) is typing.Annotated:
            found += list(typing.get_args(arg)[1:])
    return found


def default_text(info: FieldInfo) -> str:
    if info.default_factory is not None:
        value: Any = info.default_factory()  # type: ignore[call-arg]
    elif info.default is PydanticUndefined:
        return "**required**"
    else:
        value = info.default
    if isinstance(value, BaseModel):
        return "(the defaults below)"
    if value is None:
        return "unset"
    if isinstance(value, tuple):
        value = list(value)
    return f"`{json.dumps(value)}`"


def section_title(model: type[BaseModel]) -> str:
    return SECTION_TITLES.get(model.__name__, model.__name__)


def anchor(model: type[BaseModel]) -> str:
    """GitHub's heading anchor: lowercase, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", section_title(model).lower()).replace(" ", "-")


SECTION_TITLES = {
    "StackConfig": "Stack keys",
    "FunctionSpec": "functions[]",
    "ZipCode": "functions[].code (zip)",
    "ImageCode": "functions[].code (image)",
    "SecretRef": "functions[].secrets[]",
    "ExistingSecret": "functions[].existingSecrets[]",
    "RuntimeManagement": "functions[].runtimeManagement",
    "LayerSpec": "layers[]",
    "AgentProfile": "agents[]",
    "ProfileStatement": "agents[].statements[]",
    "StatementSpec": "functions[].statements[]",
    "AgentImageSettings": "agentImage",
}


def model_section(model: type[BaseModel]) -> list[str]:
    doc = inspect.cleandoc(model.__doc__ or "").split("\n\n")[0].replace("\n", " ")
    lines = [f"## {section_title(model)}", "", doc, "", "| key | type | default | allowed | what |"]
    lines.append("|---|---|---|---|---|")
    for name, info in model.model_fields.items():
        key = "aws:region" if (model is StackConfig and name == "region") else key_of(name, info)
        cells = [f"`{key}`", type_text(info.annotation), default_text(info), bounds(info)]
        cells.append((info.description or "").replace("|", "\\|"))
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, ""]


def all_models(root: type[BaseModel] = StackConfig) -> list[type[BaseModel]]:
    """``root`` and every model reachable from it, in the order a reader meets them."""
    ordered: list[type[BaseModel]] = []

    def visit(model: type[BaseModel]) -> None:
        if model in ordered:
            return
        ordered.append(model)
        for info in model.model_fields.values():
            for nested in models_in(info.annotation):
                visit(nested)

    visit(root)
    return ordered


def trigger_kinds_section() -> list[str]:
    """What each ``triggers[].kind`` is, from the registry of kinds."""
    lines = [
        "## Trigger kinds",
        "",
        "What `functions[].triggers[].kind` selects: its keys, what it adds beside the function, "
        "and the Sids of the statements it adds to the function's role (reserved: "
        "`statements[].sid` may not take them).",
        "",
        "| kind | keys | adds | role statements |",
        "|---|---|---|---|",
    ]
    for kind in TRIGGER_KINDS:
        adds = " ".join((inspect.getdoc(type(kind)) or "").split()).replace("|", "\\|")
        keys = f"[{section_title(kind.model)}](#{anchor(kind.model)})"
        sids = ", ".join(f"`{sid}`" for sid in sorted(kind.sids)) or "none"
        lines.append(f"| `{kind.name}` | {keys} | {adds} | {sids} |")
    return [*lines, ""]


def render() -> str:
    parts = [HEADER]
    for model in all_models():
        if model is TRIGGER_KINDS[0].model:
            parts.append("\n".join(trigger_kinds_section()))
        parts.append("\n".join(model_section(model)))
    return "\n".join(parts)


if __name__ == "__main__":
    sys.stdout.write(render())
