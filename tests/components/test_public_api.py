"""What a program outside this repository can import: every args class a public component or
spec holds (a field's type, however nested) is itself exported by ``va_platform.components``, so
a team can build it in code rather than guess its dict keys."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Iterator
from typing import Any

import pulumi
from pydantic import BaseModel

import va_platform.components as public


def is_args_class(obj: object) -> bool:
    """A config model or a dataclass of the library (what a caller constructs)."""
    return (
        inspect.isclass(obj)
        and obj.__module__.startswith("va_platform.")
        and (issubclass(obj, BaseModel) or dataclasses.is_dataclass(obj))
    )


def field_types(cls: type) -> list[Any]:
    if issubclass(cls, BaseModel):
        return [info.annotation for info in cls.model_fields.values()]
    # pulumi.Input[str] refers to "Output[T]" by name.
    return list(typing.get_type_hints(cls, localns={"Output": pulumi.Output, "T": Any}).values())


def classes_in(annotation: Any) -> Iterator[type]:
    if is_args_class(annotation):
        yield annotation
    for arg in typing.get_args(annotation):
        yield from classes_in(arg)


def reachable_args_classes() -> dict[str, str]:
    """Each args class reachable from an exported one -> the class whose field holds it."""
    found: dict[type, str] = {}
    todo = [getattr(public, n) for n in public.__all__ if is_args_class(getattr(public, n))]
    while todo:
        cls = todo.pop()
        for annotation in field_types(cls):
            for held in classes_in(annotation):
                if held not in found:
                    found[held] = cls.__name__
                    todo.append(held)
    return {held.__name__: holder for held, holder in found.items()}


def test_every_args_class_a_public_class_holds_is_exported() -> None:
    exported = {id(getattr(public, n)) for n in public.__all__}
    missing = {
        name: holder
        for name, holder in reachable_args_classes().items()
        if id(getattr(public, name, None)) not in exported
    }
    assert missing == {}, f"held by a public class but not exported: {missing}"


def test_destinations_can_be_built_from_the_public_api() -> None:
    destinations = public.Destinations(
        on_failure="arn:aws:sqs:eu-central-1:123456789012:orders-failed"
    )
    assert public.FunctionSpec(
        purpose="orders", code=public.ZipCode(path="fn"), destinations=destinations
    ).destinations.on_failure.endswith(":orders-failed")
