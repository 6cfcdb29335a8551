"""Ways past va-network / va-stack's egress rules for Lambda groups, over gRPC as the engine sends
them: a group attached to a function but declared in another stack (opened by a rule that is in
this one), a prefix list of the whole internet, rules not known yet."""

from __future__ import annotations

import pytest
from pulumi.runtime.rpc import UNKNOWN as ENGINE_UNKNOWN

from tests.policies.test_egress_shapes import (
    EC2_RULE,
    OWN_SG,
    PG,
    SHARED,
    SHARED_SG,
    VPC_EGRESS,
    companions,
    function,
    group,
    mandatory,
    stack_with,
    subject,
)
from va_platform.preflight.analyzer import PolicyPackProcess

# A group of another stack (the database team's, say), attached to the function by its id.
OTHER_STACKS_SG = "sg-0ccccccccccccccc3"
DB_SG = "sg-0123456789abcdef0"
OPEN_PREFIX_LIST = "pl-0ddddddddddddddd4"


@pytest.fixture(scope="module")
def pack():
    with PolicyPackProcess() as process:
        yield process


def notices(pack, resources, policy: str) -> list[str]:
    found = [d for r in resources for d in pack.analyze(r)] + pack.analyze_stack(resources)
    return [d.detail for d in found if d.level != "mandatory" and f"[{policy}]" in d.detail]


def attached_to_another_stacks_group(*rules):
    return [function((SHARED_SG, OTHER_STACKS_SG)), *companions(), SHARED, *rules]


# --- a group declared elsewhere, opened by a rule declared here ---


def test_a_rule_here_opening_all_egress_of_an_attached_group_declared_elsewhere_fails(pack):
    rule = subject(VPC_EGRESS, {"securityGroupId": OTHER_STACKS_SG, "ipProtocol": "-1",
                                "cidrIpv4": "0.0.0.0/0"}, "all-out")  # fmt: skip
    found = mandatory(pack, attached_to_another_stacks_group(rule))
    assert [(p, "all traffic (protocol -1) to 0.0.0.0/0" in d) for p, d in found] == [
        ("va-stack", True)
    ]


def test_a_rule_here_opening_ssh_to_the_internet_on_an_attached_group_declared_elsewhere_fails(
    pack,
):
    rule = subject(EC2_RULE, {"type": "egress", "securityGroupId": OTHER_STACKS_SG,
                              "protocol": "tcp", "fromPort": 22, "toPort": 22,
                              "cidrBlocks": ["0.0.0.0/0"]}, "ssh-out")  # fmt: skip
    found = mandatory(pack, attached_to_another_stacks_group(rule))
    assert [(p, "port 22 to 0.0.0.0/0" in d) for p, d in found] == [("va-stack", True)]


def test_a_rule_here_to_a_named_target_on_an_attached_group_declared_elsewhere_passes(pack):
    rule = subject(VPC_EGRESS, {"securityGroupId": OTHER_STACKS_SG, "ipProtocol": "tcp",
                                "fromPort": 5432, "toPort": 5432,
                                "referencedSecurityGroupId": DB_SG}, "pg-out")  # fmt: skip
    assert mandatory(pack, attached_to_another_stacks_group(rule)) == []


def test_an_attached_group_declared_elsewhere_is_unchecked(pack):
    """Its own rules cannot be seen from this stack: said, not passed in silence."""
    found = notices(pack, attached_to_another_stacks_group(), "va-stack")
    assert any(OTHER_STACKS_SG in d and "unchecked" in d for d in found)


# --- a prefix list is a list of CIDRs ---


def open_prefix_list(cidr: str):
    return subject("aws:ec2/managedPrefixList:ManagedPrefixList",
                   {"name": "va-dev-partner-pl", "addressFamily": "IPv4", "maxEntries": 1,
                    "entries": [{"cidr": cidr}], "id": OPEN_PREFIX_LIST}, "pl")  # fmt: skip


def own_group_to_the_prefix_list(port: int):
    rule = {"protocol": "tcp", "fromPort": port, "toPort": port,
            "prefixListIds": [OPEN_PREFIX_LIST]}  # fmt: skip
    return group("own-sg", "va-dev-orders-lambda-sg", OWN_SG, [rule])


def test_egress_on_22_to_a_prefix_list_of_the_whole_internet_fails(pack):
    resources = [*stack_with(own_group_to_the_prefix_list(22)), open_prefix_list("0.0.0.0/0")]
    assert {p for p, _ in mandatory(pack, resources)} == {"va-stack"}


def test_egress_to_a_prefix_list_opened_by_a_separate_entry_fails(pack):
    """The same list, its 0.0.0.0/0 added by an ec2 ManagedPrefixListEntry resource."""
    entry = subject("aws:ec2/managedPrefixListEntry:ManagedPrefixListEntry",
                    {"prefixListId": OPEN_PREFIX_LIST, "cidr": "0.0.0.0/0"}, "pl-entry")  # fmt: skip
    resources = [*stack_with(own_group_to_the_prefix_list(22)), entry]
    assert {p for p, _ in mandatory(pack, resources)} == {"va-stack"}


def test_egress_on_5432_to_a_prefix_list_of_a_partners_network_passes(pack):
    resources = [
        *stack_with(own_group_to_the_prefix_list(5432)),
        open_prefix_list("203.0.113.0/24"),
    ]
    assert mandatory(pack, resources) == []


# --- rules not known yet (a first preview) ---


def test_a_lambda_group_whose_egress_is_not_known_yet_is_unchecked_by_both_rules(pack):
    own = group("own-sg", "va-dev-orders-lambda-sg", OWN_SG, ENGINE_UNKNOWN)
    resources = stack_with(own)
    assert mandatory(pack, resources) == []
    assert [any("unchecked" in d for d in notices(pack, resources, p))
            for p in ("va-network", "va-stack")] == [True, True]  # fmt: skip


def test_inline_5432_to_the_internet_beside_a_known_https_rule_still_fails(pack):
    """Good twin of the above: what is known is still judged."""
    own = group("own-sg", "va-dev-orders-lambda-sg", OWN_SG, [{**PG, "cidrBlocks": ["0.0.0.0/0"]}])
    assert {p for p, _ in mandatory(pack, stack_with(own))} == {"va-network", "va-stack"}
