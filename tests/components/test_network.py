"""VaNetwork: private subnets across zones, optional NAT, endpoints, and the Lambda SG."""

from __future__ import annotations

import pytest

from tests.support import CTX, one
from va_platform.components.network import VaNetwork, VaNetworkArgs, subnet_plan
from va_platform.preflight.runner import run_under_mocks

SG = "aws:ec2/securityGroup:SecurityGroup"
SUBNET = "aws:ec2/subnet:Subnet"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
ZONES = ("eu-central-1a", "eu-central-1b")


def build(**fields):
    args = VaNetworkArgs(
        context=CTX, region="eu-central-1", vpc_cidr="10.20.0.0/16",
        availability_zones=fields.pop("zones", ZONES), purpose="core", **fields,
    )  # fmt: skip
    return run_under_mocks(lambda: VaNetwork("net", args))


@pytest.fixture(scope="module")
def private_only():
    return build(nat_gateway=False)


@pytest.fixture(scope="module")
def with_nat():
    return build(nat_gateway=True)


def sg_named(run, name):
    return next(r.inputs for r in run.of_type(SG) if r.inputs["name"] == name)


def test_subnet_plan_splits_the_vpc_into_private_and_public_blocks():
    private, public = subnet_plan("10.20.0.0/16", 2)
    assert private == ["10.20.0.0/20", "10.20.16.0/20"]
    assert public == ["10.20.128.0/20", "10.20.144.0/20"]


def test_private_subnets_one_per_zone_without_public_ips(private_only):
    subnets = {r.inputs["availabilityZone"]: r.inputs for r in private_only.of_type(SUBNET)}
    assert set(subnets) == set(ZONES)
    assert all(s["mapPublicIpOnLaunch"] is False for s in subnets.values())


def test_three_zones_give_three_private_subnets():
    run = build(zones=("eu-central-1a", "eu-central-1b", "eu-central-1c"))
    assert len(run.of_type(SUBNET)) == 3


def test_single_zone_is_refused():
    with pytest.raises(ValueError, match="two or more zones"):
        VaNetworkArgs(CTX, "eu-central-1", "10.20.0.0/16", ("eu-central-1a",), purpose="core")


def test_lambda_sg_has_no_ingress(private_only):
    assert sg_named(private_only, "va-dev-lambda-sg")["ingress"] == []


def test_lambda_sg_allows_only_https_egress(private_only):
    egress = sg_named(private_only, "va-dev-lambda-sg")["egress"]
    assert [(e["protocol"], e["fromPort"], e["toPort"], e["cidrBlocks"]) for e in egress] == [
        ("tcp", 443, 443, ["0.0.0.0/0"])
    ]


def test_endpoint_sg_admits_https_from_the_lambda_sg_only(private_only):
    ingress = sg_named(private_only, "va-dev-vpce-sg")["ingress"]
    assert len(ingress) == 1
    assert (ingress[0]["fromPort"], ingress[0]["toPort"]) == (443, 443)
    assert "cidrBlocks" not in ingress[0]
    assert ingress[0]["securityGroups"] == [private_only.named("net-lambda-sg").id]


def test_default_sg_is_emptied(private_only):
    default = one(private_only, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert (default["ingress"], default["egress"]) == ([], [])


def test_no_nat_means_no_public_subnet_or_internet_gateway(private_only):
    assert not private_only.of_type("aws:ec2/natGateway:NatGateway")
    assert not private_only.of_type("aws:ec2/internetGateway:InternetGateway")
    assert len(private_only.of_type(SUBNET)) == 2


def test_nat_sits_in_a_public_subnet_and_is_the_private_default_route(with_nat):
    nat = one(with_nat, "aws:ec2/natGateway:NatGateway")
    public = with_nat.named("net-public-0")
    assert public.inputs["cidrBlock"] == "10.20.128.0/20"
    route = one(with_nat, "aws:ec2/route:Route")
    assert route["destinationCidrBlock"] == "0.0.0.0/0"
    assert route["natGatewayId"].startswith("nat-")
    assert nat["subnetId"].startswith("subnet-")


def test_interface_endpoints_for_secrets_manager_and_logs(private_only):
    services = {
        r.inputs["serviceName"]: r.inputs["vpcEndpointType"] for r in private_only.of_type(ENDPOINT)
    }
    assert services == {
        "com.amazonaws.eu-central-1.secretsmanager": "Interface",
        "com.amazonaws.eu-central-1.logs": "Interface",
        "com.amazonaws.eu-central-1.s3": "Gateway",
        "com.amazonaws.eu-central-1.dynamodb": "Gateway",
    }


def test_interface_endpoints_use_private_dns(private_only):
    interface = [r.inputs for r in private_only.of_type(ENDPOINT)
                 if r.inputs["vpcEndpointType"] == "Interface"]  # fmt: skip
    assert all(e["privateDnsEnabled"] is True for e in interface)


def test_endpoints_can_be_turned_off():
    run = build(vpc_endpoints=False)
    assert not run.of_type(ENDPOINT)
    assert [r.inputs["name"] for r in run.of_type(SG)] == ["va-dev-lambda-sg"]


def test_children_are_parented_to_the_network(with_nat):
    children = [r for r in with_nat.resources if r.type != "va:network:VaNetwork"]
    assert all("va:network:VaNetwork$" in r.urn for r in children)
