"""VaNetwork: the VPC a VA Lambda runs in (the VA standard: private subnets, no inbound).

Private subnets in two or more AZs; optionally one NAT gateway in a public subnet for calls to
the internet (OpenAI, Anthropic), and interface endpoints for Secrets Manager and CloudWatch Logs
plus gateway endpoints for S3 and DynamoDB so a function without NAT still reaches what it needs.
The Lambda security group admits nothing and lets out HTTPS only; the VPC's default security
group is emptied so nothing can fall back to its allow-all rules.
"""

import ipaddress
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from va_platform import standard
from va_platform.components.base import VaComponent
from va_platform.components.context import VaContext, purpose_checked, purpose_of
from va_platform.components.lambda_function.component import LambdaNetworking

HTTPS = 443
INTERFACE_ENDPOINTS = ("secretsmanager", "logs")
GATEWAY_ENDPOINTS = ("s3", "dynamodb")
# Private subnets take the first half of the blocks, public ones the second half.
SUBNET_PREFIX_DELTA = 4
# The VPC's prefix lengths: AWS's largest VPC (/16) to the smallest whose 16 blocks are /28.
VPC_PREFIX = (16, 28 - SUBNET_PREFIX_DELTA)
Tags = Callable[[str], dict[str, str]]


def subnet_plan(vpc_cidr: str, zones: int) -> tuple[list[str], list[str]]:
    """(private, public) CIDRs, one per zone: the VPC split in 16 equal blocks."""
    net = ipaddress.IPv4Network(vpc_cidr)
    blocks = list(net.subnets(prefixlen_diff=SUBNET_PREFIX_DELTA))
    half = len(blocks) // 2
    if zones > half:
        raise ValueError(f"{vpc_cidr} has room for {half} zones, not {zones}")
    return [str(b) for b in blocks[:zones]], [str(b) for b in blocks[half : half + zones]]


def _literal_region(region: object, owner: str) -> None:
    """The region names endpoints and policies as text: an Output cannot be (VA stacks live
    in one region, the stack's ``aws:region``)."""
    if not isinstance(region, str):
        raise ValueError(
            f"{owner}.region takes the region as a literal (e.g. 'eu-central-1', the stack's "
            f"aws:region), not {type(region).__name__}"
        )


@dataclass(frozen=True)
class VaNetworkArgs:
    """The VPC's address range, zones and ways out."""

    # Environment and owner (names and tags).
    context: VaContext
    # The region of the zones and the endpoints' service names.
    region: str
    # The VPC's CIDR, split in 16 blocks: private subnets first, public ones in the second half.
    vpc_cidr: str
    # Two or more zones: one private subnet (and public one, with NAT) in each (kept as a tuple).
    availability_zones: Sequence[str]
    # One NAT gateway (in a public subnet) for calls to the internet; False: no internet.
    nat_gateway: bool = False
    # Interface endpoints for Secrets Manager and CloudWatch Logs, gateway ones for S3 and
    # DynamoDB, so functions reach them without NAT.
    vpc_endpoints: bool = True
    # Names the VPC va-<env>-<purpose>-vpc and its parts; None: the owner's
    # (VaContext.own_purpose), never the platform stack's (va-<env>-core-vpc).
    purpose: str | None = None

    @property
    def zones(self) -> int:
        return len(self.availability_zones)

    def __post_init__(self) -> None:
        # A tuple whatever sequence was given, so the args stay hashable and immutable.
        object.__setattr__(self, "availability_zones", tuple(self.availability_zones))
        if self.purpose is None:
            object.__setattr__(self, "purpose", self.context.own_purpose("VaNetworkArgs"))
        purpose_checked("VaNetworkArgs", self.context, self.purpose, "vpc")
        _literal_region(self.region, "VaNetworkArgs")
        if self.region not in standard.ALLOWED_REGIONS:
            raise ValueError(
                "VaNetworkArgs.region is not a region the VA standard allows (Control Tower "
                f"SCP); allowed: {', '.join(standard.ALLOWED_REGIONS)}"
            )
        if self.zones < 2:
            raise ValueError("availability_zones: a VA network spans two or more zones")
        other = [z for z in self.availability_zones if not _zone_of(z, self.region)]
        if other:
            raise ValueError(
                f"VaNetworkArgs.availability_zones {', '.join(map(str, other))}: not zones of "
                f"region {self.region} (e.g. {self.region}a)"
            )
        try:
            net = ipaddress.IPv4Network(self.vpc_cidr)
        except (ValueError, TypeError):
            raise ValueError(
                "VaNetworkArgs.vpc_cidr is not an IPv4 network in CIDR notation (e.g. "
                "10.60.0.0/16, host bits zero)"
            ) from None
        if not VPC_PREFIX[0] <= net.prefixlen <= VPC_PREFIX[1]:
            raise ValueError(
                f"VaNetworkArgs.vpc_cidr /{net.prefixlen}: a VPC here is /{VPC_PREFIX[0]} to "
                f"/{VPC_PREFIX[1]} (split in 16 blocks of at least /28, AWS's smallest subnet)"
            )
        try:
            subnet_plan(self.vpc_cidr, self.zones)
        except ValueError as exc:
            raise ValueError(f"VaNetworkArgs.vpc_cidr: {exc}") from None


def _zone_of(zone: object, region: str) -> bool:
    return isinstance(zone, str) and bool(re.fullmatch(rf"{re.escape(region)}[a-z]", zone))


class VaNetwork(VaComponent):
    """VPC, private subnets, optional NAT and endpoints, and the Lambda security group."""

    MODULE = "network"

    vpc: aws.ec2.Vpc
    private_subnets: list[aws.ec2.Subnet]
    lambda_security_group: aws.ec2.SecurityGroup
    private_subnet_ids: pulumi.Output[list[str]]

    def __init__(
        self, name: str, args: VaNetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args.context, opts=opts)
        ctx, purpose = args.context, purpose_of(args)
        private_cidrs, public_cidrs = subnet_plan(args.vpc_cidr, args.zones)

        def tags(type_: str) -> dict[str, str]:
            return ctx.tags(purpose, ctx.name(purpose, type_))

        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.vpc_cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,  # needed for private DNS of interface endpoints
            tags=tags("vpc"),
            opts=self.child_opts(),
        )
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg",
            vpc_id=self.vpc.id,
            ingress=[],
            egress=[],
            tags=tags("default-sg"),
            opts=self.child_opts(),
        )
        self.private_route_table = aws.ec2.RouteTable(
            f"{name}-private-rt",
            vpc_id=self.vpc.id,
            tags=tags("private-rt"),
            opts=self.child_opts(),
        )
        self.private_subnets = []
        for i, (az, cidr) in enumerate(zip(args.availability_zones, private_cidrs, strict=True)):
            subnet = aws.ec2.Subnet(
                f"{name}-private-{i}",
                vpc_id=self.vpc.id,
                cidr_block=cidr,
                availability_zone=az,
                map_public_ip_on_launch=False,
                tags=tags(f"private{i}-subnet"),
                opts=self.child_opts(),
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{i}-rta",
                subnet_id=subnet.id,
                route_table_id=self.private_route_table.id,
                opts=self.child_opts(),
            )
            self.private_subnets.append(subnet)

        self.nat_gateway: aws.ec2.NatGateway | None = None
        if args.nat_gateway:
            self.nat_gateway = self._nat(name, args, public_cidrs[0], tags)

        self.lambda_security_group = aws.ec2.SecurityGroup(
            f"{name}-lambda-sg",
            name=ctx.name("lambda", "sg"),
            description="VA Lambda functions: no inbound, outbound HTTPS only",
            vpc_id=self.vpc.id,
            ingress=[],
            egress=[
                aws.ec2.SecurityGroupEgressArgs(
                    description="HTTPS to AWS APIs and external APIs",
                    protocol="tcp",
                    from_port=HTTPS,
                    to_port=HTTPS,
                    cidr_blocks=["0.0.0.0/0"],
                )
            ],
            tags=ctx.tags("lambda", ctx.name("lambda", "sg")),
            opts=self.child_opts(),
        )
        self.endpoint_security_group: aws.ec2.SecurityGroup | None = None
        if args.vpc_endpoints:
            self._endpoints(name, args, tags)

        self.private_subnet_ids = pulumi.Output.all(*[s.id for s in self.private_subnets])
        self.register_outputs(
            {
                "vpcId": self.vpc.id,
                "privateSubnetIds": self.private_subnet_ids,
                "lambdaSecurityGroupId": self.lambda_security_group.id,
            }
        )

    def lambda_networking(self) -> LambdaNetworking:
        """Subnets and security group a VaLambda in this network uses."""
        return LambdaNetworking(
            subnet_ids=[s.id for s in self.private_subnets],
            subnet_arns=[s.arn for s in self.private_subnets],
            security_group_ids=[self.lambda_security_group.id],
            security_group_arns=[self.lambda_security_group.arn],
            vpc_id=self.vpc.id,
        )

    def _nat(self, name: str, args: VaNetworkArgs, cidr: str, tags: Tags) -> aws.ec2.NatGateway:
        igw = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=self.vpc.id, tags=tags("igw"), opts=self.child_opts()
        )
        public = aws.ec2.Subnet(
            f"{name}-public-0",
            vpc_id=self.vpc.id,
            cidr_block=cidr,
            availability_zone=args.availability_zones[0],
            map_public_ip_on_launch=False,  # only the NAT lives here, with its own EIP
            tags=tags("public0-subnet"),
            opts=self.child_opts(),
        )
        public_rt = aws.ec2.RouteTable(
            f"{name}-public-rt",
            vpc_id=self.vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=igw.id)],
            tags=tags("public-rt"),
            opts=self.child_opts(),
        )
        aws.ec2.RouteTableAssociation(
            f"{name}-public-0-rta",
            subnet_id=public.id,
            route_table_id=public_rt.id,
            opts=self.child_opts(),
        )
        eip = aws.ec2.Eip(
            f"{name}-nat-eip", domain="vpc", tags=tags("nat-eip"), opts=self.child_opts()
        )
        nat = aws.ec2.NatGateway(
            f"{name}-nat",
            allocation_id=eip.id,
            subnet_id=public.id,
            tags=tags("nat"),
            opts=self.child_opts(depends_on=[igw]),
        )
        aws.ec2.Route(
            f"{name}-private-default-route",
            route_table_id=self.private_route_table.id,
            destination_cidr_block="0.0.0.0/0",
            nat_gateway_id=nat.id,
            opts=self.child_opts(),
        )
        return nat

    def _endpoints(self, name: str, args: VaNetworkArgs, tags: Tags) -> None:
        ctx = args.context
        sg_name = ctx.name("vpce", "sg")
        self.endpoint_security_group = aws.ec2.SecurityGroup(
            f"{name}-vpce-sg",
            name=sg_name,
            description="VPC interface endpoints: HTTPS from VA Lambda functions only",
            vpc_id=self.vpc.id,
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    description="HTTPS from the Lambda security group",
                    protocol="tcp",
                    from_port=HTTPS,
                    to_port=HTTPS,
                    security_groups=[self.lambda_security_group.id],
                )
            ],
            egress=[],
            tags=ctx.tags("vpce", sg_name),
            opts=self.child_opts(),
        )
        for service in INTERFACE_ENDPOINTS:
            aws.ec2.VpcEndpoint(
                f"{name}-{service}-vpce",
                vpc_id=self.vpc.id,
                service_name=f"com.amazonaws.{args.region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=[s.id for s in self.private_subnets],
                security_group_ids=[self.endpoint_security_group.id],
                tags=tags(f"{service}-vpce"),
                opts=self.child_opts(),
            )
        for service in GATEWAY_ENDPOINTS:
            aws.ec2.VpcEndpoint(
                f"{name}-{service}-vpce",
                vpc_id=self.vpc.id,
                service_name=f"com.amazonaws.{args.region}.{service}",
                vpc_endpoint_type="Gateway",
                route_table_ids=[self.private_route_table.id],
                tags=tags(f"{service}-vpce"),
                opts=self.child_opts(),
            )
