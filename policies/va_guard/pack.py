"""The va-guard policies, in the order the SDK runs them (the notices policies last)."""

from __future__ import annotations

from pulumi_policy import EnforcementLevel, Policy

from . import (
    compute,
    data,
    iam,
    lambda_rules,
    naming,
    network,
    region,
    runtime_patch,
    secrets,
    stack,
    tagging,
)
from .framework import Family, notices_policies
from .version import PACK_NAME

__all__ = ["FAMILIES", "PACK_NAME", "build_policies", "pack_arguments"]
FAMILIES: tuple[Family, ...] = (
    naming.FAMILY,
    tagging.FAMILY,
    region.FAMILY,
    lambda_rules.FAMILY,
    runtime_patch.FAMILY,
    network.FAMILY,
    iam.FAMILY,
    data.FAMILY,
    secrets.FAMILY,
    compute.FAMILY,
    stack.FAMILY,
)


def build_policies() -> list[Policy]:
    policies: list[Policy] = [f.policy() for f in FAMILIES]
    return policies + list(notices_policies(FAMILIES))


def pack_arguments() -> dict[str, object]:
    """What ``__main__.py`` passes to ``PolicyPack`` (kept here so tests can check it)."""
    return {
        "name": PACK_NAME,
        "policies": build_policies(),
        "enforcement_level": EnforcementLevel.MANDATORY,
        "description": "The Virtual Agentics Lambda standard: naming, tagging, region, IAM, "
        "network and data rules for every stack of the organisation.",
        "display_name": "VA guard",
        "provider": "aws",
        "tags": ["aws", "lambda", "virtualagentics"],
    }
