"""va-stack: the rules that need more than one resource.

Per Lambda function: its own role (no two functions share one), a log group with its name, a DLQ
or an on-failure destination, alarms on Errors, Throttles and Duration, and the security groups
attached to it egress-443-only with no ingress. Per S3 bucket: a public access block and a
server-side encryption configuration. Resources are matched by the names and ids they carry
(the stack's outputs); a value still unknown during preview is reported as not checked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

from . import standard
from .data import BUCKET_TYPES, PAB_TYPE
from .framework import Config, Family, Finding, Resource, string_list, unchecked, violation
from .network import (
    EC2_RULE_TYPE,
    SG_TYPES,
    VPC_EGRESS_TYPE,
    VPC_INGRESS_TYPE,
    LambdaGroupVerdict,
    lambda_sg_problems,
    lambda_sg_verdict,
)
from .props import UNKNOWN, get, items_of, plain
from .tables import FUNCTION_TYPE, LOG_GROUP_TYPE

ALARM_TYPE = "aws:cloudwatch/metricAlarm:MetricAlarm"
INVOKE_CONFIG_TYPE = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
SSE_TYPES = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
# A message names this many of the functions sharing a role (a stack with hundreds of them
# would otherwise repeat hundreds of names in each of hundreds of messages).
SHARED_ROLE_NAMES_SHOWN = 5
# Lambda metrics every function must alarm on (seed 000 §7).
REQUIRED_ALARM_METRICS: tuple[str, ...] = ("Errors", "Throttles", "Duration")
SETTINGS = {
    "requiredAlarmMetrics": string_list(
        REQUIRED_ALARM_METRICS, "AWS/Lambda metrics every function must have an alarm on."
    ),
}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _label(fn: Resource) -> str:
    """A function as people know it: its physical name, else its logical name."""
    return _str(fn.get("name")) or fn.name


def _function_keys(fn: Resource) -> set[str]:
    """How other resources may refer to a function: name, ARN, or ARN with a qualifier."""
    keys = {k for k in (_str(fn.get("name")), _str(fn.get("arn"))) if k}
    return keys | {k.rsplit(":", 1)[0] for k in keys if k.count(":") > 6}


class Index:
    """The stack's resources by type, and the references between them, built once per stack
    so that checking each function does not rescan every alarm, log group and rule."""

    def __init__(self, resources: list[Resource]) -> None:
        self.by_type: dict[str, list[Resource]] = defaultdict(list)
        self.position = {id(r): i for i, r in enumerate(resources)}
        for r in resources:
            self.by_type[r.type].append(r)
        self.log_groups = {_str(get(g.props, "name")) for g in self.of(LOG_GROUP_TYPE)}
        # Function names/ARNs with an on-failure destination configured.
        self.destinations = {
            _str(get(cfg.props, "functionName"))
            for cfg in self.of(INVOKE_CONFIG_TYPE)
            if get(cfg.props, "destinationConfig", "onFailure", "destination")
        }
        # Function name/ARN -> the AWS/Lambda metrics alarmed on.
        self.alarmed: dict[str | None, set[str | None]] = defaultdict(set)
        for alarm in self.of(ALARM_TYPE):
            if get(alarm.props, "namespace") == "AWS/Lambda":
                function = _str(get(alarm.props, "dimensions", "FunctionName"))
                self.alarmed[function].add(_str(get(alarm.props, "metricName")))
        # Security group id/ARN -> the groups, and the standalone rules naming that group.
        self.groups: dict[str, list[Resource]] = defaultdict(list)
        self._group_keys: dict[int, set[str]] = {}
        for sg in self.of(*SG_TYPES):
            keys = self._group_keys[id(sg)] = _group_keys(sg)
            for key in keys:
                self.groups[key].append(sg)
        self.group_rules: dict[str, list[Resource]] = defaultdict(list)
        for rule in self.of(EC2_RULE_TYPE, VPC_INGRESS_TYPE, VPC_EGRESS_TYPE):
            group = _str(get(rule.props, "securityGroupId"))
            if group:
                self.group_rules[group].append(rule)
        self._verdicts: dict[int, LambdaGroupVerdict] = {}
        self.blocked = {_str(get(p.props, "bucket")) for p in self.of(PAB_TYPE)}
        self.encrypted = {_str(get(s.props, "bucket")) for s in self.of(*SSE_TYPES)}

    def of(self, *types: str) -> list[Resource]:
        return [r for t in types for r in self.by_type.get(t, [])]

    def _unique(self, found: Iterable[Resource]) -> list[Resource]:
        """In stack order, each once (a group is found under its id and its ARN)."""
        return sorted({id(r): r for r in found}.values(), key=lambda r: self.position[id(r)])

    def groups_of(self, ids: Iterable[str]) -> list[Resource]:
        return self._unique(sg for i in ids for sg in self.groups.get(i, []))

    def verdict_of(self, sg: Resource) -> LambdaGroupVerdict:
        """A group's rules, inline and standalone, judged for Lambda once per group however
        many functions it is attached to."""
        cached = self._verdicts.get(id(sg))
        if cached is None:
            ingress, egress = items_of(sg.get("ingress")), items_of(sg.get("egress"))
            for rule in self._unique(
                r for k in self._group_keys[id(sg)] for r in self.group_rules.get(k, [])
            ):
                kind = (
                    get(rule.props, "type")
                    if rule.type == EC2_RULE_TYPE
                    else "ingress"
                    if rule.type == VPC_INGRESS_TYPE
                    else "egress"
                )
                (ingress if kind == "ingress" else egress).append(plain(rule.props))
            cached = self._verdicts[id(sg)] = lambda_sg_verdict(ingress, egress)
        return cached


def _shared_roles(ix: Index) -> Iterator[Finding]:
    users: dict[str, list[Resource]] = defaultdict(list)
    for fn in ix.of(FUNCTION_TYPE):
        role = _str(fn.get("role"))
        if role:
            users[role].append(fn)
    for role, fns in users.items():
        if len(fns) > 1:
            labels = sorted(_label(f) for f in fns)
            names = ", ".join(labels[:SHARED_ROLE_NAMES_SHOWN])
            if len(labels) > SHARED_ROLE_NAMES_SHOWN:
                names += f" and {len(labels) - SHARED_ROLE_NAMES_SHOWN} more"
            for fn in fns:
                yield violation(
                    f"function {_label(fn)!r} shares its role {role} with {names}; give each "
                    "function its own least-privilege role (VA standard: one role per function)",
                    fn.urn,
                )


def _log_group(fn: Resource, name: str, ix: Index) -> Iterator[Finding]:
    custom = _str(fn.get("loggingConfig", "logGroup"))
    expected = custom or standard.log_group_name(name)
    if expected not in ix.log_groups:
        yield violation(
            f"function {name!r} has no log group {expected!r} in the stack, so Lambda creates "
            "one itself, with no retention and outside IaC; create it with a retention",
            fn.urn,
        )


def _dlq(fn: Resource, keys: set[str], ix: Index) -> Iterator[Finding]:
    if fn.get("deadLetterConfig", "targetArn") is not None:
        return  # known or unknown, a target is configured
    if keys & ix.destinations:
        return
    yield violation(
        f"function {_label(fn)!r} has neither a dead-letter queue (deadLetterConfig.targetArn) "
        "nor an on-failure destination; failed async events would be lost",
        fn.urn,
    )


def _alarms(fn: Resource, keys: set[str], ix: Index, config: Config) -> Iterator[Finding]:
    covered = set().union(*(ix.alarmed.get(k, set()) for k in keys))
    missing = [m for m in config["requiredAlarmMetrics"] if m not in covered]
    if missing:
        yield violation(
            f"function {_label(fn)!r} has no alarm on {', '.join(missing)} (AWS/Lambda, dimension "
            "FunctionName); add them with an SNS action (VA standard: every function alarms on "
            "the required Lambda metrics)",
            fn.urn,
        )


def _group_keys(sg: Resource) -> set[str]:
    keys = {k for k in (_str(sg.get("id")), _str(sg.get("arn"))) if k}
    return keys | {k.rsplit("/", 1)[-1] for k in keys if k.startswith("arn:")}


def _security_groups(fn: Resource, ix: Index) -> Iterator[Finding]:
    ids = items_of(fn.get("vpcConfig", "securityGroupIds"))
    if fn.get("vpcConfig", "securityGroupIds") is UNKNOWN or UNKNOWN in ids:
        yield unchecked(f"the security groups of function {fn.name!r}", fn.urn)
        return
    for sg in ix.groups_of(i for i in ids if isinstance(i, str)):
        for f in lambda_sg_problems(
            f"security group {sg.name!r}", ix.verdict_of(sg), why=f"attached to {_label(fn)!r}"
        ):
            yield replace(f, urn=sg.urn)


def _function_problems(fn: Resource, ix: Index, config: Config) -> Iterator[Finding]:
    name = fn.get("name")
    if name is UNKNOWN:
        yield unchecked(f"the log group, DLQ and alarms of {fn.name!r} (name)", fn.urn)
        return
    name = _str(name) or fn.name
    keys = _function_keys(fn) | {name}
    yield from _log_group(fn, name, ix)
    yield from _dlq(fn, keys, ix)
    yield from _alarms(fn, keys, ix, config)
    yield from _security_groups(fn, ix)


def _bucket_problems(bucket: Resource, ix: Index) -> Iterator[Finding]:
    name = _str(bucket.get("bucket")) or _str(bucket.get("id"))
    if name is None:
        yield unchecked(f"the public access block and encryption of bucket {bucket.name!r}")
        return
    if name not in ix.blocked:
        yield violation(
            f"bucket {name!r} has no public access block; add one with all four flags true",
            bucket.urn,
        )
    inline = bucket.get("serverSideEncryptionConfiguration")
    if inline is None and name not in ix.encrypted:
        yield violation(
            f"bucket {name!r} has no server-side encryption configuration; add one "
            "(VA standard: aws:kms with a customer managed key)",
            bucket.urn,
        )


def check(resources: list[Resource], config: Config) -> Iterator[Finding]:
    ix = Index(resources)
    yield from _shared_roles(ix)
    for fn in ix.of(FUNCTION_TYPE):
        yield from _function_problems(fn, ix, config)
    for bucket in ix.of(*BUCKET_TYPES):
        yield from _bucket_problems(bucket, ix)


FAMILY = Family(
    name="va-stack",
    description=(
        "Each Lambda has its own role, a log group, a DLQ or on-failure destination, alarms on "
        "Errors/Throttles/Duration and an egress-443-only security group; each S3 bucket has "
        "a public access block and an encryption configuration."
    ),
    remediation=(
        "Add the missing resources named in the message: per function its own role, its log "
        "group, a DLQ or on-failure destination, the three alarms and a 443-only security "
        "group; per bucket a public access block and an encryption configuration."
    ),
    check=check,
    settings=SETTINGS,
    stack=True,
)
