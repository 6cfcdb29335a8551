"""va-runtime-patch (advisory): who patches what, when AWS does not patch the runtime for you.

AWS's shared-responsibility model for Lambda: with the runtime update mode Manual, a container
image or a ``provided.*`` custom runtime, AWS stops (or never starts) patching the language
runtime; "anything that the customer provides is their responsibility to patch". Nothing is wrong
with these choices, but each needs an owner and a rebuild cadence, so each is reported every time.
"""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import EnforcementLevel, Severity

from . import standard
from .framework import Config, Family, Finding, Resource, unchecked, violation
from .props import UNKNOWN
from .tables import FUNCTION_TYPE

RUNTIME_MANAGEMENT_TYPE = "aws:lambda/runtimeManagementConfig:RuntimeManagementConfig"

MANUAL = (
    "runtime update mode Manual: the function stays on runtime version {arn} and AWS applies no "
    "security patches to it until you move the pin. You patch: review AWS's runtime release "
    "notes monthly and update runtimeVersionArn, or switch back to Auto."
)
IMAGE = (
    "container image: AWS patches only the Lambda execution environment beneath it. You patch "
    "the base image's OS packages, the language runtime and every dependency in the image: "
    "rebuild from the latest pinned base and redeploy at least monthly and on every CVE notice."
)
CUSTOM = (
    "custom runtime {runtime}: AWS patches the {os} execution environment; you patch the "
    "runtime you ship (bootstrap, interpreter, layers): rebuild and redeploy on a cadence."
)


def check(r: Resource, config: Config) -> Iterator[Finding]:
    if r.type == RUNTIME_MANAGEMENT_TYPE:
        mode = r.get("updateRuntimeOn")
        if mode is UNKNOWN:
            yield unchecked("the runtime update mode (updateRuntimeOn)")
        elif mode == "Manual":
            arn = r.get("runtimeVersionArn")
            yield violation(MANUAL.format(arn=arn if isinstance(arn, str) else "(unset)"))
        return
    if r.type != FUNCTION_TYPE:
        return
    package_type, runtime = r.get("packageType"), r.get("runtime")
    if package_type is UNKNOWN or runtime is UNKNOWN:
        yield unchecked("the package type and runtime (packageType, runtime)")
    elif package_type == "Image":
        yield violation(IMAGE)
    elif isinstance(runtime, str) and runtime.startswith(standard.CUSTOM_RUNTIME_PREFIX):
        os_name = "Amazon Linux 2023" if runtime.endswith("al2023") else "Amazon Linux 2"
        yield violation(CUSTOM.format(runtime=runtime, os=os_name))


FAMILY = Family(
    name="va-runtime-patch",
    description=(
        "Functions whose runtime AWS does not patch (Manual update mode, container images, "
        "provided.* custom runtimes) are reported with who patches what."
    ),
    remediation=(
        "Name an owner and a rebuild cadence for the image or custom runtime (seed 001), or use "
        "a managed runtime with runtime updates on Auto."
    ),
    check=check,
    level=EnforcementLevel.ADVISORY,
    severity=Severity.MEDIUM,
    applies_to=frozenset([FUNCTION_TYPE, RUNTIME_MANAGEMENT_TYPE]).__contains__,
)
