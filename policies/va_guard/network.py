"""va-network: no security group open to the internet; a Lambda group lets out HTTPS, and
other ports only to named targets; no EKS cluster API open to the internet.

Per resource: no ingress from 0.0.0.0/0 or ::/0 in any security group, inline or as a standalone
rule resource (ec2 SecurityGroupRule, vpc SecurityGroupIngressRule). A group named like a Lambda
group (``va-<env>-lambda-sg``, a function's own ``va-<env>-<purpose>-lambda-sg``) has no ingress,
and each egress rule is TCP 443, or TCP on one port or a short range to named targets only: a
security group, a prefix list, the group itself; never a CIDR on a port other than 443, since
"anything on 5432" is not "the database". va-stack applies the same to every group actually
attached to a function, with its standalone rules (ec2 SecurityGroupRule, vpc
SecurityGroupEgressRule).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .framework import Config, Family, Finding, Resource, unchecked, violation
from .props import UNKNOWN, contains_unknown, get, items_of, number

SG_TYPES = (
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
)
EC2_RULE_TYPE = "aws:ec2/securityGroupRule:SecurityGroupRule"
VPC_INGRESS_TYPE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
VPC_EGRESS_TYPE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
LAMBDA_SG_SUFFIX = "-lambda-sg"
TCP = ("tcp", "6")
ALL_TRAFFIC = ("-1", "all")
LAMBDA_EGRESS_PORTS: tuple[int, ...] = (443,)
# Where a rule sends traffic when it names its target, in each shape the engine sends: inline
# (securityGroups, prefixListIds, self), ec2 SecurityGroupRule (sourceSecurityGroupId,
# prefixListIds, self), vpc SecurityGroupEgressRule (referencedSecurityGroupId, prefixListId).
# (``securityGroupId`` of a standalone rule is the group the rule belongs to, not a target.)
TARGET_PROPERTIES = (
    "securityGroups", "sourceSecurityGroupId", "referencedSecurityGroupId", "prefixListIds",
    "prefixListId",
)  # fmt: skip
# A named target's rule spans a few ports at most (Kafka on MSK: 9092-9098); a wider range is
# most of the ports of the target, which is what naming a port is meant to rule out.
NAMED_TARGET_MAX_PORTS = 16
TCP_PORTS = (1, 65535)


# A source this wide is the internet, whether written as 0.0.0.0/0 or split into halves
# (0.0.0.0/1 + 128.0.0.0/1): /0-/7 for IPv4 (2^25 addresses and more), /0-/15 for IPv6.
WIDEST_PREFIX = {4: 7, 6: 15}


def is_open(cidr: Any) -> bool:
    if not isinstance(cidr, str):
        return False
    try:
        network = ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError:
        return False
    return network.prefixlen <= WIDEST_PREFIX[network.version]


CIDR_PROPERTIES = ("cidrBlocks", "ipv6CidrBlocks", "cidrIpv4", "cidrIpv6")


def _sources(rule: Any) -> list[Any]:
    found: list[Any] = []
    for prop in CIDR_PROPERTIES:
        value = get(rule, prop)
        found += [UNKNOWN] if value is UNKNOWN else items_of(value) or [value]
    return found


def open_sources(rule: Any) -> list[str]:
    """The internet-wide sources of one rule (inline, ec2 rule or vpc rule shape)."""
    return [s for s in _sources(rule) if is_open(s)]


def unknown_sources(rule: Any) -> bool:
    """Whether a source CIDR is not known yet (a first preview: ``[vpc.cidr_block]``)."""
    return any(s is UNKNOWN or contains_unknown(s) for s in _sources(rule))


def describe(rule: Any) -> str:
    """A rule as people read it: ``all traffic (protocol -1)``, ``protocol 'tcp' port 22``."""
    proto = get(rule, "protocol") or get(rule, "ipProtocol")
    if str(proto).lower() in ALL_TRAFFIC:
        return f"all traffic (protocol {proto})"
    lo, hi = number(get(rule, "fromPort")), number(get(rule, "toPort"))
    lo, hi = (lo if lo is not None else hi), (hi if hi is not None else lo)  # one given: one port
    ports = "all ports" if lo is None else f"port {lo:g}" if lo == hi else f"ports {lo:g}-{hi:g}"
    return f"protocol {proto!r} {ports}"


def is_tcp_443_only(rule: Any) -> bool:
    proto = get(rule, "protocol") or get(rule, "ipProtocol")
    lo, hi = number(get(rule, "fromPort")), number(get(rule, "toPort"))
    return str(proto).lower() in TCP and lo is not None and lo == hi and lo in LAMBDA_EGRESS_PORTS


def _targets(rule: Any) -> list[Any]:
    """The named targets of a rule (UNKNOWN for one not created yet: still a named target, as
    the property it sits in says what it is)."""
    found: list[Any] = ["itself"] if get(rule, "self") is True else []
    for prop in TARGET_PROPERTIES:
        value = get(rule, prop)
        named = [v for v in items_of(value) if v is UNKNOWN or v]
        found += [UNKNOWN] if value is UNKNOWN else named
    return found


def _cidrs(rule: Any) -> list[Any]:
    return [s for s in _sources(rule) if s is UNKNOWN or contains_unknown(s) or s]


def describe_egress(rule: Any) -> str:
    """An egress rule with where it goes: ``protocol 'tcp' port 5432 to sg-0123...``."""
    where = [
        "a target not known yet" if t is UNKNOWN or contains_unknown(t) else str(t)
        for t in [*_cidrs(rule), *_targets(rule)]
    ]
    return f"{describe(rule)} to {', '.join(where) or 'no named target'}"


def _bounded_tcp(rule: Any) -> bool | None:
    """TCP on one port or a short range (None: protocol or ports not known yet)."""
    proto = get(rule, "protocol")
    proto = get(rule, "ipProtocol") if proto is None else proto
    raw = (proto, get(rule, "fromPort"), get(rule, "toPort"))
    if any(v is UNKNOWN for v in raw):
        return None
    lo, hi = number(raw[1]), number(raw[2])
    lo, hi = (lo if lo is not None else hi), (hi if hi is not None else lo)  # as describe reads
    return (
        str(proto).lower() in TCP
        and lo is not None
        and hi is not None
        and TCP_PORTS[0] <= lo <= hi <= TCP_PORTS[1]
        and hi - lo < NAMED_TARGET_MAX_PORTS
    )


def egress_allowed(rule: Any, open_prefix_lists: Container[str] = frozenset()) -> bool | None:
    """Whether a Lambda group may have this egress rule: TCP 443 anywhere, or TCP on one port
    (or a short range) to named targets and no CIDR at all. None: not known yet.

    ``open_prefix_lists``: ids of prefix lists known to hold the internet (0.0.0.0/0 and the
    like); naming one is a CIDR in disguise, not a named target."""
    if is_tcp_443_only(rule):
        return True
    bounded = _bounded_tcp(rule)
    if bounded is not True:
        return bounded  # None: it may still be TCP 443
    cidrs = _cidrs(rule)
    if any(c is not UNKNOWN and not contains_unknown(c) for c in cidrs):
        return False
    targets = _targets(rule)
    if any(isinstance(t, str) and t in open_prefix_lists for t in targets):
        return False
    return None if cidrs else bool(targets)


@dataclass(frozen=True)
class LambdaGroupVerdict:
    """What is wrong with a group's rules for Lambda, worked out once per group however many
    functions use it; the messages name the function."""

    unknown: bool = False
    ingress: str = ""  # the ingress rules, described; "" when there are none
    wide_egress: str = ""  # the egress rules neither TCP 443 nor to named targets, described
    unknown_egress: str = ""  # the egress rules that cannot be judged yet, described


def lambda_sg_verdict(
    ingress: Iterable[Any], egress: Iterable[Any], open_prefix_lists: Container[str] = frozenset()
) -> LambdaGroupVerdict:
    """A Lambda security group: nothing in; out TCP 443, or a port of a named target."""
    ingress, egress = list(ingress), list(egress)
    if any(r is UNKNOWN for r in ingress + egress):
        return LambdaGroupVerdict(unknown=True)
    allowed = [(r, egress_allowed(r, open_prefix_lists)) for r in egress]
    return LambdaGroupVerdict(
        ingress=", ".join(describe(r) for r in ingress),
        wide_egress=", ".join(describe_egress(r) for r, ok in allowed if ok is False),
        unknown_egress=", ".join(describe_egress(r) for r, ok in allowed if ok is None),
    )


def lambda_sg_problems(group: str, verdict: LambdaGroupVerdict, *, why: str) -> Iterator[Finding]:
    if verdict.unknown:
        yield unchecked(f"the rules of {group}")
        return
    if verdict.ingress:
        yield violation(
            f"{group} ({why}) allows ingress ({verdict.ingress}); a Lambda security group has no "
            "ingress rules at all - remove them"
        )
    if verdict.wide_egress:
        yield violation(
            f"{group} ({why}) allows egress {verdict.wide_egress}; a Lambda group lets out TCP "
            "443, and other ports to named targets only - narrow it to protocol tcp, ports "
            f"443-443, or to one TCP port (a range of at most {NAMED_TARGET_MAX_PORTS}) and "
            "name the target's security group or prefix list instead of a CIDR (a VA "
            "function: `egress` entries with securityGroupId or prefixListId, and port)"
        )
    if verdict.unknown_egress:
        yield unchecked(f"where egress {verdict.unknown_egress} of {group} goes")


def _check_group(r: Resource) -> Iterator[Finding]:
    ingress, egress = r.get("ingress"), r.get("egress")
    if ingress is UNKNOWN:
        yield unchecked("the ingress rules (ingress)")
        ingress = None
    for rule in items_of(ingress):
        sources = open_sources(rule)
        if unknown_sources(rule):
            yield unchecked(f"the sources of ingress {describe(rule)} (cidrBlocks)")
        if sources:
            yield violation(
                f"ingress {describe(rule)} is open to {', '.join(sources)}; allow "
                "only the security groups or CIDRs that need it"
            )
    name = r.get("name")
    if isinstance(name, str) and name.endswith(LAMBDA_SG_SUFFIX):
        # Egress not known yet (a first preview) is one unknown rule: unchecked, not passed.
        egress_rules = [UNKNOWN] if egress is UNKNOWN else items_of(egress)
        yield from lambda_sg_problems(
            f"security group {name!r}",
            lambda_sg_verdict(items_of(ingress), egress_rules),
            why="named as the Lambda group",
        )


EKS_CLUSTER_TYPE = "aws:eks/cluster:Cluster"
# What EKS puts in publicAccessCidrs when the program sets none.
EKS_DEFAULT_PUBLIC_CIDRS = ("0.0.0.0/0",)


def _eks_cluster(r: Resource) -> Iterator[Finding]:
    """The Kubernetes API endpoint: public by default, to 0.0.0.0/0 by default."""
    public = r.get("vpcConfig", "endpointPublicAccess")
    cidrs = r.get("vpcConfig", "publicAccessCidrs")
    if public is UNKNOWN or cidrs is UNKNOWN or contains_unknown(items_of(cidrs)):
        yield unchecked("who may reach the cluster's API (vpcConfig.endpointPublicAccess, "
                        "publicAccessCidrs)")  # fmt: skip
        return
    if public is False:
        return
    given = [c for c in items_of(cidrs) if isinstance(c, str)]
    open_to = [c for c in given or EKS_DEFAULT_PUBLIC_CIDRS if is_open(c)]
    if open_to:
        why = ", ".join(open_to) + ("" if given else " (EKS's default: publicAccessCidrs unset)")
        yield violation(
            f"the cluster's Kubernetes API is open to {why}: anyone on the internet may try "
            "its credentials and its CVEs; set vpcConfig.endpointPublicAccess=false with "
            "endpointPrivateAccess=true (reach it from the VPC), or set "
            "vpcConfig.publicAccessCidrs to the networks that need it (offices, CI runners)"
        )


def check(r: Resource, config: Config) -> Iterator[Finding]:
    if r.type == EKS_CLUSTER_TYPE:
        yield from _eks_cluster(r)
        return
    if r.type in SG_TYPES:
        yield from _check_group(r)
        return
    if r.type == EC2_RULE_TYPE and r.get("type") != "ingress":
        return
    if r.type not in (EC2_RULE_TYPE, VPC_INGRESS_TYPE):
        return
    sources = open_sources(r.props)
    if unknown_sources(r.props):
        yield unchecked("the rule's source CIDRs")
    if sources:
        yield violation(
            f"ingress rule {describe(r.props)} is open to {', '.join(sources)}; allow only the "
            "security groups or CIDRs that need it"
        )


FAMILY = Family(
    name="va-network",
    description=(
        "No security group allows ingress from 0.0.0.0/0 or ::/0; a Lambda security group "
        "has no ingress, and egress TCP 443, or one TCP port (or a short range) to a named "
        "security group or prefix list - never a CIDR on another port; no EKS cluster API "
        "open to the internet."
    ),
    remediation=(
        "Remove internet-wide ingress; reference the source security group instead. Give "
        "functions security groups with no ingress and egress TCP 443 only, plus, for a "
        "database or cache, its port to that target's security group or prefix list (VA "
        "network standard)."
    ),
    check=check,
    applies_to=frozenset(
        [*SG_TYPES, EC2_RULE_TYPE, VPC_INGRESS_TYPE, EKS_CLUSTER_TYPE]
    ).__contains__,
)
