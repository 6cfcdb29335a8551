"""Calling one rule family directly, as the SDK would, without a pack process."""

from __future__ import annotations

from typing import Any

from policies.va_guard.framework import Family, Resource
from va_platform import standard

ENV_TAGS = standard.standard_tags("dev", "core", "va-dev-core-thing", "platform-team")
PROVIDER = {"region": "eu-central-1"}
AWS_PROVIDER = "pulumi:providers:aws"


def resource(type_: str, props: dict[str, Any], name: str = "thing", **kw: Any) -> Resource:
    return Resource.of(
        type_,
        name,
        f"urn:pulumi:dev::proj::{type_}::{name}",
        props,
        kw.get("provider", PROVIDER),
        kw.get("provider_type", AWS_PROVIDER),
        kw.get("dependencies"),
        kw.get("secrets", ()),
    )


def run(
    family: Family,
    type_: str,
    props: dict[str, Any],
    config: dict[str, Any] | None = None,
    **kw: Any,
) -> tuple[list[str], list[str]]:
    """(violations, notices) of one family for one resource."""
    return family.evaluate(resource(type_, props, **kw), family.config(config))


def violations(family: Family, type_: str, props: dict[str, Any], **kw: Any) -> list[str]:
    return run(family, type_, props, **kw)[0]
