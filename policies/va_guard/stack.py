"""va-stack: the rules that need more than one resource.

Per Lambda function: its own role (no two functions share one), a log group with its name, a DLQ
or an on-failure destination, alarms on Errors, Throttles and Duration, and the security groups
attached to it with no ingress and egress TCP 443, or a port of a named security group or prefix
list (a database on 5432 through the function's own group), never a CIDR on another port; inline
and standalone rules alike. Per S3 bucket: a public access block and a
server-side encryption configuration. Per SQS event source mapping: the queue it reads has a
redrive policy (a dead-letter queue). Per REST API: no method or OpenAPI route without
authorization in front of a function (``rest_api``). Per secret version, database or cache: no
credential written in the program (``secrets.literal_credential_problems``).

Resources are matched by the names, ids and ARNs they carry (the stack's outputs). On a first
preview those are unknown for every resource still to be created (``bucket = bucket.id``); then
the engine's ``propertyDependencies`` say which resource the value came from, and the link holds
through it. Only a link the engine gives no way to resolve is reported as not checked: never a
violation built on a value the rule could not see.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

from . import rest_api, sdk_compat, secrets, standard
from .data import BUCKET_TYPES, PAB_TYPE
from .framework import (
    Config,
    Family,
    Finding,
    Resource,
    could_not_check,
    string_list,
    unchecked,
    unknown_link,
    violation,
    warning,
)
from .network import (
    EC2_RULE_TYPE,
    SG_TYPES,
    VPC_EGRESS_TYPE,
    VPC_INGRESS_TYPE,
    LambdaGroupVerdict,
    is_open,
    lambda_sg_problems,
    lambda_sg_verdict,
)
from .props import UNKNOWN, get, items_of, plain
from .tables import FUNCTION_TYPE, LOG_GROUP_TYPE

ALARM_TYPE = "aws:cloudwatch/metricAlarm:MetricAlarm"
INVOKE_CONFIG_TYPE = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
ROLE_TYPE = "aws:iam/role:Role"
ESM_TYPE = "aws:lambda/eventSourceMapping:EventSourceMapping"
QUEUE_TYPE = "aws:sqs/queue:Queue"
REDRIVE_TYPE = "aws:sqs/redrivePolicy:RedrivePolicy"
PREFIX_LIST_TYPE = "aws:ec2/managedPrefixList:ManagedPrefixList"
PREFIX_LIST_ENTRY_TYPE = "aws:ec2/managedPrefixListEntry:ManagedPrefixListEntry"
SSE_TYPES = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
# A message names this many of the functions sharing a role (a stack with hundreds of them
# would otherwise repeat hundreds of names in each of hundreds of messages).
SHARED_ROLE_NAMES_SHOWN = 5
# Lambda metrics every function must alarm on: the VA standard's monitoring rule, which the
# library's VaLambda meets (src/va_platform/components/lambda_function/alarms.py).
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
    """How other resources may refer to a function: name, ARN, ARN with a qualifier, or (through
    the engine's propertyDependencies) its URN."""
    keys = {k for k in (_str(fn.get("name")), _str(fn.get("arn"))) if k}
    return keys | {k.rsplit(":", 1)[0] for k in keys if k.count(":") > 6} | {fn.urn}


def _group_keys(sg: Resource) -> set[str]:
    keys = {k for k in (_str(sg.get("id")), _str(sg.get("arn"))) if k}
    return keys | {k.rsplit("/", 1)[-1] for k in keys if k.startswith("arn:")} | {sg.urn}


def _bucket_keys(bucket: Resource) -> set[str]:
    return {k for k in (_str(bucket.get("bucket")), _str(bucket.get("id"))) if k} | {bucket.urn}


class Index:
    """The stack's resources by type, and the references between them, built once per stack
    so that checking each function does not rescan every alarm, log group and rule.

    A reference is the value a resource carries (a name, id or ARN) or, when that value is
    unknown, the URNs of the resources of the expected types it came from. A reference that is
    unknown and comes from no such resource is kept in ``unresolved``, by relation."""

    def __init__(self, resources: list[Resource]) -> None:
        self.by_type: dict[str, list[Resource]] = defaultdict(list)
        self.by_urn = {r.urn: r for r in resources}
        self.position = {id(r): i for i, r in enumerate(resources)}
        for r in resources:
            self.by_type[r.type].append(r)
        self.unresolved: dict[str, list[Resource]] = defaultdict(list)
        self.log_groups = {_str(get(g.props, "name")) for g in self.of(LOG_GROUP_TYPE)}
        self.unresolved["log group"] = [
            g for g in self.of(LOG_GROUP_TYPE) if get(g.props, "name") is UNKNOWN
        ]
        # Keys of the functions with an on-failure destination configured.
        self.destinations: set[str] = set()
        for cfg in self.of(INVOKE_CONFIG_TYPE):
            destination = get(cfg.props, "destinationConfig", "onFailure", "destination")
            if destination is UNKNOWN or destination:  # unknown: set, to a resource to create
                self.destinations |= self.refs(cfg, "functionName", (FUNCTION_TYPE,), "destination")
        # Function key -> the AWS/Lambda metrics alarmed on.
        self.alarmed: dict[str, set[str | None]] = defaultdict(set)
        for alarm in self.of(ALARM_TYPE):
            if get(alarm.props, "namespace") == "AWS/Lambda":
                metric = _str(get(alarm.props, "metricName"))
                for key in self.refs(
                    alarm, "dimensions", (FUNCTION_TYPE,), "alarm", "FunctionName"
                ):
                    self.alarmed[key].add(metric)
        # Security group key -> the groups, and the standalone rules naming that group.
        self.groups: dict[str, list[Resource]] = defaultdict(list)
        self._group_keys: dict[int, set[str]] = {}
        for sg in self.of(*SG_TYPES):
            keys = self._group_keys[id(sg)] = _group_keys(sg)
            for key in keys:
                self.groups[key].append(sg)
        self.group_rules: dict[str, list[Resource]] = defaultdict(list)
        for rule in self.of(EC2_RULE_TYPE, VPC_INGRESS_TYPE, VPC_EGRESS_TYPE):
            for key in self.refs(rule, "securityGroupId", SG_TYPES, "security group rule"):
                self.group_rules[key].append(rule)
        # Ids (and ARNs) of the stack's prefix lists that hold the internet: egress "to a prefix
        # list" naming one of these is egress to 0.0.0.0/0.
        self.open_prefix_lists: set[str] = set()
        for pl in self.of(PREFIX_LIST_TYPE):
            if any(is_open(get(e, "cidr")) for e in items_of(get(pl.props, "entries"))):
                self.open_prefix_lists |= {k for k in (pl.get("id"), pl.get("arn")) if _str(k)}
        for entry in self.of(PREFIX_LIST_ENTRY_TYPE):
            if is_open(get(entry.props, "cidr")):
                listed = get(entry.props, "prefixListId")
                self.open_prefix_lists |= {listed} if _str(listed) else set()
        self._verdicts: dict[int, LambdaGroupVerdict] = {}
        self.blocked: set[str] = set()
        for pab in self.of(PAB_TYPE):
            self.blocked |= self.refs(pab, "bucket", BUCKET_TYPES, "public access block")
        self.encrypted: set[str] = set()
        for sse in self.of(*SSE_TYPES):
            self.encrypted |= self.refs(sse, "bucket", BUCKET_TYPES, "encryption configuration")

    def of(self, *types: str) -> list[Resource]:
        return [r for t in types for r in self.by_type.get(t, [])]

    def refs(
        self, r: Resource, prop: str, types: tuple[str, ...], relation: str, *path: str
    ) -> set[str]:
        """The keys ``r``'s ``prop`` (at ``path`` inside it) refers to: the value when known,
        else the URNs of the resources of ``types`` the property came from (the engine's
        propertyDependencies); unresolvable ones are kept under ``relation``."""
        value = get(r.props, prop, *path)
        if value is not UNKNOWN:
            return {value} if _str(value) else set()
        urns = self.came_from(r, prop, types)
        if not urns:
            self.unresolved[relation].append(r)
        return urns

    def came_from(self, r: Resource, prop: str, types: tuple[str, ...]) -> set[str]:
        """The URNs of the stack's resources of ``types`` that ``r``'s ``prop`` was computed
        from (the engine's propertyDependencies)."""
        return {
            u
            for u in r.dependencies.get(prop, ())
            if u in self.by_urn and self.by_urn[u].type in types
        }

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
            ingress, egress = _rule_list(sg.get("ingress")), _rule_list(sg.get("egress"))
            cached = self._verdicts[id(sg)] = self._with_standalone(
                self._group_keys[id(sg)], ingress, egress
            )
        return cached

    def _with_standalone(
        self, keys: Iterable[str], ingress: list[Any], egress: list[Any]
    ) -> LambdaGroupVerdict:
        """The verdict on ``ingress``/``egress`` plus the standalone rules naming ``keys``."""
        for rule in self._unique(r for k in keys for r in self.group_rules.get(k, [])):
            kind = (
                get(rule.props, "type")
                if rule.type == EC2_RULE_TYPE
                else "ingress"
                if rule.type == VPC_INGRESS_TYPE
                else "egress"
            )
            (ingress if kind == "ingress" else egress).append(plain(rule.props))
        return lambda_sg_verdict(ingress, egress, self.open_prefix_lists)

    def standalone_verdict(self, group_id: str) -> LambdaGroupVerdict | None:
        """For a group not declared in the stack: the stack's own rules on it (None: none)."""
        if not self.group_rules.get(group_id):
            return None
        return self._with_standalone([group_id], [], [])

    def missing(self, relation: str, whether: str, message: str, urn: str) -> Finding:
        """A companion not found: a violation, unless a companion of that relation names a
        resource that is not known yet (it may be this one): then a notice."""
        unresolved = self.unresolved.get(relation)
        if unresolved:
            until = f"the resource that {relation} {unresolved[0].name!r} names"
            return unknown_link(whether, until, urn)
        return violation(message, urn)


def _role_keys(fn: Resource, ix: Index) -> set[str]:
    """The role a function runs as: its ARN, or the role resource it came from; a role whose
    ARN is unknown counts by its URN, so functions sharing it are still found."""
    keys = ix.refs(fn, "role", (ROLE_TYPE,), "role")
    return {_str(ix.by_urn[k].get("arn")) or k if k in ix.by_urn else k for k in keys}


def _shared_roles(ix: Index) -> Iterator[Finding]:
    users: dict[str, list[Resource]] = defaultdict(list)
    for fn in ix.of(FUNCTION_TYPE):
        keys = _role_keys(fn, ix)
        if not keys and fn.get("role") is UNKNOWN:
            yield unknown_link(
                f"whether function {_label(fn)!r} shares its role", "its role", fn.urn
            )
        for key in keys:
            users[key].append(fn)
    for role, fns in users.items():
        if len(fns) > 1:
            labels = sorted(_label(f) for f in fns)
            names = ", ".join(labels[:SHARED_ROLE_NAMES_SHOWN])
            if len(labels) > SHARED_ROLE_NAMES_SHOWN:
                names += f" and {len(labels) - SHARED_ROLE_NAMES_SHOWN} more"
            shown = ix.by_urn[role].name if role in ix.by_urn else role
            for fn in fns:
                yield violation(
                    f"function {_label(fn)!r} shares its role {shown} with {names}; give each "
                    "function its own least-privilege role (VA standard: one role per function)",
                    fn.urn,
                )


def _log_group(fn: Resource, name: str, ix: Index) -> Iterator[Finding]:
    custom = fn.get("loggingConfig", "logGroup")
    if custom is UNKNOWN:
        if ix.refs(fn, "loggingConfig", (LOG_GROUP_TYPE,), "function log group", "logGroup"):
            return  # the function logs to a log group of this stack
        yield unknown_link(
            f"whether function {name!r} has a log group", "the log group it names", fn.urn
        )
        return
    expected = _str(custom) or standard.log_group_name(name)
    if expected not in ix.log_groups:
        yield ix.missing(
            "log group",
            f"whether function {name!r} has its log group {expected!r}",
            f"function {name!r} has no log group {expected!r} in the stack, so Lambda creates "
            "one itself, with no retention and outside IaC; create it with a retention",
            fn.urn,
        )


def _dlq(fn: Resource, keys: set[str], ix: Index) -> Iterator[Finding]:
    if fn.get("deadLetterConfig", "targetArn") is not None:
        return  # known or unknown, a target is configured
    if keys & ix.destinations:
        return
    yield ix.missing(
        "destination",
        f"whether function {_label(fn)!r} has an on-failure destination",
        f"function {_label(fn)!r} has neither a dead-letter queue (deadLetterConfig.targetArn) "
        "nor an on-failure destination; failed async events would be lost",
        fn.urn,
    )


def _alarms(fn: Resource, keys: set[str], ix: Index, config: Config) -> Iterator[Finding]:
    covered = set().union(*(ix.alarmed.get(k, set()) for k in keys))
    missing = [m for m in config["requiredAlarmMetrics"] if m not in covered]
    if missing:
        yield ix.missing(
            "alarm",
            f"whether function {_label(fn)!r} has alarms on {', '.join(missing)}",
            f"function {_label(fn)!r} has no alarm on {', '.join(missing)} (AWS/Lambda, dimension "
            "FunctionName); add them with an SNS action (VA standard: every function alarms on "
            "the required Lambda metrics)",
            fn.urn,
        )


def _rule_list(value: Any) -> list[Any]:
    """A group's inline rules; a list not known yet is one unknown rule (so: unchecked)."""
    return [UNKNOWN] if value is UNKNOWN else items_of(value)


def _groups_declared_elsewhere(fn: Resource, ids: list[str], ix: Index) -> Iterator[Finding]:
    """Groups attached by an id no group of this stack has: their own rules cannot be seen, but
    this stack's standalone rules on them are judged like any Lambda group's."""
    for group_id in ids:
        if ix.groups.get(group_id):
            continue
        yield Finding(
            f"could not check the rules of security group {group_id!r} attached to "
            f"{_label(fn)!r}: it is not declared in this stack; check it where it is declared "
            "(a Lambda group: no ingress, egress TCP 443 or a port of a named target)",
            "unchecked",
            fn.urn,
        )
        verdict = ix.standalone_verdict(group_id)
        if verdict is not None:
            yield from (
                replace(f, urn=fn.urn)
                for f in lambda_sg_problems(
                    f"security group {group_id!r}", verdict, why=f"attached to {_label(fn)!r}"
                )
            )


def _security_groups(fn: Resource, ix: Index) -> Iterator[Finding]:
    ids = fn.get("vpcConfig", "securityGroupIds")
    listed = items_of(ids)
    groups = ix.groups_of(i for i in listed if isinstance(i, str))
    yield from _groups_declared_elsewhere(fn, [i for i in listed if isinstance(i, str)], ix)
    if ids is UNKNOWN or UNKNOWN in listed:
        from_deps = ix.came_from(fn, "vpcConfig", SG_TYPES)
        if not from_deps:
            yield unknown_link(
                f"which security groups function {_label(fn)!r} is attached to",
                "the groups it names",
                fn.urn,
            )
        groups = ix._unique([*groups, *ix.groups_of(from_deps)])
    for sg in groups:
        if ix.unresolved.get("security group rule"):
            rule = ix.unresolved["security group rule"][0]
            yield unknown_link(
                f"whether standalone rule {rule.name!r} applies to security group {sg.name!r}",
                "the group it names",
                sg.urn,
            )
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
    keys = _bucket_keys(bucket)
    label = _str(bucket.get("bucket")) or _str(bucket.get("id"))
    shown = repr(label) if label else repr(bucket.name)
    if not keys & ix.blocked:
        yield _bucket_missing(
            ix,
            "public access block",
            label is None and bool(ix.blocked),
            f"whether bucket {shown} has a public access block",
            f"bucket {shown} has no public access block; add one with all four flags true",
            bucket.urn,
        )
    inline = bucket.get("serverSideEncryptionConfiguration")
    if inline is None and not keys & ix.encrypted:
        yield _bucket_missing(
            ix,
            "encryption configuration",
            label is None and bool(ix.encrypted),
            f"whether bucket {shown} has a server-side encryption configuration",
            f"bucket {shown} has no server-side encryption configuration; add one "
            "(VA standard: aws:kms with a customer managed key)",
            bucket.urn,
        )


def _bucket_missing(
    ix: Index, relation: str, name_needed: bool, whether: str, message: str, urn: str
) -> Finding:
    """``name_needed``: companions name buckets this one may be, but its name is not known."""
    if name_needed:
        return unknown_link(whether, "the bucket", urn)
    return ix.missing(relation, whether, message, urn)


def _guarded(subject: Resource, findings: Iterable[Finding]) -> Iterator[Finding]:
    """One resource's findings; a crash on it fails closed on it, the others are still checked."""
    try:
        yield from findings
    except Exception as exc:  # noqa: BLE001 - a rule bug must be visible, never a crash
        yield could_not_check(exc, FAMILY.name, subject.urn)


def _queue_keys(queue: Resource) -> set[str]:
    return {k for k in (_str(queue.get(p)) for p in ("arn", "url", "id", "name")) if k}


def _queue_trigger_problems(esm: Resource, ix: Index) -> Iterator[Finding]:
    """An SQS event source must end in a DLQ: Lambda retries a failing message until it
    expires, and then it is gone. The queue is found by its ARN, or on a first preview through
    the mapping's propertyDependencies; a queue of another stack is named as not checked."""
    source = esm.get("eventSourceArn")
    if source is not UNKNOWN and not (_str(source) or "").startswith("arn:aws:sqs:"):
        return  # a stream or another source: its own retry settings apply
    keys = ix.refs(esm, "eventSourceArn", (QUEUE_TYPE,), "event source")
    queues = ix._unique(q for q in ix.of(QUEUE_TYPE) if _queue_keys(q) & keys or q.urn in keys)
    if not queues:
        if source is UNKNOWN:
            yield unchecked("the queue the event source mapping reads (eventSourceArn)", esm.urn)
        else:
            yield warning(
                f"queue {source} is not in this stack, so whether it has a redrive policy is "
                "not checked; make sure it redrives to a dead-letter queue",
                esm.urn,
            )
        return
    redriven = {
        key
        for rp in ix.of(REDRIVE_TYPE)
        for key in ix.refs(rp, "queueUrl", (QUEUE_TYPE,), "redrive policy")
    }
    for q in queues:
        policy = q.get("redrivePolicy")
        if policy is UNKNOWN or policy or (_queue_keys(q) | {q.urn}) & redriven:
            continue  # unknown counts: a redrive policy to a queue still to be created
        name = _str(q.get("name")) or q.name
        yield violation(
            f"the event source mapping reads queue {name!r}, which has no redrive policy: a "
            "message that keeps failing is retried until it expires, and lost; give the queue "
            "a redrivePolicy to a dead-letter queue",
            esm.urn,
        )


def check(resources: list[Resource], config: Config) -> Iterator[Finding]:
    ix = Index(resources)
    yield from _shared_roles(ix)
    for fn in ix.of(FUNCTION_TYPE):
        yield from _guarded(fn, _function_problems(fn, ix, config))
    for bucket in ix.of(*BUCKET_TYPES):
        yield from _guarded(bucket, _bucket_problems(bucket, ix))
    for esm in ix.of(ESM_TYPE):
        yield from _guarded(esm, _queue_trigger_problems(esm, ix))
    identity = sdk_compat.stack_identity()
    for holder in ix.of(*secrets.CREDENTIALS):
        yield from _guarded(holder, secrets.literal_credential_problems(holder, identity))
    for api in ix.of(rest_api.REST_API_TYPE):
        yield from _guarded(api, rest_api.body_problems(api))
    methods = ix.of(rest_api.METHOD_TYPE)
    for integration in ix.of(rest_api.INTEGRATION_TYPE) if methods else ():
        yield from _guarded(integration, rest_api.problems(integration, methods, ix.by_urn))


FAMILY = Family(
    name="va-stack",
    description=(
        "Each Lambda has its own role, a log group, a DLQ or on-failure destination, alarms on "
        "Errors/Throttles/Duration, and security groups with no ingress that let out TCP 443 "
        "and other ports to named security groups or prefix lists only; each S3 bucket has "
        "a public access block and an encryption configuration; each queue a function reads "
        "has a redrive policy; no REST API method or OpenAPI route without authorization "
        "invokes a function; no secret version, database password or cache auth token is a "
        "literal."
    ),
    remediation=(
        "Add the missing resources named in the message: per function its own role, its log "
        "group, a DLQ or on-failure destination, the three alarms, and security groups that let "
        "out TCP 443 and, for a database or cache, its port to that target's security group or "
        "prefix list, never a CIDR; per bucket a public access block and an encryption "
        "configuration; per queue a function reads a redrivePolicy to a dead-letter queue; per "
        "REST API method in front of a function an authorization (AWS_IAM, CUSTOM, Cognito), "
        "per OpenAPI route a security requirement naming an authorizer; per secret version, "
        "database password or auth token a value the service manages "
        "(manage_master_user_password), from secret config or a generator, never a literal."
    ),
    check=check,
    settings=SETTINGS,
    stack=True,
)
