"""What each component takes through the provider, and the real arguments made from it.

The shapes are the Python API's: ``context`` is ``VaContext``, ``spec`` is ``FunctionSpec``
(derived from the model, derive.py), the other fields are the args dataclass's, by the same
names. What cannot cross a language boundary is replaced, and says so: a zip is a
``pulumi.Archive`` (of a .zip or a directory), a network is given by ids
(``LambdaNetworking.from_ids``), a table or bucket by ARN and name. Every value is validated by
the real args and specs: a bad one is refused with the same message as in Python, as one line
naming the input (``InputsRefusedError``), before any resource exists.
"""

import base64
import hashlib
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NotRequired, Required, TypedDict, TypeVar

import pulumi
from pydantic import ValidationError

from va_platform import components as va
from va_platform import standard
from va_platform.components.artifacts import ArtifactStore, ZipArtifact
from va_platform.components.lambda_function.spec import LOG_RETENTION_DAYS
from va_platform.components.lambda_function.triggers import TRIGGER_KINDS
from va_platform.packaging import build_zip
from va_platform.provider.derive import (
    Derivation,
    closed_set,
    describe,
    to_model_input,
)


class InputsRefusedError(ValueError):
    """A value the real args or spec refuse: the input's path and why, one line."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}" if path else reason)
        self.path = path
        self.reason = reason


Environment = closed_set(
    "Environment", standard.ENVIRONMENTS, "A VA environment: the <env> of every name."
)
Runtime = closed_set(
    "Runtime",
    list(standard.RUNTIME_DEPRECATION),
    "A Lambda runtime the VA standard knows; one AWS has deprecated by the day of the deploy "
    "is refused (FunctionSpec.runtime).",
)

_derive = Derivation(
    overrides={("FunctionSpec", "runtime"): Runtime},
    names={
        "FunctionSpecCode": "Code",
        "FunctionSpecTriggers": "Trigger",
        "FunctionSpecArchitecture": "Architecture",
        "FunctionSpecLogLevel": "LogLevel",
        "FunctionSpecSystemLogLevel": "SystemLogLevel",
        "FunctionSpecTracing": "Tracing",
        "HttpTriggerVia": "HttpVia",
        "AgentProfileAuthMode": "AuthMode",
    },
)
FunctionSpec = _derive.typed(va.FunctionSpec)
AgentProfile = _derive.typed(va.AgentProfile)
Architecture = typing.get_args(FunctionSpec.__annotations__["architecture"])[0]


class VaContext(TypedDict):
    """Who and where a stack is: every VA name and tag is made from it."""

    environment: Required[Environment]  # type: ignore[valid-type]
    owner: Required[str]
    permissions_boundary: NotRequired[pulumi.Input[str]]


describe(VaContext, va.VaContext, {"environment": "dev, test or prod: the <env> of every name."})


class VaSecretArgs(TypedDict):
    """Which VA secret (va/<env>/<name>), its value if the stack holds it, and its key."""

    context: Required[VaContext]
    leaf: Required[str]
    purpose: NotRequired[str]
    value: NotRequired[pulumi.Input[str]]
    recovery_window_days: NotRequired[int]
    kms_key_id: NotRequired[pulumi.Input[str]]


describe(
    VaSecretArgs,
    va.VaSecretArgs,
    {"value": "The value (pass a secret); unset: put out of band. Stored as a Pulumi secret."},
)


class VaTableArgs(TypedDict):
    """The table's purpose and keys."""

    context: Required[VaContext]
    purpose: Required[str]
    hash_key: NotRequired[str]
    range_key: NotRequired[str]


describe(
    VaTableArgs,
    va.VaTableArgs,
    {
        "range_key": "The sort key (a string attribute); '' for a partition key only. "
        'Default: `"sk"`.'
    },
)


class Expiry(TypedDict):
    """Lifecycle of a bucket whose objects are rebuildable (artifacts): days before expiry."""

    current_days: NotRequired[int]
    noncurrent_days: NotRequired[int]
    incomplete_upload_days: NotRequired[int]


describe(Expiry, va.Expiry)


class VaBucketArgs(TypedDict):
    """What a VaBucket is for and how long its objects live."""

    context: Required[VaContext]
    purpose: Required[str]
    versioning: NotRequired[bool]
    expiry: NotRequired[Expiry]
    noncurrent_days: NotRequired[int]


describe(VaBucketArgs, va.VaBucketArgs)


class VaAlarmTopicArgs(TypedDict):
    """Who hears the alarms."""

    context: Required[VaContext]
    alarm_email: NotRequired[str]
    purpose: NotRequired[str]


describe(VaAlarmTopicArgs, va.VaAlarmTopicArgs)


class VaKeyArgs(TypedDict):
    """Where the key is, for its key policy."""

    context: Required[VaContext]
    region: Required[str]
    account_id: Required[pulumi.Input[str]]
    purpose: NotRequired[str]


describe(VaKeyArgs, va.VaKeyArgs)


class VaNetworkArgs(TypedDict):
    """The VPC's address range, zones and ways out."""

    context: Required[VaContext]
    region: Required[str]
    vpc_cidr: Required[str]
    availability_zones: Required[list[str]]
    nat_gateway: NotRequired[bool]
    vpc_endpoints: NotRequired[bool]
    purpose: NotRequired[str]


describe(VaNetworkArgs, va.VaNetworkArgs)


class Networking(TypedDict):
    """Where the function runs, by ids (LambdaNetworking.from_ids): a VaNetwork's outputs
    (vpcId, privateSubnetIds, lambdaSecurityGroupId) or another stack's."""

    vpc_id: Required[pulumi.Input[str]]
    subnet_ids: Required[list[pulumi.Input[str]]]
    security_group_ids: Required[list[pulumi.Input[str]]]
    region: Required[pulumi.Input[str]]
    account_id: Required[pulumi.Input[str]]


describe(
    Networking,
    va.LambdaNetworking,
    {
        "subnet_ids": "Private subnets the function's ENIs go in, one element each (two or "
        "more zones): the role may create ENIs in exactly these.",
        "security_group_ids": "Security groups every function is attached to (e.g. a "
        "VaNetwork's lambdaSecurityGroupId).",
        "region": "The region of the subnets (for their ARNs).",
        "account_id": "The account of the subnets (for their ARNs): 12 digits.",
    },
)


class DataRef(TypedDict):
    """A table or bucket a function works on (TableRef, BucketRef): its ARN and name."""

    arn: Required[pulumi.Input[str]]
    name: Required[pulumi.Input[str]]


describe(DataRef, va.TableRef)


class Artifacts(TypedDict):
    """Where the zip is staged in S3, as the VA standard does (ArtifactStore)."""

    bucket: Required[pulumi.Input[str]]
    revision: Required[str]


describe(Artifacts, ArtifactStore)


class VaLambdaArgs(TypedDict):
    """One function's spec and everything around it: its network, alarm topic, code, the
    ARNs of what it uses."""

    context: Required[VaContext]
    spec: Required[FunctionSpec]  # type: ignore[valid-type]
    networking: Required[Networking]
    alarm_topic_arn: Required[pulumi.Input[str]]
    package: NotRequired[pulumi.Archive]
    artifacts: NotRequired[Artifacts]
    image_uri: NotRequired[pulumi.Input[str]]
    secret_arns: NotRequired[dict[str, pulumi.Input[str]]]
    layer_arns: NotRequired[list[pulumi.Input[str]]]
    log_retention_days: NotRequired[int]
    kms_key_arn: NotRequired[pulumi.Input[str]]
    bucket_arns: NotRequired[dict[str, pulumi.Input[str]]]
    table: NotRequired[DataRef]
    bucket: NotRequired[DataRef]


describe(
    VaLambdaArgs,
    va.VaLambdaArgs,
    {
        "package": "A zip function's code: a FileArchive of a .zip file, or of a directory "
        "(zipped as va_platform.packaging.build_zip does, its requirements.txt installed), "
        "its path absolute or relative to the provider's working directory. Not for an "
        "image function.",
        "artifacts": "Stage the zip in this bucket (the stack's artifacts bucket) as "
        "va-<env>-<purpose>-lambda-<revision>.zip, and deploy from there; unset: uploaded "
        "with the function.",
        "networking": "Where it runs, by ids: a VaNetwork's outputs, or another stack's.",
        "kms_key_arn": "The stack's customer-managed key (a VaKey's arn) for env vars and logs; "
        "spec.kmsKeyArn wins.",
        "log_retention_days": "Days its log groups keep logs, unless spec.logRetentionDays "
        "says otherwise; one of " + ", ".join(map(str, LOG_RETENTION_DAYS)) + ". Default: `30`.",
        "table": "The table spec.tableActions act on (-> DYNAMODB_TABLE): a VaTable's arn and "
        "tableName, or another's.",
        "bucket": "The bucket whose objects spec.bucketActions act on (-> S3_BUCKET): a "
        "VaBucket's arn and bucketName, or another's.",
    },
)


class VaAgentArgs(TypedDict):
    """One FAALF agent profile and what its function is built on (VaAgentArgs: its profile,
    and AgentFunctionArgs flattened)."""

    context: Required[VaContext]
    profile: Required[AgentProfile]  # type: ignore[valid-type]
    image_uri: Required[pulumi.Input[str]]
    networking: Required[Networking]
    alarm_topic_arn: Required[pulumi.Input[str]]
    region: Required[str]
    account_id: Required[pulumi.Input[str]]
    architecture: NotRequired[Architecture]  # type: ignore[valid-type]
    secret_arns: NotRequired[dict[str, pulumi.Input[str]]]
    log_retention_days: NotRequired[int]
    kms_key_arn: NotRequired[pulumi.Input[str]]


describe(
    VaAgentArgs,
    va.AgentFunctionArgs,
    {
        "profile": "The agent profile (AgentProfile): models, budget, depth, memory, statements.",
        "networking": "Where it runs: a VaNetwork's outputs, or another stack's.",
        "secret_arns": "The stack's VA secrets by name (a VaSecret's arn): the function gets "
        "those its profile reads (anthropic-api-key in authMode api-key).",
    },
)

# --- from the provider's inputs to the real arguments -------------------------------------

T = TypeVar("T")


def refused(make: Callable[[], T], where: str = "") -> T:
    """``make()``, its ValueErrors (pydantic's included) as one line naming the input."""
    try:
        return make()
    except ValidationError as exc:
        problems = [_problem(where, err) for err in exc.errors()]
        first = problems[0][0]
        reason = "; ".join(msg if path == first else f"{path}: {msg}" for path, msg in problems)
        raise InputsRefusedError(first, reason) from None
    except InputsRefusedError:
        raise
    except (ValueError, TypeError) as exc:
        raise InputsRefusedError(where, " ".join(str(exc).split())) from None


def _problem(where: str, err: Mapping[str, Any]) -> tuple[str, str]:
    """(the input's path as the schema names it, e.g. spec.egress[0].port; what is wrong)."""
    path = where
    for part in err["loc"]:
        if isinstance(part, int):
            path += f"[{part}]"
        elif not _is_tag(part):
            path += f".{part}" if path else str(part)
    msg = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if err["type"] == "missing":
        msg = "required but not set"
    elif err["type"] == "extra_forbidden":
        msg = "unknown key"
    return path, " ".join(msg.split())


def _is_tag(part: object) -> bool:
    """A union member's tag in a pydantic location ('zip', 'image', a trigger's kind)."""
    kinds = {k.name for k in TRIGGER_KINDS} | {"zip", "image"}
    return isinstance(part, str) and part in kinds


def context_of(raw: Mapping[str, Any]) -> va.VaContext:
    ctx = to_model_input(raw, VaContext)
    return refused(
        lambda: va.VaContext(
            environment=ctx.get("environment"),
            owner=ctx.get("owner"),
            permissions_boundary=ctx.get("permissionsBoundary"),
        ),
        "context",
    )


def _int(value: Any) -> Any:
    """Numbers cross the wire as floats (256 -> 256.0); whole ones become ints again."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _known(raw: Mapping[str, Any], *names: str) -> dict[str, Any]:
    return {n: _int(raw[n]) for n in names if raw.get(n) is not None}


def secret_args(raw: Mapping[str, Any]) -> va.VaSecretArgs:
    value = raw.get("value")
    rest = _known(raw, "leaf", "purpose", "recovery_window_days", "kms_key_id")
    return refused(
        lambda: va.VaSecretArgs(
            context=context_of(raw["context"]),
            value=None if value is None else pulumi.Output.from_input(value),
            **rest,
        )
    )


def table_args(raw: Mapping[str, Any]) -> va.VaTableArgs:
    rest = _known(raw, "purpose", "hash_key", "range_key")
    if rest.get("range_key") == "":
        rest["range_key"] = None
    return refused(lambda: va.VaTableArgs(context=context_of(raw["context"]), **rest))


def bucket_args(raw: Mapping[str, Any]) -> va.VaBucketArgs:
    rest = _known(raw, "purpose", "versioning", "noncurrent_days")
    expiry = raw.get("expiry")
    if expiry is not None:
        days = _known(expiry, "current_days", "noncurrent_days", "incomplete_upload_days")
        rest["expiry"] = refused(lambda: va.Expiry(**days), "expiry")
    return refused(lambda: va.VaBucketArgs(context=context_of(raw["context"]), **rest))


def alarm_topic_args(raw: Mapping[str, Any]) -> va.VaAlarmTopicArgs:
    rest = _known(raw, "alarm_email", "purpose")
    return refused(lambda: va.VaAlarmTopicArgs(context=context_of(raw["context"]), **rest))


def key_args(raw: Mapping[str, Any]) -> va.VaKeyArgs:
    rest = _known(raw, "region", "account_id", "purpose")
    return refused(lambda: va.VaKeyArgs(context=context_of(raw["context"]), **rest))


def network_args(raw: Mapping[str, Any]) -> va.VaNetworkArgs:
    names = ("region", "vpc_cidr", "availability_zones", "nat_gateway", "vpc_endpoints", "purpose")
    rest = _known(raw, *names)
    return refused(lambda: va.VaNetworkArgs(context=context_of(raw["context"]), **rest))


def networking_of(raw: Mapping[str, Any]) -> va.LambdaNetworking:
    return refused(
        lambda: va.LambdaNetworking.from_ids(
            vpc_id=raw["vpc_id"],
            subnet_ids=list(raw["subnet_ids"]),
            security_group_ids=list(raw["security_group_ids"]),
            region=raw["region"],
            account_id=raw["account_id"],
        ),
        "networking",
    )


def package_of(archive: Any, spec: va.FunctionSpec) -> ZipArtifact:
    """The zip of a FileArchive: a .zip file as it is, a directory as build_zip makes it."""
    path = getattr(archive, "path", None)
    if not isinstance(path, str):
        raise InputsRefusedError(
            "package", "give a FileArchive of a .zip file or of a directory (an in-memory "
            "AssetArchive or a remote archive cannot be hashed here)"
        )  # fmt: skip
    where = Path(path)
    if where.is_dir():
        return refused(
            lambda: build_zip(where, runtime=spec.runtime, architecture=spec.architecture),
            "package",
        )
    if where.suffix != ".zip" or not where.is_file():
        raise InputsRefusedError("package", f"{path!r} is neither a .zip file nor a directory")
    data = where.read_bytes()
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    return ZipArtifact(path=where, sha256_b64=digest, size=len(data))


def lambda_args(raw: Mapping[str, Any]) -> va.VaLambdaArgs:
    spec_input = to_model_input(raw["spec"], FunctionSpec)
    spec = refused(lambda: va.FunctionSpec.model_validate(spec_input), "spec")
    package = None if raw.get("package") is None else package_of(raw["package"], spec)
    artifacts = raw.get("artifacts")
    store = None
    if artifacts is not None:
        store = refused(
            lambda: ArtifactStore(bucket=artifacts["bucket"], revision=artifacts["revision"]),
            "artifacts",
        )
    table = raw.get("table")
    bucket = raw.get("bucket")
    rest = _known(raw, "image_uri", "kms_key_arn", "log_retention_days")
    return refused(
        lambda: va.VaLambdaArgs(
            context=context_of(raw["context"]),
            spec=spec,
            networking=networking_of(raw["networking"]),
            alarm_topic_arn=raw["alarm_topic_arn"],
            package=package,
            artifacts=store,
            secret_arns=dict(raw.get("secret_arns") or {}),
            layer_arns=list(raw.get("layer_arns") or []),
            bucket_arns=dict(raw.get("bucket_arns") or {}),
            table=None if table is None else va.TableRef(arn=table["arn"], name=table["name"]),
            bucket=None if bucket is None else va.BucketRef(arn=bucket["arn"], name=bucket["name"]),
            **rest,
        )
    )


def agent_args(raw: Mapping[str, Any]) -> va.VaAgentArgs:
    profile_input = to_model_input(raw["profile"], AgentProfile)
    profile = refused(lambda: va.AgentProfile.model_validate(profile_input), "profile")
    names = ("image_uri", "alarm_topic_arn", "region", "account_id", "log_retention_days",
             "kms_key_arn")  # fmt: skip
    rest = _known(raw, *names)
    if raw.get("architecture") is not None:
        rest["architecture"] = to_model_input(raw["architecture"], Architecture)
    function = refused(
        lambda: va.AgentFunctionArgs(
            context=context_of(raw["context"]),
            networking=networking_of(raw["networking"]),
            secret_arns=dict(raw.get("secret_arns") or {}),
            **rest,
        )
    )
    return refused(lambda: va.VaAgentArgs(profile=profile, function=function))
