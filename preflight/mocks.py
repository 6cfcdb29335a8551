"""Pulumi mocks that record every registered resource and answer with realistic ids and ARNs.

Realistic ARNs matter: the execution policy is built from them, and a test comparing policy
statements is only meaningful if ``log_group.arn`` looks like what AWS returns.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks, rpc
from pulumi.runtime.mocks import MockMonitor

ACCOUNT = "123456789012"
REGION = "eu-central-1"
STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass
class Recorded:
    """One registered resource as the engine would see it (inputs in camelCase)."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    provider: str = ""
    dependencies: list[str] = field(default_factory=list)
    id: str = ""
    # What the mocks answered: inputs plus the id/ARN fields AWS adds (a stack's outputs).
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def parent_type(self) -> str:
        return self.parent.split("::")[2].split("$")[-1] if self.parent else ""


def _short(name: str, n: int = 17) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:n]


# Per type: (id prefix, or None when the id is not a prefixed hash, ARN template). ``{n}`` is
# the physical name, ``{i}`` the id, ``{a}``/``{r}`` account and region.
_ARNS: dict[str, tuple[str | None, str]] = {
    "aws:ec2/vpc:Vpc": ("vpc-", "arn:aws:ec2:{r}:{a}:vpc/{i}"),
    "aws:ec2/subnet:Subnet": ("subnet-", "arn:aws:ec2:{r}:{a}:subnet/{i}"),
    "aws:ec2/securityGroup:SecurityGroup": ("sg-", "arn:aws:ec2:{r}:{a}:security-group/{i}"),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": (
        "sg-",
        "arn:aws:ec2:{r}:{a}:security-group/{i}",
    ),
    "aws:ec2/routeTable:RouteTable": ("rtb-", "arn:aws:ec2:{r}:{a}:route-table/{i}"),
    "aws:ec2/internetGateway:InternetGateway": ("igw-", "arn:aws:ec2:{r}:{a}:internet-gateway/{i}"),
    "aws:ec2/natGateway:NatGateway": ("nat-", ""),
    "aws:ec2/eip:Eip": ("eipalloc-", ""),
    "aws:ec2/vpcEndpoint:VpcEndpoint": ("vpce-", "arn:aws:ec2:{r}:{a}:vpc-endpoint/{i}"),
    "aws:cloudwatch/logGroup:LogGroup": (None, "arn:aws:logs:{r}:{a}:log-group:{n}"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": (None, "arn:aws:cloudwatch:{r}:{a}:alarm:{n}"),
    "aws:sqs/queue:Queue": (None, "arn:aws:sqs:{r}:{a}:{n}"),
    "aws:sns/topic:Topic": (None, "arn:aws:sns:{r}:{a}:{n}"),
    "aws:cloudwatch/eventRule:EventRule": (None, "arn:aws:events:{r}:{a}:rule/{n}"),
    "aws:scheduler/schedule:Schedule": (None, "arn:aws:scheduler:{r}:{a}:schedule/default/{n}"),
    "aws:iam/role:Role": (None, "arn:aws:iam::{a}:role/{n}"),
    "aws:lambda/function:Function": (None, "arn:aws:lambda:{r}:{a}:function:{n}"),
    "aws:lambda/layerVersion:LayerVersion": (None, "arn:aws:lambda:{r}:{a}:layer:{n}:1"),
    "aws:secretsmanager/secret:Secret": (None, "arn:aws:secretsmanager:{r}:{a}:secret:{n}-AbCdEf"),
    "aws:kms/key:Key": (None, "arn:aws:kms:{r}:{a}:key/{i}"),  # id: see _resource_id
    "aws:dynamodb/table:Table": (None, "arn:aws:dynamodb:{r}:{a}:table/{n}"),
    "aws:s3/bucket:Bucket": (None, "arn:aws:s3:::{n}"),
    "aws:ecr/repository:Repository": (None, "arn:aws:ecr:{r}:{a}:repository/{n}"),
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": (
        "oidc-",
        "arn:aws:iam::{a}:oidc-provider/token.actions.githubusercontent.com",
    ),
}
# The input holding a resource's own physical name, where it is not ``name``. Other resources
# with a ``bucket`` or ``functionName`` input merely point at another resource.
NAME_PROPERTY = {
    "aws:s3/bucket:Bucket": "bucket",
    "aws:lambda/layerVersion:LayerVersion": "layerName",
}


def physical_name_of(type_: str, inputs: dict[str, Any]) -> str | None:
    value = inputs.get(NAME_PROPERTY.get(type_, "name"))
    return value if isinstance(value, str) and value else None


def _resource_id(type_: str, logical: str, physical: str, prefix: str | None) -> str:
    """KMS keys get a UUID, named resources their name, the rest ``<prefix><hash>``."""
    if type_ == "aws:kms/key:Key":
        h = _short(logical, 32)
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
    return physical if prefix is None else f"{prefix}{_short(logical)}"


class VaMocks(Mocks):
    """Outputs = inputs plus the id/ARN/name fields AWS would add."""

    def __init__(self) -> None:
        # The SDK calls the monitor from executor threads; each RegisterResource reads back the
        # inputs its own new_resource call saw.
        self._local = threading.local()

    @property
    def last_inputs(self) -> dict[str, Any]:
        return self._local.inputs

    @property
    def last_state(self) -> dict[str, Any]:
        return self._local.state

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        self._local.inputs = args.inputs
        state = dict(args.inputs)
        name = physical_name_of(args.typ, args.inputs) or f"{args.name}-{_short(args.name, 7)}"
        prefix, arn = _ARNS.get(args.typ, ("", ""))
        rid = _resource_id(args.typ, args.name, name, prefix)
        if args.typ == "aws:kms/key:Key":
            state["keyId"] = rid
        if arn:
            state["arn"] = arn.format(r=REGION, a=ACCOUNT, n=name, i=rid)
        if args.typ == "aws:sqs/queue:Queue":
            state["url"] = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"
        if args.typ == "aws:lambda/layerVersion:LayerVersion":
            state["layerArn"] = state["arn"].rsplit(":", 1)[0]
        if args.typ == "aws:lambda/function:Function":
            state["version"] = "1" if args.inputs.get("publish") else "$LATEST"
        if args.typ == "aws:lambda/alias:Alias":
            function = args.inputs.get("functionName", "")
            state["arn"] = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}:{name}"
        if args.typ == "aws:ecr/repository:Repository":
            state["repositoryUrl"] = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{name}"
            state["registryId"] = ACCOUNT
        if args.typ == "docker:index/image:Image":
            # What a push returns: the repository by digest (the tag is dropped).
            image = str(args.inputs.get("imageName", ""))
            digest = hashlib.sha256(image.encode()).hexdigest()
            state["repoDigest"] = f"{image.rsplit(':', 1)[0]}@sha256:{digest}"
        self._local.state = {**state, "id": rid}
        return rid, state

    def call(self, args: MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        # The SDK accepts a plain dict too (pulumi.runtime.mocks.MockMonitor.Invoke).
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT,
                "arn": f"arn:aws:iam::{ACCOUNT}:user/plan",
                "userId": "AIDAPLAN",
                "id": ACCOUNT,
            }
        if args.token == "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            return {
                "authorizationToken": "QVdTOm1vY2s=",
                "userName": "AWS",
                "password": "mock-ecr-password",
                "proxyEndpoint": f"https://{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com",
                "expiresAt": "2026-11-23T00:00:00Z",
                "id": REGION,
            }
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": REGION, "region": REGION, "id": REGION}
        return {}


class RecordingMonitor(MockMonitor):
    """The SDK's mock monitor, plus the parent, provider and dependencies it otherwise drops."""

    def __init__(self, mocks: VaMocks) -> None:
        super().__init__(mocks)
        self.va_mocks = mocks
        self.recorded: list[Recorded] = []
        self.stack_outputs: dict[str, Any] = {}
        self.outputs_by_urn: dict[str, dict[str, Any]] = {}
        self.stack_urn = ""

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        if request.type == STACK_TYPE:
            self.stack_urn = response.urn
        else:
            self.recorded.append(
                Recorded(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    parent=request.parent,
                    custom=request.custom,
                    # Already deserialized once for the mocks; doing it again doubles the cost.
                    inputs=self.va_mocks.last_inputs,
                    provider=request.provider,
                    dependencies=list(request.dependencies),
                    id=response.id,
                    outputs=self.va_mocks.last_state if request.custom else {},
                )
            )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802
        outputs = _plain(rpc.deserialize_properties(request.outputs, keep_unknowns=True))
        self.outputs_by_urn[request.urn] = outputs
        if request.urn == self.stack_urn:
            self.stack_outputs = outputs
        return super().RegisterResourceOutputs(request)


def _plain(value: Any) -> Any:
    """Secrets stay marked: a plan must show that a value is secret, never the value."""
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return "[secret]"
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
