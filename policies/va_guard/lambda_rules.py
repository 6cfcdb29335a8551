"""va-lambda: the VA Lambda standard on each function and log group.

Checked per function: runtime allowed and not deprecated (advisory inside the warning window,
mandatory from the deprecation date), memory and timeout within limits, attached to a VPC, no
plaintext secret in the environment. Per log group: a retention. Whether each function has a
DLQ or on-failure destination, a log group and alarms needs the other resources: va-stack.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta

from . import standard, triggers
from .framework import (
    Config,
    Family,
    Finding,
    Resource,
    integer,
    string_list,
    unchecked,
    violation,
    warning,
)
from .props import UNKNOWN, items_of, number, shown, string_map
from .tables import FUNCTION_TYPE, LOG_GROUP_TYPE

RUNTIME_WARNING_WINDOW_DAYS = 180  # AWS starts its deprecation notices 180 days ahead
SETTINGS = {
    "allowedRuntimes": string_list(
        standard.RUNTIME_DEPRECATION,
        "Runtimes a zip function may use (deprecated ones still fail).",
    ),
    "warningWindowDays": integer(
        RUNTIME_WARNING_WINDOW_DAYS,
        "Days before a runtime's deprecation date from which an advisory warning is reported.",
    ),
    "memoryMinMb": integer(standard.MEMORY_MB_RANGE[0], "Smallest allowed memorySize (MB).", 128),
    "memoryMaxMb": integer(standard.MEMORY_MB_RANGE[1], "Largest allowed memorySize (MB).", 128),
    "timeoutMaxSeconds": integer(standard.TIMEOUT_S_RANGE[1], "Largest allowed timeout (s).", 1),
}
# Lambda's own defaults when the property is not set.
AWS_DEFAULT_MEMORY_MB = 128
AWS_DEFAULT_TIMEOUT_S = 3

# Key names that announce a credential; their value must be a reference, not the credential.
SECRET_KEY_NAME_RE = re.compile(r"KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)
# A reference: an ARN, a VA secret name, an SSM parameter path; or a plain number or flag.
REFERENCE_RE = re.compile(r"^(arn:|va/|/)|^(\d+|true|false)$", re.IGNORECASE)


def today() -> date:
    return date.today()


def _check_runtime(r: Resource, config: Config) -> Iterator[Finding]:
    package_type = r.get("packageType")
    if package_type == "Image":
        return  # the image brings its runtime: va-runtime-patch says who patches it
    runtime = r.get("runtime")
    if runtime is UNKNOWN:
        yield unchecked("the runtime (runtime)")
        return
    allowed = config["allowedRuntimes"]
    now = today()
    # Advice names only what is allowed and still patched today.
    advice = (
        ", ".join(x for x in allowed if not standard.runtime_is_deprecated(x, now))
        or "a runtime AWS still supports"
    )
    if not isinstance(runtime, str) or not runtime:
        yield violation(f"no runtime is set for a zip function; use one of {advice}")
        return
    if runtime not in allowed:
        yield violation(f"runtime {runtime!r} is not allowed; use one of {advice}")
        return
    deprecated_on = standard.RUNTIME_DEPRECATION.get(runtime)
    if deprecated_on is None:
        return
    if now >= deprecated_on:
        yield violation(
            f"runtime {runtime!r} was deprecated on {deprecated_on.isoformat()}: AWS no longer "
            f"patches it; move to {advice}"
        )
    elif now >= deprecated_on - timedelta(days=config["warningWindowDays"]):
        yield warning(
            f"runtime {runtime!r} is deprecated on {deprecated_on.isoformat()} "
            f"({(deprecated_on - now).days} days); plan the upgrade now, it fails this policy "
            "from that day"
        )


def _check_limits(r: Resource, config: Config) -> Iterator[Finding]:
    memory = r.get("memorySize")
    if memory is UNKNOWN:
        yield unchecked("the memory size (memorySize)")
    else:
        mb = number(memory) if memory is not None else AWS_DEFAULT_MEMORY_MB
        lo, hi = config["memoryMinMb"], config["memoryMaxMb"]
        if mb is None or not lo <= mb <= hi:
            yield violation(f"memorySize={shown(memory)} is outside {lo:g}-{hi:g} MB")
    timeout = r.get("timeout")
    if timeout is UNKNOWN:
        yield unchecked("the timeout (timeout)")
    else:
        seconds = number(timeout) if timeout is not None else AWS_DEFAULT_TIMEOUT_S
        hi = config["timeoutMaxSeconds"]
        if seconds is None or not 1 <= seconds <= hi:
            yield violation(f"timeout={shown(timeout)} is outside 1-{hi:g} s (VA standard: 5 min)")


def _check_vpc(r: Resource) -> Iterator[Finding]:
    vpc = r.get("vpcConfig")
    if vpc is UNKNOWN:
        yield unchecked("the VPC attachment (vpcConfig)")
        return
    subnets, groups = r.get("vpcConfig", "subnetIds"), r.get("vpcConfig", "securityGroupIds")
    if subnets is UNKNOWN or groups is UNKNOWN:
        return  # ids of subnets/groups created in the same run: attached, ids known at apply
    if not items_of(subnets) or not items_of(groups):
        yield violation(
            "the function is not attached to a VPC; set vpcConfig.subnetIds to private subnets "
            "and vpcConfig.securityGroupIds to the Lambda security group"
        )


def _check_environment(r: Resource) -> Iterator[Finding]:
    variables = r.get("environment", "variables")
    if variables is UNKNOWN:
        yield unchecked("the environment variables (environment.variables)")
        return
    unknown = []
    for key, value in string_map(variables).items():
        if value is UNKNOWN:
            unknown.append(key)
            continue
        if r.secret_at("environment", "variables", key):
            continue  # a secret-marked value: va-secrets says where it belongs, once
        kind = standard.secret_value_kind(value)
        if kind is not None:
            yield violation(
                f"environment variable {key} holds what looks like {kind} (value not shown); "
                "store it in Secrets Manager and pass the secret's ARN or name instead"
            )
        elif (
            SECRET_KEY_NAME_RE.search(key)
            and isinstance(value, str)
            and value
            and not REFERENCE_RE.match(value)
        ):
            yield violation(
                f"environment variable {key} is named like a credential and holds a literal "
                "(value not shown), not an ARN or secret name; store the value in Secrets "
                "Manager and pass its ARN or va/<env>/<name>"
            )
    if unknown:
        yield unchecked(f"environment variables {', '.join(sorted(unknown))}")


def _check_log_group(r: Resource) -> Iterator[Finding]:
    retention = r.get("retentionInDays")
    if retention is UNKNOWN:
        yield unchecked("the log retention (retentionInDays)")
    elif not number(retention):
        yield violation(
            "the log group has no retention, so its logs are kept (and paid for) forever; set "
            "retentionInDays (VA: 14 in dev, 90 in prod)"
        )


def check(r: Resource, config: Config) -> Iterator[Finding]:
    if r.type == FUNCTION_TYPE:
        yield from _check_runtime(r, config)
        yield from _check_limits(r, config)
        yield from _check_vpc(r)
        yield from _check_environment(r)
    elif r.type == LOG_GROUP_TYPE:
        yield from _check_log_group(r)
    elif r.type in triggers.TYPES:
        yield from triggers.check(r)


FAMILY = Family(
    name="va-lambda",
    description=(
        "Lambda functions use a supported runtime, memory 128-10240 MB, timeout <= 300 s, a "
        "VPC and no plaintext secrets in their environment; log groups have a retention; "
        "function URLs take signed calls only, schedules dead-letter, provisioned concurrency "
        "sits on an alias, API Gateway may invoke a function only for the API it names."
    ),
    remediation=(
        "VA Lambda standard: set a supported runtime, memorySize, timeout (<= 300 s), "
        "vpcConfig (private subnets, the Lambda security group) and environment variables "
        "holding secret ARNs/names only; set retentionInDays on log groups."
    ),
    check=check,
    settings=SETTINGS,
    applies_to=frozenset([FUNCTION_TYPE, LOG_GROUP_TYPE, *triggers.TYPES]).__contains__,
)
