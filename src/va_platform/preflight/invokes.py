"""What the AWS provider answers a program's data sources (invokes), offline.

The answers real programs rely on are computed the way the provider computes them
(``iam.getPolicyDocument`` renders its statements to the provider's own JSON), or made up in
AWS's own formats for the run's account and region (``getAmi``, ``getVpc``, ``getSubnets``,
...). A data source the preflight has no answer for is never answered with ``{}``: the run says
which call it is and how to supply its result (``--invokes FILE``: ``{"<token>": {result}}``).
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN

PARTITION = "aws"
# The default VPC's CIDR in every region, and its subnets' (one per zone).
DEFAULT_VPC_CIDR = "172.31.0.0/16"
ZONE_LETTERS = "abc"
# Zone ids are account-specific; these have AWS's shape: <area><direction><n>-az<i> (euc1-az1).
_DIRECTIONS = {
    "central": "c",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
    "northeast": "ne",
    "northwest": "nw",
    "southeast": "se",
    "southwest": "sw",
}


def _hex(seed: str, n: int = 17) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:n]


def _seed(args: Mapping[str, Any]) -> str:
    """The arguments as a stable string to derive ids from: a value unknown offline (an
    unexpanded component's output) is the engine's unknown, not its placeholder's address."""

    def stable(value: Any) -> Any:
        return UNKNOWN if isinstance(value, Unknown) else str(value)

    return json.dumps(args, sort_keys=True, default=stable)


def _arg(args: Mapping[str, Any], camel: str) -> Any:
    """An invoke argument by its engine (camelCase) name, or by the Python name a program that
    passes plain dicts uses (``not_actions``): the SDK sends dict keys as given."""
    if camel in args:
        return args[camel]
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in camel)
    return args.get(snake)


@dataclass(frozen=True)
class Where:
    """The account and region a data source is read in."""

    account: str
    region: str

    def zones(self) -> list[str]:
        return [f"{self.region}{letter}" for letter in ZONE_LETTERS]

    def zone_ids(self) -> list[str]:
        area, _, rest = self.region.partition("-")
        direction, _, number = rest.rpartition("-")
        short = area + _DIRECTIONS.get(direction, direction[:1]) + number
        return [f"{short}-az{i}" for i in range(1, len(ZONE_LETTERS) + 1)]


# --- iam.getPolicyDocument, as terraform-provider-aws renders it ------------------------------
# (internal/service/iam/policy_document_data_source.go and policy_model.go): a statement's
# action, resource and principal sets become one string when they hold one value, else a list
# sorted in reverse; condition values keep their order (one value: a string); principals and
# conditions are JSON objects with sorted keys; ``json`` is indented by two spaces, and Go's
# encoder escapes <, > and & as \u003c, \u003e, \u0026.

_STATEMENT_KEYS = ("Sid", "Effect", "Action", "NotAction", "Resource", "NotResource",
                   "Principal", "NotPrincipal", "Condition")  # fmt: skip


def _strings(values: Sequence[str]) -> str | list[str]:
    """A set of strings as the provider writes it: the one value, or all reverse-sorted."""
    unique = sorted(set(values), reverse=True)
    return unique[0] if len(unique) == 1 else unique


def _variables(values: str | list[str]) -> str | list[str]:
    """``&{aws:username}`` is how HCL escapes an IAM policy variable; the provider writes ``${``."""
    if isinstance(values, str):
        return values.replace("&{", "${")
    return [v.replace("&{", "${") for v in values]


def _principals(blocks: Sequence[Mapping[str, Any]]) -> str | dict[str, Any]:
    if (
        len(blocks) == 1
        and blocks[0].get("type") == "*"
        and list(blocks[0].get("identifiers") or []) == ["*"]
    ):
        return "*"
    out: dict[str, Any] = {}
    for block in blocks:
        kind = str(block.get("type"))
        identifiers = _variables(_strings(list(block.get("identifiers") or [])))
        if kind not in out:
            out[kind] = identifiers
        else:
            before = out[kind] if isinstance(out[kind], list) else [out[kind]]
            out[kind] = before + (identifiers if isinstance(identifiers, list) else [identifiers])
    return dict(sorted(out.items()))


def _conditions(blocks: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    raw: dict[str, dict[str, list[str]]] = {}
    for block in blocks:
        values = raw.setdefault(str(block.get("test")), {}).setdefault(
            str(block.get("variable")), []
        )
        values.extend(_variables(list(block.get("values") or [])))
    return {
        test: {var: vals[0] if len(vals) == 1 else vals for var, vals in sorted(variables.items())}
        for test, variables in sorted(raw.items())
    }


def _statement(given: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if _arg(given, "sid"):
        out["Sid"] = _arg(given, "sid")
    out["Effect"] = _arg(given, "effect") or "Allow"
    for key, camel in (("Action", "actions"), ("NotAction", "notActions")):
        if _arg(given, camel):
            out[key] = _strings(list(_arg(given, camel)))
    for key, camel in (("Resource", "resources"), ("NotResource", "notResources")):
        if _arg(given, camel):
            out[key] = _variables(_strings(list(_arg(given, camel))))
    for key, camel in (("Principal", "principals"), ("NotPrincipal", "notPrincipals")):
        if _arg(given, camel):
            out[key] = _principals(list(_arg(given, camel)))
    if _arg(given, "conditions"):
        out["Condition"] = _conditions(list(_arg(given, "conditions")))
    return out


def _parsed_statement(statement: Mapping[str, Any]) -> dict[str, Any]:
    """A statement of a source or override document, as the provider reads and writes it back:
    its own field order, principals and condition values normalized."""
    out: dict[str, Any] = {}
    for key in _STATEMENT_KEYS:
        value = statement.get(key)
        if value in (None, "", [], {}):
            continue
        if key in ("Principal", "NotPrincipal") and isinstance(value, Mapping):
            value = {
                kind: sorted(ids, reverse=True) if isinstance(ids, list) else ids
                for kind, ids in sorted(value.items())
            }
        elif key in ("Principal", "NotPrincipal"):
            value = "*"
        elif key == "Condition" and isinstance(value, Mapping):
            value = {
                test: {
                    var: (str(vals).lower() if isinstance(vals, bool) else vals)
                    for var, vals in sorted(variables.items())
                }
                for test, variables in sorted(value.items())
            }
        out[key] = value
    return out


def _merge(into: dict[str, Any], document: Mapping[str, Any]) -> None:
    """``iamPolicyDoc.Merge``: the newer Id and Version win; a statement replaces the one with
    its Sid, statements without a Sid are appended."""
    if document.get("Id"):
        into["Id"] = document["Id"]
    if str(document.get("Version") or "") > str(into.get("Version") or ""):
        into["Version"] = document["Version"]
    statements: list[dict[str, Any]] = into.setdefault("Statement", [])
    for statement in document.get("Statement") or []:
        sid = statement.get("Sid")
        index = next((i for i, s in enumerate(statements) if sid and s.get("Sid") == sid), None)
        if index is None:
            statements.append(statement)
        else:
            statements[index] = statement


def _go_json(value: Any, indent: int | None) -> str:
    separators = (",", ": ") if indent else (",", ":")
    text = json.dumps(value, indent=indent, separators=separators, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _document(doc: Mapping[str, Any]) -> dict[str, Any]:
    ordered: dict[str, Any] = {}
    for key in ("Version", "Id", "Statement"):
        if doc.get(key):
            ordered[key] = doc[key]
    return ordered


def policy_document(args: Mapping[str, Any]) -> dict[str, Any]:
    """``aws.iam.getPolicyDocument``'s result: ``json``, ``minifiedJson`` and ``id`` as the
    provider computes them from the statements (and source/override documents)."""
    merged: dict[str, Any] = {}
    for source in _arg(args, "sourcePolicyDocuments") or []:
        parsed = json.loads(source) if source else {}
        parsed["Statement"] = [_parsed_statement(s) for s in _statement_list(parsed)]
        _merge(merged, parsed)
    own: dict[str, Any] = {"Version": _arg(args, "version") or "2012-10-17"}
    if _arg(args, "policyId"):
        own["Id"] = _arg(args, "policyId")
    own["Statement"] = [_statement(s) for s in _arg(args, "statements") or []]
    _merge(merged, own)
    for override in _arg(args, "overridePolicyDocuments") or []:
        parsed = json.loads(override) if override else {}
        parsed["Statement"] = [_parsed_statement(s) for s in _statement_list(parsed)]
        _merge(merged, parsed)
    document = _document(merged)
    pretty = _go_json(document, indent=2)
    return {
        **{k: v for k, v in args.items() if v is not None},
        "json": pretty,
        "minifiedJson": _go_json(document, indent=None),
        "id": str(zlib.crc32(pretty.encode())),
    }


def _statement_list(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statements = document.get("Statement") or []
    return [statements] if isinstance(statements, Mapping) else list(statements)


# --- the other data sources real programs read ---------------------------------------------------


def caller_identity(args: Mapping[str, Any], where: Where) -> dict[str, Any]:
    return {
        "accountId": where.account,
        "arn": f"arn:aws:iam::{where.account}:user/preflight",
        "userId": "AIDAPREFLIGHTOFFLINE",
        "id": where.account,
    }


def region(args: Mapping[str, Any], where: Where) -> dict[str, Any]:
    name = _arg(args, "region") or _arg(args, "name") or where.region
    return {
        "name": name,
        "region": name,
        "description": name,
        "endpoint": f"ec2.{name}.amazonaws.com",
        "id": name,
    }


def partition(args: Mapping[str, Any], where: Where) -> dict[str, Any]:
    return {
        "partition": PARTITION,
        "dnsSuffix": "amazonaws.com",
        "reverseDnsPrefix": "com.amazonaws",
        "id": PARTITION,
    }


def availability_zones(args: Mapping[str, Any], where: Where) -> dict[str, Any]:
    excluded = set(_arg(args, "excludeNames") or []) | set(_arg(args, "excludeZoneIds") or [])
    pairs = [(n, i) for n, i in zip(where.zones(), where.zone_ids(), strict=True)
             if n not in excluded and i not in excluded]  # fmt: skip
    return {
        **{k: v for k, v in args.items() if v is not None},
        "names": [n for n, _ in pairs],
        "zoneIds": [i for _, i in pairs],
        "groupNames": [where.region] * len(pairs),
        "id": where.region,
    }


def ami(args: Mapping[str, Any], where: Where) -> dict[str, Any]:
    seed = _seed(args)
    image = f"ami-{_hex(seed)}"
    owners = list(_arg(args, "owners") or ["amazon"])
    name = next(
        (str(v[0]).replace("*", "2026.12.01") for f in _arg(args, "filters") or []
         if f.get("name") == "name" and (v := f.get("values"))),
        "al2023-ami-2023.6.20261201.0-kernel-6.1-x86_64",
    )  # fmt: skip
    return {
        **{k: v for k, v in args.items() if v is not None},
        "id": image,
        "imageId": image,
        "arn": f"arn:aws:ec2:{where.region}::image/{image}",
        "name": name,
        "architecture": "arm64" if "arm64" in name else "x86_64",
        "ownerId": "137112412989" if "amazon" in owners else where.account,
        "imageOwnerAlias": "amazon" if "amazon" in owners else None,
        "rootDeviceName": "/dev/xvda",
        "rootDeviceType": "ebs",
        "virtualizationType": "hvm",
        "hypervisor": "xen",
        "imageType": "machine",
        "platformDetails": "Linux/UNIX",
        "usageOperation": "RunInstances",
        "state": "available",
        "public": True,
        "enaSupport": True,
        "creationDate": "2026-12-01T00:00:00.000Z",
        "blockDeviceMappings": [
            {
                "deviceName": "/dev/xvda",
                "ebs": {
                    "encrypted": "false",
                    "volume_size": "8",
                    "volume_type": "gp3",
                    "snapshot_id": f"snap-{_hex(seed + 'snap')}",
                    "delete_on_termination": "true",
                    "iops": "3000",
                    "throughput": "125",
                },
                "noDevice": "",
                "virtualName": "",
            }
        ],
    }


def vpc(args: Mapping[str, Any], where: Where) -> dict[str, Any]:
    default = bool(_arg(args, "default")) or not (_arg(args, "id") or _arg(args, "filters")
                                                  or _arg(args, "tags"))  # fmt: skip
    seed = _seed(args)
    vpc_id = _arg(args, "id") or f"vpc-{_hex(seed)}"
    cidr = _arg(args, "cidrBlock") or (DEFAULT_VPC_CIDR if default else "10.0.0.0/16")
    return {
        **{k: v for k, v in args.items() if v is not None},
        "id": vpc_id,
        "arn": f"arn:aws:ec2:{where.region}:{where.account}:vpc/{vpc_id}",
        "cidrBlock": cidr,
        "cidrBlockAssociations": [
            {
                "associationId": f"vpc-cidr-assoc-{_hex(vpc_id)}",
                "cidrBlock": cidr,
                "state": "associated",
            }
        ],
        "default": default,
        "dhcpOptionsId": f"dopt-{_hex(vpc_id + 'dopt')}",
        "enableDnsHostnames": default,
        "enableDnsSupport": True,
        "enableNetworkAddressUsageMetrics": False,
        "instanceTenancy": "default",
        "ipv6AssociationId": "",
        "ipv6CidrBlock": "",
        "mainRouteTableId": f"rtb-{_hex(vpc_id + 'rtb')}",
        "ownerId": where.account,
        "state": "available",
        "tags": _arg(args, "tags") or {},
    }


def subnets(args: Mapping[str, Any], where: Where) -> dict[str, Any]:
    seed = _seed(args)
    return {
        **{k: v for k, v in args.items() if v is not None},
        "ids": [f"subnet-{_hex(seed + zone)}" for zone in where.zones()],
        "id": where.region,
    }


def subnet(args: Mapping[str, Any], where: Where) -> dict[str, Any]:
    seed = _seed(args)
    subnet_id = _arg(args, "id") or f"subnet-{_hex(seed)}"
    return {
        **{k: v for k, v in args.items() if v is not None},
        "id": subnet_id,
        "arn": f"arn:aws:ec2:{where.region}:{where.account}:subnet/{subnet_id}",
        "availabilityZone": _arg(args, "availabilityZone") or where.zones()[0],
        "availabilityZoneId": where.zone_ids()[0],
        "cidrBlock": _arg(args, "cidrBlock") or "172.31.0.0/20",
        "vpcId": _arg(args, "vpcId") or f"vpc-{_hex(seed + 'vpc')}",
        "defaultForAz": bool(_arg(args, "defaultForAz")),
        "mapPublicIpOnLaunch": False,
        "ownerId": where.account,
        "state": "available",
        "availableIpAddressCount": 4091,
        "tags": _arg(args, "tags") or {},
    }


def ssm_parameter(args: Mapping[str, Any], where: Where) -> dict[str, Any]:
    """The parameter's value is not known offline: AMI aliases (``/aws/service/ami-...``) answer
    an AMI id, other names a placeholder naming the parameter."""
    name = str(_arg(args, "name") or "")
    if name.startswith("/aws/service/") and "ami" in name:
        value = f"ami-{_hex(name)}"
    else:
        value = f"offline-value-of-{name.strip('/').replace('/', '-')}"
    path = name if name.startswith("/") else f"/{name}"
    return {
        **{k: v for k, v in args.items() if v is not None},
        "arn": f"arn:aws:ssm:{where.region}:{where.account}:parameter{path}",
        "id": name,
        "insecureValue": value,
        "name": name,
        "type": "String",
        "value": value,
        "version": 1,
    }


Answer = Callable[[Mapping[str, Any], Where], dict[str, Any]]
ANSWERS: dict[str, Answer] = {
    "aws:index/getCallerIdentity:getCallerIdentity": caller_identity,
    "aws:index/getRegion:getRegion": region,
    "aws:index/getPartition:getPartition": partition,
    "aws:index/getAvailabilityZones:getAvailabilityZones": availability_zones,
    "aws:iam/getPolicyDocument:getPolicyDocument": lambda args, where: policy_document(args),
    "aws:ec2/getAmi:getAmi": ami,
    "aws:ec2/getVpc:getVpc": vpc,
    "aws:ec2/getSubnets:getSubnets": subnets,
    "aws:ec2/getSubnet:getSubnet": subnet,
    "aws:ssm/getParameter:getParameter": ssm_parameter,
}


def unanswered(token: str, kind: str = "data source") -> str:
    """The one line a data source (or a resource's method) the preflight cannot answer gets."""
    return (
        f"{kind} {token}: the preflight has no answer for it offline; supply its result "
        f'with --invokes FILE, a JSON file {{"{token}": {{"<output>": <value>, ...}}}}'
    )
