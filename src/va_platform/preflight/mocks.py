"""Pulumi mocks that record every registered resource and answer as the engine would.

Two modes, as the engine has them for a policy pack:

- ``update``: the resources exist. Every output is known and realistic (ids, ARNs, URLs): the
  execution policy is built from them, and a test comparing policy statements is only
  meaningful if ``log_group.arn`` looks like what AWS returns.
- ``preview``: the first preview of a fresh stack. A resource to be created answers with its
  inputs (plus the provider's autoname) and nothing else, so the SDK itself makes every computed
  output (``id``, ``arn``, ...) unknown, and every input built from one (``apply``,
  ``Output.concat``, ``Output.json_dumps``) unknown as a whole. The monitor records unknowns as
  the engine sends them: the sentinel string ``pulumi.runtime.rpc.UNKNOWN``.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import keyword
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

import pulumi
import yaml
from google.protobuf import json_format
from pulumi._types import _py_properties
from pulumi.output import Unknown
from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks, rpc
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.proto import provider_pb2, resource_pb2
from pulumi.runtime.sync_await import _sync_await

from .arns import arn_of
from .invokes import ANSWERS, Where, unanswered

STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference"
# The account a run answers with when the stack config declares none (va-platform:accountId);
# each stack file declares its own, so dev and prod plans run in different accounts.
ACCOUNT = "123456789012"
ACCOUNT_KEY = "va-platform:accountId"
REGION = "eu-central-1"
STACK_TYPE = "pulumi:pulumi:Stack"
PROVIDER_TYPE_PREFIX = "pulumi:providers:"
AWS_PROVIDER_TYPE = "pulumi:providers:aws"
UNKNOWN = rpc.UNKNOWN
Mode = Literal["preview", "update"]
MODES: tuple[Mode, ...] = ("preview", "update")


@dataclass
class Recorded:
    """One registered resource as the engine would see it (inputs in camelCase)."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    # ``<provider urn>::<provider id>`` for an explicit provider, "" for the default one.
    provider: str = ""
    dependencies: list[str] = field(default_factory=list)
    # Input property -> the URNs of the resources its value came from (empty lists left out).
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    id: str = ""
    # The options the engine passes on to a pack (AnalyzerResourceOptions' field names).
    options: dict[str, Any] = field(default_factory=dict)
    # A stack's view of the resource: inputs plus the id/ARN fields AWS adds (in preview mode,
    # those computed fields are UNKNOWN).
    outputs: dict[str, Any] = field(default_factory=dict)
    # A multi-language component (``remote=True``): the engine would have its provider create
    # its children; offline nothing does, so they are neither recorded nor checked.
    remote: bool = False

    @property
    def parent_type(self) -> str:
        return self.parent.split("::")[2].split("$")[-1] if self.parent else ""


def _short(name: str, n: int = 17) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:n]


# A resource's id where AWS does not name it by its name: ``<prefix><17 hex>``, as EC2 ids are.
# The organization of a stack on a backend that has none (``pulumi login --local``): what
# ``pulumi.get_organization()`` answers there, and what the pack is told (ConfigureStack).
DEFAULT_ORGANIZATION = "organization"

ID_PREFIXES: dict[str, str] = {
    "aws:ec2/vpc:Vpc": "vpc-",
    "aws:ec2/subnet:Subnet": "subnet-",
    "aws:ec2/securityGroup:SecurityGroup": "sg-",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg-",
    "aws:ec2/securityGroupRule:SecurityGroupRule": "sgr-",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr-",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr-",
    "aws:ec2/routeTable:RouteTable": "rtb-",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc-",
    "aws:ec2/internetGateway:InternetGateway": "igw-",
    "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway": "eigw-",
    "aws:ec2/natGateway:NatGateway": "nat-",
    "aws:ec2/eip:Eip": "eipalloc-",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce-",
    "aws:ec2/instance:Instance": "i-",
    "aws:ec2/launchTemplate:LaunchTemplate": "lt-",
    "aws:ec2/networkInterface:NetworkInterface": "eni-",
    "aws:ec2/networkAcl:NetworkAcl": "acl-",
    "aws:ec2/volume:Volume": "vol-",
    "aws:ebs/volume:Volume": "vol-",
    "aws:ec2/keyPair:KeyPair": "key-",
    "aws:ec2/flowLog:FlowLog": "fl-",
    "aws:ec2/vpcPeeringConnection:VpcPeeringConnection": "pcx-",
    "aws:ec2transitgateway/transitGateway:TransitGateway": "tgw-",
    "aws:ec2/managedPrefixList:ManagedPrefixList": "pl-",
    "aws:ec2/vpnGateway:VpnGateway": "vgw-",
    "aws:ec2/customerGateway:CustomerGateway": "cgw-",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": "oidc-",
}
# Resources whose id is their name (the provider's id for them).
NAMED_IDS = frozenset({
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:cloudwatch/metricAlarm:MetricAlarm",
    "aws:sqs/queue:Queue",
    "aws:sns/topic:Topic",
    "aws:cloudwatch/eventRule:EventRule",
    "aws:scheduler/schedule:Schedule",
    "aws:iam/role:Role",
    "aws:iam/policy:Policy",
    "aws:lambda/function:Function",
    "aws:lambda/layerVersion:LayerVersion",
    "aws:secretsmanager/secret:Secret",
    "aws:dynamodb/table:Table",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketV2:BucketV2",
    "aws:ecr/repository:Repository",
})  # fmt: skip
# ARNs the catalogue's formats cannot give (``{n}`` the physical name, ``{a}``/``{r}`` account
# and region): Secrets Manager suffixes six random characters; an OIDC provider is named by
# its URL.
HAND_ARNS: dict[str, str] = {
    "aws:secretsmanager/secret:Secret": "arn:aws:secretsmanager:{r}:{a}:secret:{n}-AbCdEf",
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": (
        "arn:aws:iam::{a}:oidc-provider/token.actions.githubusercontent.com"
    ),
}
# Inputs AWS defaults where an ARN is built on them.
_ARN_DEFAULTS: dict[str, dict[str, str]] = {
    "aws:scheduler/schedule:Schedule": {"groupName": "default"},
}
# The input holding a resource's own physical name, where it is not ``name``. Other resources
# with a ``bucket`` or ``functionName`` input merely point at another resource.
NAME_PROPERTY = {
    "aws:s3/bucket:Bucket": "bucket",
    "aws:s3/bucketV2:BucketV2": "bucket",
    "aws:lambda/layerVersion:LayerVersion": "layerName",
    "aws:apigateway/stage:Stage": "stageName",
    "aws:ecs/taskDefinition:TaskDefinition": "family",
}


# S3 buckets (v7 keeps BucketV2 as a deprecated alias of Bucket): pulumi-aws autonames their
# ``bucket``.
AUTONAMED_BUCKETS = frozenset({"aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"})


def physical_name_of(type_: str, inputs: dict[str, Any]) -> str | None:
    value = inputs.get(NAME_PROPERTY.get(type_, "name"))
    return value if isinstance(value, str) and value and value != UNKNOWN else None


def autoname(logical: str) -> str:
    """``<logical>-<7 hex>``, as pulumi-aws names a resource the program does not name (the
    provider's suffix is random; here it is derived from the name, so runs compare)."""
    return f"{logical}-{_short(logical, 7)}"


@cache
def _sdk_class(type_: str) -> type | None:
    """The pulumi_aws class of a type token (``aws:lambda/function:Function`` ->
    ``pulumi_aws.lambda_.Function``), or None for other packages and unknown types."""
    package, module_path, name = [*type_.split(":"), "", ""][:3]
    if package != "aws" or not name:
        return None
    module = module_path.split("/")[0]
    module = f"{module}_" if keyword.iskeyword(module) else module
    try:
        cls = getattr(importlib.import_module(f"pulumi_aws.{module}"), name)
    except (ImportError, AttributeError):
        return None
    return cls if isinstance(cls, type) else None


@cache
def _input_names(type_: str) -> frozenset[str]:
    init = getattr(_sdk_class(type_), "_internal_init", None)
    try:
        return frozenset(inspect.signature(init).parameters) if init else frozenset()
    except (TypeError, ValueError):
        return frozenset()


@cache
def autonamed_property(type_: str) -> str | None:
    """The input pulumi-aws fills with an autoname when the program leaves it out, or None.

    pulumi-aws autonames every resource whose schema has a settable ``name`` (and S3 buckets'
    ``bucket``); read from the SDK's own signature of the resource, so any aws type is covered.
    """
    if type_ in NAME_PROPERTY:
        return NAME_PROPERTY[type_] if type_ in AUTONAMED_BUCKETS else None
    return "name" if "name" in _input_names(type_) else None


@cache
def computed_strings(type_: str) -> tuple[str, ...]:
    """Engine names of the outputs a type computes and always has, as strings (``invokeArn``,
    ``apiEndpoint``, ``domainName``, ...): its SDK class's ``Output[str]`` properties that are
    not inputs. Known after an update, unknown in a first preview."""
    cls = _sdk_class(type_)
    if cls is None:
        return ()
    inputs = _input_names(type_)
    return tuple(
        pulumi_name
        for python_name, pulumi_name, prop in _py_properties(cls)
        if python_name not in inputs
        and getattr(prop.fget, "__annotations__", {}).get("return") == pulumi.Output[str]
    )


@cache
def string_outputs(type_: str) -> frozenset[str]:
    """Engine names of every ``Output[str]`` property of a type, inputs included: where the
    provider hands back a string, even when the program gave an object (a policy given as a
    PolicyDocument dict comes back as its JSON)."""
    cls = _sdk_class(type_)
    if cls is None:
        return frozenset()
    return frozenset(
        pulumi_name
        for _, pulumi_name, prop in _py_properties(cls)
        if getattr(prop.fget, "__annotations__", {}).get("return") == pulumi.Output[str]
    )


def as_provider_returns(type_: str, state: dict[str, Any]) -> dict[str, Any]:
    """``state`` with each object given for a string property as the JSON the provider sends."""
    objects = {
        key: _provider_json(value)
        for key, value in state.items()
        if isinstance(value, dict) and not _is_secret(value) and key in string_outputs(type_)
    }
    objects.update({
        key: _provider_json(value)
        for key, value in state.items()
        if _is_secret(value) and isinstance(value.get("value"), dict)
        and key in string_outputs(type_)
    })  # fmt: skip
    return {**state, **objects} if objects else state


def account_of(config: dict[str, Any]) -> str:
    """The account a stack declares (``va-platform:accountId``), else ACCOUNT."""
    value = config.get(ACCOUNT_KEY)
    return value if isinstance(value, str) and value else ACCOUNT


def computed_value(
    type_: str, prop: str, name: str, account: str = ACCOUNT, region: str = REGION
) -> str:
    """A well-formed stand-in for a computed string output of resource ``name``, where the
    catalogue and the types below know no better."""
    service = type_.split(":")[1].split("/")[0]
    lower = prop.lower()
    if lower.endswith("arn"):
        kind = type_.rsplit(":", 1)[-1].lower() if prop == "arn" else prop
        return f"arn:aws:{service}:{region}:{account}:{kind}/{name}"
    if lower.endswith(("url", "endpoint")):
        return f"https://{name}.{service}.{region}.amazonaws.com"
    if lower.endswith("domainname"):
        return f"{name}.{service}.{region}.amazonaws.com"
    return f"{name}-{prop}"


def _resource_id(type_: str, logical: str, physical: str) -> str:
    """KMS keys get a UUID, API Gateway's resources its short ids, named resources their name,
    the rest ``<prefix><hash>``."""
    if type_ == "aws:kms/key:Key":
        h = _short(logical, 32)
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
    if type_ in ("aws:apigateway/restApi:RestApi", "aws:apigatewayv2/api:Api"):
        return _short(logical, 10)
    if type_.startswith("aws:apigateway/") or type_.startswith("aws:apigatewayv2/"):
        return _short(logical, 6)
    if type_ in NAMED_IDS:
        return physical
    return f"{ID_PREFIXES.get(type_, '')}{_short(logical)}"


def _provider_json(value: Any) -> Any:
    """An object given for a string property, as the provider hands it back: its JSON; unknown
    as a whole if any part of it is unknown, secret as a whole if any part is secret."""
    secret = False

    def plain(v: Any) -> Any:
        nonlocal secret
        if isinstance(v, Unknown) or v == UNKNOWN:
            raise _UnknownPartError
        if _is_secret(v):
            secret = True
            return plain(v.get("value"))
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        if isinstance(v, list):
            return [plain(x) for x in v]
        return v

    try:
        text: Any = json.dumps(plain(value))
    except _UnknownPartError:
        text = UNKNOWN
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": text} if secret else text


class _UnknownPartError(Exception):
    pass


class VaMocks(Mocks):
    """Update: outputs = inputs plus the id/ARN/name fields AWS would add. Preview: inputs."""

    def __init__(
        self,
        mode: Mode = "update",
        stack_references: Mapping[str, Mapping[str, Any]] | None = None,
        account: str = ACCOUNT,
        region: str = REGION,
        invokes: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.mode = mode
        self.account = account
        # The stack's region (aws:region); a resource's own ``region`` or its explicit
        # provider's wins.
        self.region = region
        # ``org/project/stack`` -> that stack's outputs, as ``--stack-references`` supplies them.
        self.stack_references = dict(stack_references or {})
        # Data source token -> its result, as ``--invokes`` supplies them (over our answers).
        self.invokes = dict(invokes or {})
        # What the run cannot emulate faithfully: each one line, the run's error afterwards.
        self.problems: list[str] = []
        # Explicit aws providers' regions, by provider id.
        self._provider_regions: dict[str, str] = {}
        # The SDK calls the monitor from executor threads; each RegisterResource reads back the
        # inputs its own new_resource call saw.
        self._local = threading.local()

    @property
    def last_inputs(self) -> dict[str, Any]:
        return self._local.inputs

    @property
    def last_state(self) -> dict[str, Any]:
        return self._local.state

    def _region_of(self, inputs: Mapping[str, Any], provider: str | None) -> str:
        own = inputs.get("region")
        if isinstance(own, str) and own and own != UNKNOWN:
            return own
        return self._provider_regions.get((provider or "").rsplit("::", 1)[-1], self.region)

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        if args.typ == STACK_REFERENCE_TYPE:
            return self._stack_reference(args)
        inputs = args.inputs
        named = autonamed_property(args.typ)
        if named and named not in inputs:
            inputs = {**inputs, named: autoname(args.name)}
        self._local.inputs = inputs
        rid, state = self._created(args, inputs)
        if args.typ == AWS_PROVIDER_TYPE and isinstance(inputs.get("region"), str):
            self._provider_regions[rid] = inputs["region"]
        if self.mode == "preview" and not args.typ.startswith(PROVIDER_TYPE_PREFIX):
            # Created in the preview: the provider knows the inputs only; everything it would
            # add is unknown until the resource exists.
            computed = {key: UNKNOWN for key in state if key not in inputs}
            self._local.state = {**inputs, **computed, "id": UNKNOWN}
            return None, as_provider_returns(args.typ, dict(inputs))
        self._local.state = {**state, "id": rid}
        return rid, state

    def _stack_reference(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        """Another stack's outputs: supplied, or unknown in a first preview (the engine would
        read them; offline they are known only if given). An update needs them."""
        name = str(args.inputs.get("name") or args.name)
        self._local.inputs = dict(args.inputs)
        outputs = self.stack_references.get(name)
        if outputs is None and self.mode == "update":
            # Reported after the run (raising here would leave the SDK's tasks to asyncio's
            # "exception never retrieved" noise); the run goes on with the outputs unknown.
            self.problems.append(
                f"StackReference {name!r}: its outputs are not supplied; pass --stack-references "
                f'FILE with {{"{name}": {{"<output>": <value>, ...}}}}'
            )
        missing = UNKNOWN if self.mode == "preview" else {}
        state = {"name": name, "outputs": missing if outputs is None else dict(outputs),
                 "secretOutputNames": []}  # fmt: skip
        self._local.state = {**state, "id": name}
        return name, state

    def _created(self, args: MockResourceArgs, inputs: dict[str, Any]) -> tuple[str, dict]:
        """The id and outputs of the resource once it exists."""
        state = dict(inputs)
        typ, account = args.typ, self.account
        region = self._region_of(inputs, args.provider)
        name = physical_name_of(typ, inputs) or autoname(args.name)
        rid = _resource_id(typ, args.name, name)
        if typ == "aws:kms/key:Key":
            state["keyId"] = rid
        if "arn" in string_outputs(typ) or typ in HAND_ARNS:
            arn = (
                HAND_ARNS[typ].format(r=region, a=account, n=name)
                if typ in HAND_ARNS
                else arn_of(typ, {**_ARN_DEFAULTS.get(typ, {}), **inputs}, name, rid, region,
                            account)
            )  # fmt: skip
            if arn:
                state["arn"] = arn
        if typ == "aws:sqs/queue:Queue":
            state["url"] = f"https://sqs.{region}.amazonaws.com/{account}/{name}"
        if typ == "aws:lambda/layerVersion:LayerVersion":
            state["layerArn"] = state["arn"].rsplit(":", 1)[0]
        if typ == "aws:lambda/function:Function":
            state["version"] = "1" if args.inputs.get("publish") else "$LATEST"
            state["qualifiedArn"] = f"{state['arn']}:{state['version']}"
        if typ == "aws:lambda/alias:Alias":
            function = args.inputs.get("functionName", "")
            state["arn"] = f"arn:aws:lambda:{region}:{account}:function:{function}:{name}"
        if typ in ("aws:lambda/function:Function", "aws:lambda/alias:Alias"):
            # What API Gateway integrations call: the function's (or alias's) ARN in a path.
            invoke = (
                f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{{}}/invocations"
            )
            state["invokeArn"] = invoke.format(state["arn"])
            if "qualifiedArn" in state:
                state["qualifiedInvokeArn"] = invoke.format(state["qualifiedArn"])
        if typ == "aws:ecs/taskDefinition:TaskDefinition" and "arn" in state:
            state["arnWithoutRevision"] = state["arn"].rsplit(":", 1)[0]
            state["revision"] = 1
        if typ == "aws:ecr/repository:Repository":
            state["repositoryUrl"] = f"{account}.dkr.ecr.{region}.amazonaws.com/{name}"
            state["registryId"] = account
        state.update(_api_gateway(typ, inputs, rid, region, account))
        if typ == "aws:cloudformation/stack:Stack":
            state["outputs"] = cloudformation_outputs(inputs, name)
        if typ == "docker:index/image:Image":
            # What a push returns: the repository by digest (the tag is dropped).
            image = str(args.inputs.get("imageName", ""))
            digest = hashlib.sha256(image.encode()).hexdigest()
            state["repoDigest"] = f"{image.rsplit(':', 1)[0]}@sha256:{digest}"
        for prop in computed_strings(typ):
            state.setdefault(prop, computed_value(typ, prop, name, account, region))
        return rid, as_provider_returns(typ, state)

    def call(self, args: MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        """A data source's result: supplied (``--invokes``), else computed or made up as AWS
        would answer it (``preflight.invokes``); else one line saying how to supply it."""
        # The SDK accepts a plain dict too (pulumi.runtime.mocks.MockMonitor.Invoke).
        if args.token in self.invokes:
            return dict(self.invokes[args.token])
        where = Where(self.account, self._region_of(args.args, args.provider))
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": self.account,
                "arn": f"arn:aws:iam::{self.account}:user/plan",
                "userId": "AIDAPLAN",
                "id": self.account,
            }
        if args.token == "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            return {
                "authorizationToken": "QVdTOm1vY2s=",
                "userName": "AWS",
                "password": "mock-ecr-password",
                "proxyEndpoint": f"https://{self.account}.dkr.ecr.{where.region}.amazonaws.com",
                "expiresAt": "2026-11-23T00:00:00Z",
                "id": where.region,
            }
        answer = ANSWERS.get(args.token)
        if answer is not None:
            return answer(args.args, where)
        self.problems.append(unanswered(args.token))
        return {}


# Resource types of CloudFormation whose ``Ref`` is an id with a known prefix.
_CFN_ID_PREFIXES = {
    "AWS::EC2::VPC": "vpc-",
    "AWS::EC2::Subnet": "subnet-",
    "AWS::EC2::SecurityGroup": "sg-",
    "AWS::EC2::InternetGateway": "igw-",
    "AWS::EC2::RouteTable": "rtb-",
    "AWS::EC2::NatGateway": "nat-",
    "AWS::EC2::Instance": "i-",
    "AWS::EC2::EIP": "eipalloc-",
}


class _CloudFormationLoader(yaml.SafeLoader):
    """YAML templates with CloudFormation's short forms (``!Ref Vpc``) read as the long ones."""


def _short_form(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node)
    else:
        value = loader.construct_mapping(node)
    return {suffix if suffix == "Ref" else f"Fn::{suffix}": value}


_CloudFormationLoader.add_multi_constructor("!", _short_form)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def cloudformation_outputs(inputs: Mapping[str, Any], stack: str) -> dict[str, Any]:
    """A CloudFormation stack's ``outputs`` as AWS answers them: one per ``Outputs`` key of
    its template (JSON or YAML); a ``Ref`` to a parameter is the value given (or its default),
    to a resource its id; anything else a string naming the output. No template body (a
    ``templateUrl``): no outputs known."""
    body = inputs.get("templateBody")
    try:
        template = yaml.load(body, Loader=_CloudFormationLoader) if isinstance(body, str) else {}
    except yaml.YAMLError:
        template = {}
    if not isinstance(template, dict) or not isinstance(template.get("Outputs"), dict):
        return {}
    parameters = _mapping(template.get("Parameters"))
    resources = _mapping(template.get("Resources"))
    given = _mapping(inputs.get("parameters"))

    def value(key: str, output: Any) -> Any:
        ref = output.get("Value") if isinstance(output, dict) else None
        ref = ref.get("Ref") if isinstance(ref, dict) else None
        if isinstance(ref, str) and ref in given:
            return given[ref]
        if isinstance(ref, str) and isinstance(parameters.get(ref), dict):
            return parameters[ref].get("Default", f"{stack}-{key}")
        kind = _mapping(resources.get(ref)).get("Type") if isinstance(ref, str) else None
        if kind in _CFN_ID_PREFIXES:
            return f"{_CFN_ID_PREFIXES[kind]}{_short(f'{stack}/{ref}')}"
        return f"{stack}-{key}"

    return {key: value(key, output) for key, output in template["Outputs"].items()}


def _api_gateway(
    typ: str, inputs: Mapping[str, Any], rid: str, region: str, account: str
) -> dict[str, Any]:
    """API Gateway's ids, ARNs and URLs: an API is named by a 10-character id, and its
    execution ARN (what a Lambda permission's sourceArn names) is
    ``arn:aws:execute-api:<region>:<account>:<api id>[/<stage>/<method>/<path>]``."""
    if typ == "aws:apigatewayv2/api:Api":
        return {
            "arn": f"arn:aws:apigateway:{region}::/apis/{rid}",
            "executionArn": f"arn:aws:execute-api:{region}:{account}:{rid}",
            "apiEndpoint": f"https://{rid}.execute-api.{region}.amazonaws.com",
        }
    if typ == "aws:apigatewayv2/stage:Stage":
        api, stage = inputs.get("apiId", ""), inputs.get("name", "")
        return {
            "arn": f"arn:aws:apigateway:{region}::/apis/{api}/stages/{stage}",
            "executionArn": f"arn:aws:execute-api:{region}:{account}:{api}/{stage}",
            "invokeUrl": f"https://{api}.execute-api.{region}.amazonaws.com/{stage}",
        }
    if typ == "aws:apigateway/restApi:RestApi":
        return {
            "arn": f"arn:aws:apigateway:{region}::/restapis/{rid}",
            "executionArn": f"arn:aws:execute-api:{region}:{account}:{rid}",
            "rootResourceId": _short(f"{rid}/", 10),
        }
    if typ == "aws:apigateway/stage:Stage":
        api, stage = inputs.get("restApi", ""), inputs.get("stageName", "")
        return {
            "arn": f"arn:aws:apigateway:{region}::/restapis/{api}/stages/{stage}",
            "executionArn": f"arn:aws:execute-api:{region}:{account}:{api}/{stage}",
            "invokeUrl": f"https://{api}.execute-api.{region}.amazonaws.com/{stage}",
        }
    if typ == "aws:apigateway/deployment:Deployment":
        api, stage = inputs.get("restApi", ""), inputs.get("stageName", "") or ""
        return {
            "executionArn": f"arn:aws:execute-api:{region}:{account}:{api}/{stage}",
            "invokeUrl": f"https://{api}.execute-api.{region}.amazonaws.com/{stage}",
        }
    if typ == "aws:apigateway/resource:Resource":
        return {"path": "/" + str(inputs.get("pathPart", ""))}
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

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """As the engine makes URNs: the root stack's type is not part of its children's."""
        if parent and parent.split("::")[2] == STACK_TYPE:
            parent = ""
        return super().make_urn(parent, type_, name)

    # A resource given as another's input (``vpc_id=vpc``): the engine hands the provider and
    # the pack its id (a component's URN), never a reference (the analyzer marshals without
    # KeepResources). Without the feature the SDK sends exactly that; with it, the mock monitor
    # would deserialize the reference into a new resource object whose id it then waits for on
    # its own event loop, forever.
    def SupportsFeature(self, request: Any) -> Any:  # noqa: N802
        if request.id == "resourceReferences":
            return type("SupportsFeatureResponse", (object,), {"hasSupport": False})
        return super().SupportsFeature(request)

    def GetDeploymentInfo(self, request: Any) -> Any:  # noqa: N802
        info = super().GetDeploymentInfo(request)
        features = [
            f for f in info.supportedFeatures
            if f != resource_pb2.RESOURCE_MONITOR_FEATURE_RESOURCE_REFERENCES
        ]  # fmt: skip
        return resource_pb2.DeploymentInfo(supportedFeatures=features)

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        if request.remote:
            # Its outputs come from a component provider that does not run offline: unknown,
            # in both modes (what the SDK does for a resource the engine says failed), so
            # nothing built from them passes for a value.
            response = resource_pb2.RegisterResourceResponse(
                urn=response.urn, id=response.id, result=resource_pb2.Result.FAIL
            )
        if request.type == STACK_TYPE:
            self.stack_urn = response.urn
        else:
            # Already deserialized once for the mocks; doing it again doubles the cost.
            inputs = _leaf_secrets(self.va_mocks.last_inputs, request.object)
            outputs = self.va_mocks.last_state if request.custom else {}
            if self.va_mocks.mode == "preview":
                inputs, outputs = engine_unknowns(inputs), engine_unknowns(outputs)
            self.recorded.append(
                Recorded(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    parent=request.parent,
                    custom=request.custom,
                    inputs=inputs,
                    provider=request.provider,
                    dependencies=list(request.dependencies),
                    property_dependencies={
                        key: list(deps.urns)
                        for key, deps in request.propertyDependencies.items()
                        if deps.urns
                    },
                    id=response.id,
                    options=_options(request),
                    outputs=outputs,
                    remote=request.remote,
                )
            )
        return response

    def Call(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        """A method of a resource (``Provider.terraform_config``), which only the resource's
        provider answers: supplied (``--invokes``, by the method's token), else one line saying
        how to supply it. (A multi-language component's methods never get here: see
        ``runner._component_methods_unknown``.)"""
        if request.tok in self.va_mocks.invokes:
            result: dict[str, Any] = dict(self.va_mocks.invokes[request.tok])
        else:
            self.va_mocks.problems.append(unanswered(request.tok, "resource method"))
            result = {}
        returned = _sync_await(rpc.serialize_properties(result, {}))
        return provider_pb2.CallResponse(**{"return": returned})

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802
        outputs = _plain(rpc.deserialize_properties(request.outputs, keep_unknowns=True))
        self.outputs_by_urn[request.urn] = outputs
        if request.urn == self.stack_urn:
            self.stack_outputs = outputs
        return super().RegisterResourceOutputs(request)


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


def _leaf_secrets(inputs: dict[str, Any], sent: Any) -> dict[str, Any]:
    """``inputs`` with secrets where the program put them. The SDK sends a secret nested in an
    argument (one env var) marked at its leaf, and the engine hands it on so; deserializing
    lifts the mark to the whole argument, which would hide its plain values from the pack.
    Those arguments are read again from what was sent, marks in place."""
    lifted = [
        key for key, value in inputs.items()
        if _is_secret(value) and isinstance(value.get("value"), dict | list) and key in sent.fields
    ]  # fmt: skip
    if not lifted:
        return inputs
    return {**inputs, **{key: json_format.MessageToDict(sent.fields[key]) for key in lifted}}


def _options(request: Any) -> dict[str, Any]:
    """What of a registration's options the engine hands a policy pack, where it is set."""
    options = {
        "protect": request.protect,
        "ignoreChanges": list(request.ignoreChanges),
        "deleteBeforeReplace": request.deleteBeforeReplace,
        "deleteBeforeReplaceDefined": request.deleteBeforeReplaceDefined,
        "additionalSecretOutputs": list(request.additionalSecretOutputs),
        "aliases": list(request.aliasURNs),
    }
    return {key: value for key, value in options.items() if value}


def engine_unknowns(value: Any) -> Any:
    """The SDK's ``Unknown`` placeholders (anywhere in a value) as the engine's sentinel."""
    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, dict):
        return {k: engine_unknowns(v) for k, v in value.items()}
    if isinstance(value, list):
        return [engine_unknowns(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    """Secrets stay marked: a plan must show that a value is secret, never the value."""
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return "[secret]"
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return engine_unknowns(value)
