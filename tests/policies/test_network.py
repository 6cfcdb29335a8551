"""va-network: no internet-wide ingress anywhere; a Lambda group lets out TCP 443, and other
ports to named targets only."""

from __future__ import annotations

import pytest
from pulumi.runtime.rpc import UNKNOWN as ENGINE_UNKNOWN
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import unknown_checking_proxy

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
    assert "a Lambda group lets out TCP 443, and other ports to named targets only" in message


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


# --- egress beyond HTTPS: one TCP port (or a short range) to named targets only ---

DB_SG = "sg-0123456789abcdef0"
TO_DB = {"protocol": "tcp", "fromPort": 5432.0, "toPort": 5432.0, "securityGroups": [DB_SG]}
FN_SG = "va-dev-contentgen-lambda-sg"


def lambda_group(*egress, name=FN_SG):
    """(violations, notices) for a group as the engine sends it (unknowns as its sentinel)."""
    props = {"name": name, "ingress": [], "egress": list(egress)}
    return run(network.FAMILY, SG, unknown_checking_proxy(deserialize_properties(props)))


def test_function_group_with_5432_to_the_internet_is_a_violation():
    out = {"protocol": "tcp", "fromPort": 5432.0, "toPort": 5432.0, "cidrBlocks": ["0.0.0.0/0"]}
    ((message,), _) = lambda_group(out)
    assert f"security group {FN_SG!r}" in message
    assert "allows egress protocol 'tcp' port 5432 to 0.0.0.0/0" in message
    assert "name the target's security group or prefix list instead of a CIDR" in message


def test_function_group_with_5432_to_a_named_security_group_passes():
    assert lambda_group(TO_DB) == ([], [])


def test_lambda_group_with_6379_to_a_prefix_list_passes():
    out = {
        "protocol": "tcp",
        "fromPort": 6379.0,
        "toPort": 6379.0,
        "prefixListIds": ["pl-6ea54007"],
    }
    assert lambda_group(HTTPS_OUT, out, name="va-dev-lambda-sg") == ([], [])


def test_private_cidr_on_a_port_other_than_443_is_a_violation():
    out = {"protocol": "tcp", "fromPort": 5432.0, "toPort": 5432.0, "cidrBlocks": ["10.20.0.0/16"]}
    ((message,), _) = lambda_group(out)
    assert "port 5432 to 10.20.0.0/16" in message


def test_ipv6_cidr_on_a_port_other_than_443_is_a_violation():
    out = {"protocol": "tcp", "fromPort": 6379.0, "toPort": 6379.0, "ipv6CidrBlocks": ["::/0"]}
    ((message,), _) = lambda_group(out)
    assert "port 6379 to ::/0" in message


def test_a_rule_naming_a_group_and_a_cidr_is_a_violation():
    ((message,), _) = lambda_group({**TO_DB, "cidrBlocks": ["0.0.0.0/0"]})
    assert "port 5432 to 0.0.0.0/0" in message


def test_a_group_mixing_a_named_rule_and_a_cidr_rule_on_one_port_is_a_violation():
    wide = {**TO_DB, "securityGroups": None, "cidrBlocks": ["0.0.0.0/0"]}
    ((message,), _) = lambda_group(TO_DB, wide)
    assert "allows egress protocol 'tcp' port 5432 to 0.0.0.0/0;" in message


def test_all_traffic_to_a_named_security_group_is_a_violation():
    ((message,), _) = lambda_group({**TO_DB, "protocol": "-1", "fromPort": 0.0, "toPort": 0.0})
    assert f"allows egress all traffic (protocol -1) to {DB_SG}" in message


def test_udp_to_a_named_security_group_is_a_violation():
    ((message,), _) = lambda_group({**TO_DB, "protocol": "udp"})
    assert "protocol 'udp' port 5432" in message


def test_every_port_to_a_named_security_group_is_a_violation():
    ((message,), _) = lambda_group({**TO_DB, "fromPort": 0.0, "toPort": 65535.0})
    assert "ports 0-65535" in message


def test_a_range_wider_than_a_few_ports_to_a_named_group_is_a_violation():
    ((message,), _) = lambda_group({**TO_DB, "fromPort": 1024.0, "toPort": 2047.0})
    assert "ports 1024-2047" in message


def test_a_short_range_to_a_named_group_passes():
    assert lambda_group({**TO_DB, "fromPort": 9092.0, "toPort": 9098.0}) == ([], [])


def test_a_rule_to_its_own_group_passes():
    out = {"protocol": "tcp", "fromPort": 7000.0, "toPort": 7000.0, "self": True}
    assert lambda_group(out) == ([], [])


def test_a_rule_naming_no_destination_is_a_violation():
    ((message,), _) = lambda_group({"protocol": "tcp", "fromPort": 5432.0, "toPort": 5432.0})
    assert "port 5432 to no named target" in message


def test_a_named_group_not_created_yet_passes():
    assert lambda_group({**TO_DB, "securityGroups": [ENGINE_UNKNOWN]}) == ([], [])


def test_a_cidr_not_known_yet_on_5432_is_unchecked_not_a_violation():
    found, notices = lambda_group({**TO_DB, "securityGroups": None, "cidrBlocks": [ENGINE_UNKNOWN]})
    assert found == []
    assert [n for n in notices if "egress protocol 'tcp' port 5432" in n]


def test_a_group_not_named_for_lambda_may_open_other_ports():
    out = {"protocol": "tcp", "fromPort": 5432.0, "toPort": 5432.0, "cidrBlocks": ["0.0.0.0/0"]}
    assert lambda_group(out, name="va-dev-batch-sg") == ([], [])
