"""Egress beyond HTTPS over gRPC, in each shape the engine sends: a function's own security group
may reach a port of a named security group or prefix list, never a CIDR on a port other than 443
(va-network per group, va-stack per group attached to a function)."""

from __future__ import annotations

import pytest
from pulumi.runtime.rpc import UNKNOWN as ENGINE_UNKNOWN

from va_platform import standard
from va_platform.preflight.analyzer import PolicyPackProcess, Provider, Subject

PROVIDER = Provider("pulumi:providers:aws", "urn:pulumi:dev::p::pulumi:providers:aws::default",
                    "default", {"region": "eu-central-1"})  # fmt: skip
FN = "aws:lambda/function:Function"
SG = "aws:ec2/securityGroup:SecurityGroup"
EC2_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
VPC_EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
NAME = "va-dev-orders-lambda"
OWN_SG = "sg-0aaaaaaaaaaaaaaa1"
SHARED_SG = "sg-0bbbbbbbbbbbbbbb2"
DB_SG = "sg-0123456789abcdef0"
PREFIX_LIST = "pl-6ea54007"
HTTPS = {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}
PG = {"protocol": "tcp", "fromPort": 5432, "toPort": 5432}
VPC_PG = {"ipProtocol": "tcp", "fromPort": 5432, "toPort": 5432}
GUARDS = ("va-network", "va-stack")


def subject(type_, props, name, deps=None):
    return Subject(type_, name, f"urn:pulumi:dev::p::{type_}::{name}", props, provider=PROVIDER,
                   property_dependencies=deps or {})  # fmt: skip


def group(name, physical, group_id, egress):
    return subject(SG, {"name": physical, "id": group_id, "ingress": [], "egress": egress}, name)


SHARED = group("lambda-sg", "va-dev-lambda-sg", SHARED_SG, [HTTPS])


def function(group_ids=(SHARED_SG, OWN_SG), deps=None):
    props = {
        "name": NAME,
        "role": "arn:aws:iam::123456789012:role/va-dev-orders-lambda-role",
        "deadLetterConfig": {
            "targetArn": "arn:aws:sqs:eu-central-1:123456789012:va-dev-orders-dlq"
        },
        "vpcConfig": {"subnetIds": ["subnet-0a"], "securityGroupIds": list(group_ids)},
    }
    return subject(FN, props, "fn", deps)


def companions():
    alarms = [
        subject("aws:cloudwatch/metricAlarm:MetricAlarm", {"namespace": "AWS/Lambda",
                "metricName": m, "dimensions": {"FunctionName": NAME}}, f"alarm-{m}")
        for m in ("Errors", "Throttles", "Duration")
    ]  # fmt: skip
    log = subject(
        "aws:cloudwatch/logGroup:LogGroup", {"name": standard.log_group_name(NAME)}, "log"
    )
    return [*alarms, log]


@pytest.fixture(scope="module")
def pack():
    with PolicyPackProcess() as process:
        yield process


def mandatory(pack, resources):
    """The va-network (per resource) and va-stack mandatory findings: (policy, detail)."""
    found = [d for r in resources for d in pack.analyze(r)] + pack.analyze_stack(resources)
    return [(d.policy, d.detail) for d in found if d.policy in GUARDS and d.level == "mandatory"]


def stack_with(own_group, *rules, fn=None):
    return [fn or function(), *companions(), SHARED, own_group, *rules]


OWN_EMPTY = group("own-sg", "va-dev-orders-lambda-sg", OWN_SG, [])


# --- inline egress on the group ---


def test_inline_5432_to_the_internet_fails_both_rules(pack):
    own = group("own-sg", "va-dev-orders-lambda-sg", OWN_SG, [{**PG, "cidrBlocks": ["0.0.0.0/0"]}])
    found = mandatory(pack, stack_with(own))
    assert sorted(p for p, _ in found) == ["va-network", "va-stack"]
    assert all("allows egress protocol 'tcp' port 5432 to 0.0.0.0/0" in d for _, d in found)
    assert any(f"attached to {NAME!r}" in d for _, d in found)


def test_inline_5432_to_a_named_group_passes(pack):
    own = group("own-sg", "va-dev-orders-lambda-sg", OWN_SG, [{**PG, "securityGroups": [DB_SG]}])
    assert mandatory(pack, stack_with(own)) == []


def test_inline_rule_mixing_a_named_group_and_a_cidr_fails(pack):
    rule = {**PG, "securityGroups": [DB_SG], "cidrBlocks": ["10.20.0.0/16"]}
    own = group("own-sg", "va-dev-orders-lambda-sg", OWN_SG, [rule])
    assert {p for p, _ in mandatory(pack, stack_with(own))} == {"va-network", "va-stack"}


# --- standalone ec2 SecurityGroupRule ---


def test_ec2_egress_rule_to_the_internet_on_5432_fails(pack):
    rule = subject(EC2_RULE, {"type": "egress", "securityGroupId": OWN_SG, **PG,
                              "cidrBlocks": ["0.0.0.0/0"]}, "pg-out")  # fmt: skip
    ((policy, detail),) = mandatory(pack, stack_with(OWN_EMPTY, rule))
    assert policy == "va-stack"
    assert "port 5432 to 0.0.0.0/0" in detail


def test_ec2_egress_rule_to_a_named_group_passes(pack):
    rule = subject(EC2_RULE, {"type": "egress", "securityGroupId": OWN_SG, **PG,
                              "sourceSecurityGroupId": DB_SG}, "pg-out")  # fmt: skip
    assert mandatory(pack, stack_with(OWN_EMPTY, rule)) == []


# --- standalone vpc SecurityGroupEgressRule ---


@pytest.mark.parametrize(("key", "cidr"), [("cidrIpv4", "0.0.0.0/0"), ("cidrIpv6", "::/0")])
def test_vpc_egress_rule_to_a_cidr_on_5432_fails(pack, key, cidr):
    rule = subject(VPC_EGRESS, {"securityGroupId": OWN_SG, **VPC_PG, key: cidr}, "pg-out")
    ((policy, detail),) = mandatory(pack, stack_with(OWN_EMPTY, rule))
    assert (policy, f"port 5432 to {cidr}" in detail) == ("va-stack", True)


@pytest.mark.parametrize(
    "target", [{"referencedSecurityGroupId": DB_SG}, {"prefixListId": PREFIX_LIST}]
)
def test_vpc_egress_rule_to_a_named_target_passes(pack, target):
    rule = subject(VPC_EGRESS, {"securityGroupId": OWN_SG, **VPC_PG, **target}, "pg-out")
    assert mandatory(pack, stack_with(OWN_EMPTY, rule)) == []


def test_vpc_egress_rule_of_all_traffic_to_a_named_group_fails(pack):
    props = {"securityGroupId": OWN_SG, "ipProtocol": "-1", "referencedSecurityGroupId": DB_SG}
    rule = subject(VPC_EGRESS, props, "all-out")
    ((_, detail),) = mandatory(pack, stack_with(OWN_EMPTY, rule))
    assert f"all traffic (protocol -1) to {DB_SG}" in detail


# --- a first preview: our group, the database's group and the rule still to be created ---


def first_preview(target):
    """The function's group, the database's group and a vpc rule between them, all new."""
    db = group("db-sg", "va-dev-db-sg", ENGINE_UNKNOWN, [])
    own = group("own-sg", "va-dev-orders-lambda-sg", ENGINE_UNKNOWN, [])
    rule = subject(VPC_EGRESS, {"securityGroupId": ENGINE_UNKNOWN, **VPC_PG, **target}, "pg-out",
                   {"securityGroupId": (own.urn,), "referencedSecurityGroupId": (db.urn,)})  # fmt: skip
    fn = function([ENGINE_UNKNOWN, ENGINE_UNKNOWN], {"vpcConfig": (SHARED.urn, own.urn)})
    return [*stack_with(own, rule, fn=fn), db]


def test_first_preview_rule_to_a_group_not_created_yet_fails_nothing(pack):
    assert mandatory(pack, first_preview({"referencedSecurityGroupId": ENGINE_UNKNOWN})) == []


def test_first_preview_rule_to_the_internet_on_5432_still_fails(pack):
    ((policy, detail),) = mandatory(pack, first_preview({"cidrIpv4": "0.0.0.0/0"}))
    assert (policy, "port 5432 to 0.0.0.0/0" in detail) == ("va-stack", True)


def test_first_preview_rule_to_a_cidr_not_known_yet_is_unchecked(pack):
    resources = first_preview({"cidrIpv4": ENGINE_UNKNOWN})
    diagnostics = pack.analyze_stack(resources)
    assert [d for d in diagnostics if d.policy in GUARDS and d.level == "mandatory"] == []
    assert any(
        "unchecked: could not check where egress protocol 'tcp' port 5432" in d.detail
        for d in diagnostics
    )
