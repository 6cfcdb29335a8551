"""The library reference (docs/library.md), generated from the code.

``python -m va_platform.reference`` prints it for the installed version: every public name of
``va_platform.components`` and ``va_platform.packaging`` (their ``__all__``) with its docstring,
and the functions of ``va_platform.standard``. For a component: its type token, constructor and
attributes; for each args class, spec and reference: its fields with their type as written
(``Input[str]``, not the Union it stands for), default, bounds and description. A dataclass
field's description is the comment above it (or at the end of its line); a spec's is its
``Field(description=...)``; a constant's is the comment above its assignment. This repository's
``make docs`` writes docs/library.md, and a test fails while the committed file differs.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import io
import pkgutil
import re
import sys
import tokenize
import types
import typing
from collections.abc import Awaitable, Callable, Iterator
from functools import cache
from pathlib import PurePath
from types import ModuleType
from typing import Any, Literal

import annotated_types
import pulumi
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

import va_platform
import va_platform.components
import va_platform.packaging
from va_platform import standard
from va_platform.components.model import ArnInput, InRange, NameInput, OneOf

EXPORTING = (va_platform.components, va_platform.packaging)
# Comments that direct a tool, not a reader.
PRAGMA = re.compile(r"^(fmt|type|noqa|pragma|pyright|mypy)\b")

Kind = Literal["component", "args", "function", "constant", "class"]
GROUPS: tuple[tuple[Kind, str, str], ...] = (
    ("component", "Components", "Pulumi ComponentResources, each built from one args object."),
    (
        "args",
        "Arguments, specs and references",
        "What the components take: args dataclasses, the specs (pydantic models that also "
        "validate a stack config: a field takes its Python name or its config key), and "
        "references to resources that exist already.",
    ),
    ("function", "Functions", ""),
    ("constant", "Constants and types", ""),
)


# --- the public names ------------------------------------------------------------------------


def public_names(module: ModuleType) -> list[str]:
    return list(module.__all__)


def kind_of(obj: object) -> Kind:
    if inspect.isclass(obj):
        if issubclass(obj, pulumi.ComponentResource):
            return "component"
        if dataclasses.is_dataclass(obj) or issubclass(obj, BaseModel):
            return "args"
        return "class"
    if inspect.isfunction(obj):
        return "function"
    return "constant"


def own_doc(obj: object) -> str:
    """The docstring the object itself has (a dataclass's generated signature is none)."""
    doc = obj.__dict__.get("__doc__") if inspect.isclass(obj) else getattr(obj, "__doc__", None)
    if not doc or (inspect.isclass(obj) and doc.startswith(f"{obj.__name__}(")):
        return ""
    return inspect.cleandoc(doc)


def first_paragraph(doc: str) -> str:
    return doc.split("\n\n")[0].replace("\n", " ")


def models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    """The models a field holds, however nested (tuples, optionals, unions)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in typing.get_args(annotation):
        yield from models_in(arg)


def holders(model: type[BaseModel]) -> list[str]:
    """The documented models with a field that holds ``model``."""
    public = [getattr(m, n) for m in EXPORTING for n in public_names(m)]
    models = [c for c in public if inspect.isclass(c) and issubclass(c, BaseModel)]
    return [
        holder.__name__
        for holder in [*models, *nested_models()]
        if any(model in models_in(i.annotation) for i in holder.model_fields.values())
    ]


def nested_models() -> list[type[BaseModel]]:
    """Models the public specs hold that are not exported themselves (passed as dicts)."""
    public = {id(getattr(m, n)) for m in EXPORTING for n in public_names(m)}
    found: list[type[BaseModel]] = []

    def visit(model: type[BaseModel]) -> None:
        for info in model.model_fields.values():
            for nested in models_in(info.annotation):
                if id(nested) not in public and nested not in found:
                    found.append(nested)
                    visit(nested)

    for module in EXPORTING:
        for name in public_names(module):
            obj = getattr(module, name)
            if inspect.isclass(obj) and issubclass(obj, BaseModel):
                visit(obj)
    return found


def documented_names() -> set[str]:
    names = {n for m in EXPORTING for n in public_names(m)}
    return names | {m.__name__ for m in nested_models()}


# --- comments in the source ------------------------------------------------------------------


@cache
def _comments(source: str) -> dict[int, tuple[str, bool]]:
    """Line -> (comment text, whether the comment is the whole line)."""
    found: dict[int, tuple[str, bool]] = {}
    code_lines: set[int] = set()
    skip = (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            text = token.string.lstrip("#").strip()
            if not PRAGMA.match(text):
                found[token.start[0]] = (text, False)
        elif token.type not in skip:
            code_lines.update(range(token.start[0], token.end[0] + 1))
    return {line: (text, line not in code_lines) for line, (text, _) in found.items()}


def comment_of(source: str, node: ast.stmt) -> str:
    """The comment lines right above a statement, and a comment at the end of its lines."""
    comments = _comments(source)
    above: list[str] = []
    line = node.lineno - 1
    while line in comments and comments[line][1]:
        above.insert(0, comments[line][0])
        line -= 1
    end = node.end_lineno or node.lineno
    trailing = [
        comments[n][0] for n in range(node.lineno, end + 1) if n in comments and not comments[n][1]
    ]
    return " ".join([*above, *trailing])


def _assigned_name(node: ast.stmt) -> str | None:
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
        if isinstance(target, ast.Name):
            return target.id
    return None


@cache
def _source_of(obj: object) -> tuple[str, ast.Module] | None:
    try:
        source = inspect.getsource(obj)  # type: ignore[arg-type]
    except (OSError, TypeError):
        return None
    source = inspect.cleandoc("\n" + source) if source.startswith((" ", "\t")) else source
    return source, ast.parse(source)


def field_comments(cls: type) -> dict[str, str]:
    """A class's fields -> the comment that describes each."""
    found = _source_of(cls)
    if found is None:
        return {}
    source, tree = found
    body = next(n for n in tree.body if isinstance(n, ast.ClassDef)).body
    return {
        name: comment_of(source, node)
        for node in body
        if (name := _assigned_name(node)) is not None
    }


def _package_modules() -> Iterator[ModuleType]:
    yield va_platform.packaging
    yield standard
    yield va_platform.components
    prefix = va_platform.components.__name__ + "."
    for info in pkgutil.walk_packages(va_platform.components.__path__, prefix):
        yield importlib.import_module(info.name)


def constant_comment(name: str) -> str:
    """The comment above the module-level assignment of ``name``, in whichever library module
    assigns it."""
    for module in _package_modules():
        found = _source_of(module)
        if found is None:
            continue
        source, tree = found
        for node in tree.body:
            if _assigned_name(node) == name:
                comment = comment_of(source, node)
                if comment:
                    return comment
    return ""


# --- types, defaults, bounds -----------------------------------------------------------------


def linked(text: str) -> str:
    """``Input[str] | None`` for a table cell, each documented class a link to its section."""
    names = documented_names()

    def link(match: re.Match[str]) -> str:
        word = match.group(0)
        return f"[{word}](#{anchor(word)})" if word in names else word

    return re.sub(r"\b[A-Za-z_][A-Za-z0-9_]*\b", link, text).replace("|", "\\|")


def written_type(annotation: object) -> str:
    """A type as its source writes it, without module prefixes (``pulumi.Input[str]`` ->
    ``Input[str]``)."""
    text = annotation if isinstance(annotation, str) else _type_text(annotation)
    return re.sub(r"\b(?:pulumi|typing|collections\.abc)\.", "", text)


def _type_text(annotation: Any) -> str:
    """A resolved annotation (a spec's field) in the words a program's author writes."""
    if annotation == ArnInput:
        return "Input[str] (ARN)"
    if annotation == NameInput:
        return "Input[str] (name)"
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_text(args[0])
    if origin is Literal:
        return " | ".join(repr(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_union_parts(args))
    if origin is tuple:
        return f"tuple[{_type_text(args[0])}, ...]" if args else "tuple"
    if origin is not None:
        return f"{origin.__name__}[{', '.join(_type_text(a) for a in args)}]"
    if annotation is type(None):
        return "None"
    if annotation is Any:
        return "Any"
    return getattr(annotation, "__name__", str(annotation))


def _union_parts(args: tuple[Any, ...]) -> list[str]:
    """A union's members as written: ``pulumi.Input[T]`` (``T | Awaitable[T] | Output[T]``
    once evaluated) is ``Input[T]`` again."""
    inner = [typing.get_args(a)[0] for a in args if typing.get_origin(a) is Awaitable]
    if not inner:
        return [_type_text(a) for a in args]
    of_input = {inner[0], *(a for a in args if typing.get_origin(a) is Awaitable)}
    rest = [
        a
        for a in args
        if a not in of_input
        and not isinstance(a, typing.ForwardRef)
        and typing.get_origin(a) is not pulumi.Output
    ]
    return [f"Input[{_type_text(inner[0])}]", *(_type_text(a) for a in rest)]


def _repr(value: object) -> str:
    """A default as the code writes it (a path the same on every platform)."""
    if isinstance(value, PurePath):
        return f"Path({str(value)!r})"
    return repr(value)


def _value_text(value: object) -> str:
    if isinstance(value, BaseModel):
        return f"`{type(value).__name__}()`"
    if isinstance(value, tuple) and not value:
        return "`()`"
    return "`" + _repr(value).replace("|", "\\|") + "`"


def dataclass_default(field: dataclasses.Field[Any]) -> str:
    if field.default is not dataclasses.MISSING:
        return _value_text(field.default)
    if field.default_factory is not dataclasses.MISSING:
        return _value_text(field.default_factory())
    return "**required**"


def model_default(info: FieldInfo) -> str:
    if info.default_factory is not None:
        return _value_text(info.default_factory())  # type: ignore[call-arg]
    if info.default is PydanticUndefined:
        return "**required**"
    return _value_text(info.default)


def bounds(metadata: list[Any], annotation: Any = None) -> str:
    """What a spec's field allows beyond its type: the validators' ranges and lists, length
    and pattern constraints (inside an optional too)."""
    nested = [
        meta
        for arg in typing.get_args(annotation)
        if typing.get_origin(arg) is typing.Annotated
        for meta in typing.get_args(arg)[1:]
    ]
    parts = []
    for meta in [*metadata, *nested]:
        func = getattr(meta, "func", None)
        if isinstance(func, InRange | OneOf):
            parts.append(str(func))
        for attr, sign in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            if isinstance(meta, getattr(annotated_types, attr.capitalize())):
                parts.append(f"{sign} {getattr(meta, attr):g}")
        if isinstance(meta, annotated_types.MinLen):
            parts.append(f"at least {meta.min_length}")
        if isinstance(meta, annotated_types.MaxLen):
            parts.append(f"at most {meta.max_length}")
        pattern = getattr(meta, "pattern", None)
        if pattern:
            parts.append(f"matches `{pattern}`")
    return "; ".join(parts)


# --- sections --------------------------------------------------------------------------------


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def prose(text: str) -> str:
    """Docstring text for Markdown: ``<env>`` kept visible outside code spans."""
    parts = re.split(r"(`+[^`]*`+)", text)
    return "".join(p if p.startswith("`") else p.replace("<", "&lt;") for p in parts)


def cell(text: str) -> str:
    return prose(text).replace("\n", " ").replace("|", "\\|")


def signature_text(func: Callable[..., Any], name: str, *, skip_first: bool = False) -> str:
    """``name(a: T, *, b: U = 1) -> R`` with the annotations as written."""
    sig = inspect.signature(func)
    params = list(sig.parameters.values())[1 if skip_first else 0 :]
    shown, star = [], False
    for p in params:
        if p.kind is p.KEYWORD_ONLY and not star:
            shown.append("*")
            star = True
        prefix = "*" if p.kind is p.VAR_POSITIONAL else "**" if p.kind is p.VAR_KEYWORD else ""
        star = star or p.kind is p.VAR_POSITIONAL
        text = prefix + p.name
        if p.annotation is not p.empty:
            text += f": {written_type(p.annotation)}"
        if p.default is not p.empty:
            text += f" = {_repr(p.default)}"
        shown.append(text)
    returns = sig.return_annotation
    tail = (
        ""
        if returns is sig.empty or returns is None or returns == "None"
        else f" -> {written_type(returns)}"
    )
    return f"{name}({', '.join(shown)}){tail}"


def members(cls: type) -> list[str]:
    """The public methods and properties a class defines itself, one line each."""
    lines = []
    for name, value in cls.__dict__.items():
        if name.startswith("_") or name.startswith("model_"):
            continue
        if isinstance(value, property):
            doc = first_paragraph(own_doc(value.fget))
            lines.append(f"- `{name}` (property)" + (f": {prose(doc)}" if doc else ""))
            continue
        func = value.__func__ if isinstance(value, classmethod | staticmethod) else value
        if not inspect.isfunction(func):
            continue
        skip = not isinstance(value, staticmethod)
        text = signature_text(func, name, skip_first=skip)
        doc = first_paragraph(own_doc(func))
        lines.append(f"- `{text}`" + (f": {prose(doc)}" if doc else ""))
    return lines


def attributes(cls: type) -> list[str]:
    """The public attributes a component's constructor sets (``self.x = ...``), then those its
    class body declares (``http_api: HttpApi | None``: set by a helper, e.g. a trigger kind's
    resources on a VaLambda)."""
    found = _source_of(cls)
    if found is None:
        return []
    tree = found[1]
    init = next(
        (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "__init__"),
        None,
    )
    names: list[str] = []
    body = next((n.body for n in tree.body if isinstance(n, ast.ClassDef)), [])
    declared = [
        node.target.id
        for node in body
        if isinstance(node, ast.AnnAssign)
        and node.value is None
        and isinstance(node.target, ast.Name)
        and not node.target.id.startswith("_")
        and "ClassVar" not in ast.unparse(node.annotation)
    ]
    for node in ast.walk(init) if init else []:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign)
            else []
        )
        for target in targets:
            for item in target.elts if isinstance(target, ast.Tuple) else [target]:
                if (
                    isinstance(item, ast.Attribute)
                    and isinstance(item.value, ast.Name)
                    and item.value.id == "self"
                    and not item.attr.startswith("_")
                    and item.attr not in names
                ):
                    names.append(item.attr)
    return names + [name for name in declared if name not in names]


def component_section(name: str, cls: type) -> list[str]:
    init = cls.__init__  # type: ignore[misc]
    args = inspect.signature(init).parameters.get("args")
    args_type = written_type(args.annotation) if args is not None else ""
    token = f"va:{getattr(cls, 'MODULE', '')}:{cls.__name__}"
    lines = [
        f"### {name}",
        "",
        f"`{signature_text(init, name, skip_first=True)}`",
        "",
        f"Type token `{token}`" + (f"; arguments: {linked(args_type)}." if args_type else "."),
        "",
        prose(own_doc(cls)),
        "",
    ]
    attrs = attributes(cls)
    if attrs:
        lines += ["Attributes: " + ", ".join(f"`{a}`" for a in attrs) + ".", ""]
    methods = members(cls)
    if methods:
        lines += ["Methods:", "", *methods, ""]
    return lines


def field_rows(cls: type) -> list[str]:
    rows = ["| field | type | default | description |", "|---|---|---|---|"]
    if isinstance(cls, type) and issubclass(cls, BaseModel):
        for field_name, info in cls.model_fields.items():
            key = f"`{field_name}`"
            if info.alias and info.alias != field_name:
                key += f" (`{info.alias}`)"
            allowed = bounds(list(info.metadata), info.annotation)
            what = (info.description or "") + (f" Allowed: {allowed}." if allowed else "")
            rows.append(
                f"| {key} | {linked(_type_text(info.annotation))} | {model_default(info)} "
                f"| {cell(what)} |"
            )
        return rows
    comments = field_comments(cls)
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        what = comments.get(field.name, "")
        rows.append(
            f"| `{field.name}` | {linked(written_type(field.type))} | "
            f"{dataclass_default(field)} | {cell(what)} |"
        )
    return rows


def args_section(name: str, cls: type, note: str = "") -> list[str]:
    lines = [f"### {name}", ""]
    if note:
        lines += [note, ""]
    lines += [prose(own_doc(cls)), ""]
    fields = cls.model_fields if issubclass(cls, BaseModel) else dataclasses.fields(cls)  # type: ignore[arg-type]
    lines += [*field_rows(cls), ""] if fields else ["No fields.", ""]
    methods = members(cls)
    if methods:
        lines += ["Methods:", "", *methods, ""]
    return lines


def function_section(name: str, func: Callable[..., Any]) -> list[str]:
    return [f"### {name}", "", f"`{signature_text(func, name)}`", "", prose(own_doc(func)), ""]


def class_section(name: str, cls: type) -> list[str]:
    bases = ", ".join(b.__name__ for b in cls.__bases__)
    lines = [f"### {name}", "", f"`class {name}({bases})`", "", prose(own_doc(cls)), ""]
    return lines


def constant_section(name: str, value: object) -> list[str]:
    if typing.get_origin(value) is typing.Annotated:
        base = typing.get_args(value)[0]
        allowed = bounds(list(typing.get_args(value)[1:]))
        shown = f"A field type: {_type_text(value)}" + (
            "" if base is Any else f", allowed: {allowed}" if allowed else ""
        )
        head = f"{shown}."
    else:
        text = repr(value)
        head = f"`{name} = {text if len(text) <= 120 else text[:117] + '...'}`"
    return [f"### {name}", "", head, "", prose(constant_comment(name)), ""]


def section(name: str, obj: Any) -> list[str]:
    kind = kind_of(obj)
    if kind == "component":
        return component_section(name, obj)
    if kind == "args":
        return args_section(name, obj)
    if kind == "function":
        return function_section(name, obj)
    if kind == "class":
        return class_section(name, obj)
    return constant_section(name, obj)


def standard_section() -> list[str]:
    doc = own_doc(standard)
    lines = [
        "## va_platform.standard",
        "",
        prose(first_paragraph(doc)),
        "",
        "`from va_platform import standard`; its functions and classes:",
        "",
        "| name | what |",
        "|---|---|",
    ]
    for name, obj in vars(standard).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != standard.__name__:
            continue
        if inspect.isfunction(obj):
            shown = signature_text(obj, name)
        elif inspect.isclass(obj):
            shown = f"class {name}"
        else:
            continue
        doc = first_paragraph(own_doc(obj)) or "-"
        shown = shown.replace("|", "\\|")
        lines.append(f"| `{shown}` | {cell(doc)} |")
    return [*lines, ""]


HEADER = """# va-platform {version}: library reference

Generated from the code (`python -m va_platform.reference`); do not edit by hand.

{intro}

Install it in a Pulumi Python program's `requirements.txt`, at a release tag
(`va-platform @ git+<repository>@v{version}`) or by path; import only the names below:
`from va_platform.components import VaLambda, VaLambdaArgs`,
`from va_platform.packaging import build_zip`, `from va_platform import standard`.

Types are printed as the code writes them. `Input[str]` is `pulumi.Input[str]`: a literal
`str`, an `Output[str]` of the same program, or a `StackReference` output
(`ref.get_output("topicArn")`); in a spec (a pydantic model) `Input[str] (ARN)` and
`Input[str] (name)` take the same, and a literal is checked for its format on construction.
`Output[str]` is what a component gives (`VaKey.arn`). A spec's field takes its Python name or
its stack-config key (camelCase, in parentheses); nested specs may be given as dicts.
"""


def contents(groups: list[tuple[str, list[str]]]) -> list[str]:
    lines = ["## Contents", ""]
    for title, names in groups:
        links = ", ".join(f"[{n}](#{anchor(n)})" for n in names)
        lines.append(f"- [{title}](#{anchor(title)}): {links}")
    return [*lines, ""]


def render() -> str:
    components = va_platform.components
    by_kind: dict[str, list[str]] = {kind: [] for kind, _, _ in GROUPS}
    for name in public_names(components):
        kind = kind_of(getattr(components, name))
        by_kind["args" if kind == "class" else kind].append(name)
    packaging = public_names(va_platform.packaging)
    nested = [m.__name__ for m in nested_models()]
    titled = [(title, by_kind[kind]) for kind, title, _ in GROUPS]
    packaging_title = "va_platform.packaging"
    nested_title = "Nested specs"
    toc = [*titled, (packaging_title, packaging), (nested_title, nested)]
    intro = prose(own_doc(va_platform))
    parts = [HEADER.format(version=va_platform.__version__, intro=intro), *contents(toc)]
    parts.append(f"`{components.__name__}`: " + prose(first_paragraph(own_doc(components))))
    parts.append("")
    for kind, title, blurb in GROUPS:
        parts += [f"## {title}", ""] + ([blurb, ""] if blurb else [])
        for name in by_kind[kind]:
            parts += section(name, getattr(components, name))
    parts += [f"## {packaging_title}", "", prose(first_paragraph(own_doc(va_platform.packaging)))]
    parts.append("")
    for name in packaging:
        parts += section(name, getattr(va_platform.packaging, name))
    parts += [
        f"## {nested_title}",
        "",
        "Models the specs above hold; not exported: give them as dicts (Python names or "
        "config keys) in the spec that holds them.",
        "",
    ]
    for model in nested_models():
        held = ", ".join(f"[{h}](#{anchor(h)})" for h in holders(model))
        parts += args_section(model.__name__, model, f"Held by {held}.")
    parts += standard_section()
    return "\n".join(parts).rstrip("\n") + "\n"


# --- what the reference cannot describe yet ----------------------------------------------------


def undocumented_names() -> list[str]:
    """Public names with no docstring (classes, functions) or comment (constants, types)."""
    missing = []
    for module in EXPORTING:
        for name in public_names(module):
            obj = getattr(module, name)
            kind = kind_of(obj)
            described = constant_comment(name) if kind == "constant" else own_doc(obj)
            if not described:
                missing.append(f"{module.__name__}.{name}")
    return missing


def undocumented_fields() -> list[str]:
    """Fields of the public args classes and specs (and the specs they hold) with no
    description."""
    missing = []
    classes = [
        getattr(m, n)
        for m in EXPORTING
        for n in public_names(m)
        if kind_of(getattr(m, n)) == "args"
    ]
    for cls in [*classes, *nested_models()]:
        if issubclass(cls, BaseModel):
            missing += [
                f"{cls.__name__}.{n}" for n, i in cls.model_fields.items() if not i.description
            ]
        else:
            comments = field_comments(cls)
            missing += [
                f"{cls.__name__}.{f.name}"
                for f in dataclasses.fields(cls)
                if not comments.get(f.name)
            ]
    return missing


if __name__ == "__main__":
    sys.stdout.write(render())
