"""va-network: no internet-wide ingress anywhere; the Lambda group egress-443 only."""

from __future__ import annotations

import pytest

from policies.va_guard import network
from tests.policies.support import run, violations

SG = "aws:ec2/securityGroup:SecurityGroup"
HTTPS_OUT = {"protocol": "tcp", "fromPort": 443.0, "toPort": 443.0, "cidrBlocks": ["0.0.0.0/0"]}


def test_lambda_group_with_egress_443_only_passes():
    assert violations(network.FAMILY, SG, {"name": "va-dev-lambda-sg", "egress": [HTTPS_OUT]}) == []


@pytest.mark.parametrize(
    ("cidr_key", "cidr"), [("cidrBlocks", "0.0.0.0/0"), ("ipv6CidrBlocks", "::/0")]
)
def test_inline_ingress_from_the_internet_is_a_violation(cidr_key, cidr):
    rule = {"protocol": "tcp", "fromPort": 22.0, "toPort": 22.0, cidr_key: [cidr]}
    (message,) = violations(network.FAMILY, SG, {"name": "va-dev-web-sg", "ingress": [rule]})
    assert f"is open to {cidr}" in message


def test_standalone_vpc_ingress_rule_from_the_internet_is_a_violation():
    props = {"cidrIpv4": "0.0.0.0/0", "ipProtocol": "tcp", "fromPort": 80.0, "toPort": 80.0}
    (message,) = violations(network.FAMILY, network.VPC_INGRESS_TYPE, props)
    assert "ingress rule protocol 'tcp' port 80 is open to 0.0.0.0/0" in message


def test_standalone_ec2_egress_rule_is_not_an_ingress_violation():
    props = {"type": "egress", "cidrBlocks": ["0.0.0.0/0"], "protocol": "-1"}
    assert violations(network.FAMILY, network.EC2_RULE_TYPE, props) == []


def test_lambda_group_with_any_ingress_is_a_violation():
    rule = {"protocol": "tcp", "fromPort": 443.0, "toPort": 443.0, "cidrBlocks": ["10.0.0.0/16"]}
    props = {"name": "va-dev-lambda-sg", "ingress": [rule], "egress": [HTTPS_OUT]}
    (message,) = violations(network.FAMILY, SG, props)
    assert "has no ingress rules at all" in message


def test_lambda_group_with_all_traffic_egress_is_a_violation():
    out = {"protocol": "-1", "fromPort": 0.0, "toPort": 0.0, "cidrBlocks": ["0.0.0.0/0"]}
    (message,) = violations(network.FAMILY, SG, {"name": "va-dev-lambda-sg", "egress": [out]})
    assert "only TCP 443 is allowed out" in message


def test_ssh_rule_without_to_port_open_to_the_world_is_a_violation():
    props = {"cidrIpv4": "0.0.0.0/0", "ipProtocol": "tcp", "fromPort": 22.0}
    found, notices = run(network.FAMILY, network.VPC_INGRESS_TYPE, props)
    assert found == ["ingress rule protocol 'tcp' port 22 is open to 0.0.0.0/0; allow only the "
                     "security groups or CIDRs that need it"]  # fmt: skip
    assert notices == []


def test_all_traffic_rule_is_described_as_all_traffic_not_port_0():
    props = {"cidrIpv4": "0.0.0.0/0", "ipProtocol": "-1", "fromPort": 0.0, "toPort": 0.0}
    (message,) = violations(network.FAMILY, network.VPC_INGRESS_TYPE, props)
    assert message.startswith("ingress rule all traffic (protocol -1) is open to 0.0.0.0/0")
