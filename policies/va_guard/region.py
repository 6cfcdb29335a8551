"""va-region: everything in eu-central-1 (the Control Tower SCP on regions).

pulumi-aws v7 providers are multi-region: a resource's own ``region`` overrides its provider's.
Both must be allowed. A provider without a region takes it from whoever runs ``pulumi up``
(``AWS_REGION``), which is how resources end up in the wrong region: that is a violation too.
"""

from __future__ import annotations

from collections.abc import Iterator

from . import standard
from .framework import Config, Family, Finding, Resource, string_list, unchecked, violation
from .props import UNKNOWN, get, shown

SETTINGS = {
    "allowedRegions": string_list(standard.ALLOWED_REGIONS, "AWS regions resources may live in."),
}
AWS_PROVIDER_TYPE = "pulumi:providers:aws"
# AWS through the Cloud Control provider: the same SCP applies to what it creates.
PROVIDER_TYPES = (AWS_PROVIDER_TYPE, "pulumi:providers:aws-native")
RESOURCE_PREFIXES = ("aws:", "aws-native:")


def _region_problem(where: str, region: object, config: Config) -> Iterator[Finding]:
    allowed = ", ".join(config["allowedRegions"])
    if region is UNKNOWN:
        yield unchecked(f"the region ({where})")
    elif region is None or region == "":
        yield violation(
            f"{where} sets no region, so it would follow AWS_REGION of whoever deploys; set "
            f"aws:region to {allowed}"
        )
    elif region not in config["allowedRegions"]:
        yield violation(
            f"{where} is {shown(region)}; only {allowed} is allowed (Control Tower SCP)"
        )


def check(r: Resource, config: Config) -> Iterator[Finding]:
    if r.type in PROVIDER_TYPES:
        yield from _region_problem("the provider's region", r.get("region"), config)
        return
    if not r.type.startswith(RESOURCE_PREFIXES):
        return
    own = r.get("region")
    if own is not None:
        yield from _region_problem("the resource's region", own, config)
    if r.provider_type in PROVIDER_TYPES:
        yield from _region_problem("the region of its provider", get(r.provider, "region"), config)


FAMILY = Family(
    name="va-region",
    description="AWS resources and providers are in eu-central-1 only.",
    remediation=(
        "Set `aws:region: eu-central-1` in the stack config (or region= on the explicit "
        "provider) and remove any other region= argument from the resource."
    ),
    check=check,
    settings=SETTINGS,
    applies_to=lambda type_: type_.startswith(RESOURCE_PREFIXES) or type_ in PROVIDER_TYPES,
)
