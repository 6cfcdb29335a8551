"""The stack's configuration, typed and checked as a whole before any resource is registered.

``Pulumi.yaml`` declares the keys for the CLI; this module is what makes a bad value stop the
program with one message that names the key, the value and what is allowed. It is pure (no Pulumi
runtime): ``__main__.py`` reads the raw values and ``make plan`` / the tests feed the same
function from the stack files.
"""

from __future__ import annotations

import ipaddress
import json
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, ValidationError, model_validator

from va_platform import standard
from va_platform.components import (
    ANTHROPIC_KEY_SECRET,
    EMAIL_RE,
    REPOSITORY_PATTERN,
    AgentImageSettings,
    AgentProfile,
    BucketTrigger,
    FunctionSpec,
    ImageCode,
    LayerSpec,
    LogRetentionDays,
    VaModel,
    overlapping_bucket_triggers,
)

PROJECT_NAMESPACE = "va-platform"
# Keys whose stack-file value is a list or object (the CLI hands them over as JSON text).
STRUCTURED_KEYS = ("availabilityZones", "secrets", "layers", "functions", "agents", "agentImage")
VPC_PREFIX_RANGE = (16, 24)
# The stack's buckets (__main__.py) a `bucket` trigger may watch, and why the others may not.
TRIGGER_BUCKETS = ("content",)
REFUSED_TRIGGER_BUCKETS = {
    "artifacts": "it holds the stack's own code packages: a function started by them would "
    "run on every deploy, and its code could be fed by whoever writes there",
}


class ConfigError(ValueError):
    """Every problem of a stack configuration, one line each: key = value: what is allowed."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid stack configuration:\n" + "\n".join(f"  - {p}" for p in problems))


class SecureConfigError(ConfigError):
    """The stack config holds secure values in the program's namespace: one line, before
    anything else is judged. The Pulumi CLI decrypts every secure config value for every
    preview and update and hands it to the program (``PULUMI_CONFIG``), whether or not the
    program reads it; a pull request's preview runs the pull request's own program with a
    token that may decrypt (Pulumi Cloud's Stack Read). So no secret lives in this stack's
    config: the program creates each secret empty and an administrator puts its value."""

    def __init__(self, keys: Sequence[str]) -> None:
        named = ", ".join(_key(k) for k in keys)
        removes = "; ".join(f"pulumi config rm {k}" for k in keys)
        line = (
            f"secure config values ({named}): every preview, a pull request's included, "
            f"decrypts them and hands them to the program; remove them ({removes}) and put "
            f"secret values out of band (aws secretsmanager put-secret-value, "
            f"docs/operations.md), then rotate any value that was there"
        )
        self.problems = [line]
        ValueError.__init__(self, line)


def _vpc_cidr(value: str) -> str:
    try:
        net = ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"not an IPv4 network in CIDR form (e.g. 10.20.0.0/16): {exc}") from None
    lo, hi = VPC_PREFIX_RANGE
    if not lo <= net.prefixlen <= hi:
        raise ValueError(f"prefix /{net.prefixlen} must be between /{lo} and /{hi}")
    if not net.is_private:
        raise ValueError("must be a private (RFC 1918) range")
    return value


def _email(value: str) -> str:
    if not EMAIL_RE.match(value):
        raise ValueError("not an e-mail address")
    return value


class StackConfig(VaModel):
    """All of a stack's settings; defaults follow the VA standard (NAT on in prod only)."""

    environment: Annotated[str, AfterValidator(standard.validate_environment)] = Field(
        description="VA environment: dev, test or prod. Names and tags carry it."
    )
    region: Annotated[str, AfterValidator(standard.validate_region)] = Field(
        description="The AWS region; only eu-central-1 (the Control Tower SCP)."
    )
    owner: str = Field(description="Owner tag on every resource: a team or an e-mail address.")
    account_id: str = Field(
        pattern=r"^[0-9]{12}$",
        description="The AWS account of this environment (one account per environment); "
        "aws:allowedAccountIds must list exactly this one, so the AWS provider refuses any other.",
    )
    vpc_cidr: Annotated[str, AfterValidator(_vpc_cidr)] = Field(
        description="Private (RFC 1918) IPv4 CIDR of the VPC, /16 to /24."
    )
    availability_zones: tuple[str, ...] = Field(
        default=("eu-central-1a", "eu-central-1b"),
        description="Two or more distinct zones of the region, one private subnet each.",
    )
    nat_gateway: bool | None = Field(
        default=None,
        description="One NAT gateway for outbound internet; unset means on in prod only. "
        "Agents need it.",
    )
    vpc_endpoints: bool = Field(
        default=True,
        description="Endpoints for S3, DynamoDB, Secrets Manager and CloudWatch Logs, so "
        "functions reach them without NAT.",
    )
    alarm_email: Annotated[str, AfterValidator(_email)] | None = Field(
        default=None, description="Subscribed to the alarm topic (confirm the e-mail AWS sends)."
    )
    log_retention_days: LogRetentionDays = Field(
        default=30, description="Days CloudWatch keeps every function's logs."
    )
    encryption_key: bool = Field(
        default=True,
        description="A customer-managed KMS key of the stack's own (alias/va-<env>-lambda-key, "
        "rotated yearly) encrypts every function's env vars and log group and the stack's "
        "secrets; a function's kmsKeyArn overrides it for its env vars and logs. false: "
        "AWS-managed keys.",
    )
    secrets: tuple[str, ...] = Field(
        default=(),
        description="Secret names (va/<env>/<name>); the program creates each one empty and "
        "an administrator puts its value out of band (`aws secretsmanager put-secret-value`), "
        "never in the stack config: every preview decrypts secure config values.",
    )
    reserved_concurrency: Annotated[int, Field(ge=0, le=1000)] | None = Field(
        default=None,
        description="Reserved executions of every function that sets none of its own; unset: "
        "the account's unreserved pool.",
    )
    layers: tuple[LayerSpec, ...] = Field(
        default=(), description="Dependency layers functions can share."
    )
    functions: tuple[FunctionSpec, ...] = Field(default=(), description="The stack's VA Lambdas.")
    agents: tuple[AgentProfile, ...] = Field(
        default=(), description="FAALF agent functions, one per profile."
    )
    agent_image: AgentImageSettings = Field(
        default=AgentImageSettings(), description="How the FAALF image is built and kept."
    )
    github_repository: str | None = Field(
        default=None,
        pattern=REPOSITORY_PATTERN,
        description="owner/repo whose workflows may preview and deploy this stack",
    )

    @model_validator(mode="after")
    def _consistent(self) -> StackConfig:
        standard.validate_tag_value("Owner", self.owner)
        azs = self.availability_zones
        if len(set(azs)) < 2 or len(set(azs)) != len(azs):
            raise ValueError("availabilityZones: list two or more distinct zones")
        for az in azs:
            if not re.fullmatch(re.escape(self.region) + r"[a-z]", az):
                raise ValueError(f"availabilityZones: {az!r} is not a zone of {self.region}")
        for leaf in self.secrets:
            standard.secret_name(self.environment, leaf)
        purposes = [f.purpose for f in self.functions] + [a.purpose for a in self.agents]
        _unique("functions and agents", purposes)
        _unique("layers", [layer.purpose for layer in self.layers])
        _unique("secrets", list(self.secrets))
        layer_names = {layer.purpose for layer in self.layers}
        for fn in self.functions:
            for ref in fn.secrets:
                if ref.name not in self.secrets:
                    raise ValueError(
                        f"functions[{fn.purpose}].secrets: {ref.name!r} is not declared in "
                        f"'secrets' (declared: {', '.join(self.secrets) or 'none'})"
                    )
            for layer in fn.layers:
                if layer not in layer_names:
                    raise ValueError(
                        f"functions[{fn.purpose}].layers: {layer!r} is not declared in 'layers' "
                        f"(declared: {', '.join(sorted(layer_names)) or 'none'})"
                    )
        _check_bucket_triggers(self.functions)
        for fn in self.functions:
            if isinstance(fn.code, ImageCode) and fn.code.image_uri is None:
                raise ValueError(f"functions[{fn.purpose}].code: an image function needs imageUri")
        if self.agents and not self.nat_enabled:
            raise ValueError(
                "agents need natGateway: true - Claude Code reaches its API over TCP 443 through "
                "the NAT gateway (the functions have no other way out of the VPC)"
            )
        keyed = [a.purpose for a in self.agents if a.needs_api_key]
        if keyed and ANTHROPIC_KEY_SECRET not in self.secrets:
            raise ValueError(
                f"agents[{', '.join(keyed)}] use authMode api-key: declare "
                f"{ANTHROPIC_KEY_SECRET!r} in 'secrets' "
                "(its value put out of band: aws secretsmanager put-secret-value "
                "--secret-id va/<env>/anthropic-api-key)"
            )
        return self

    @property
    def nat_enabled(self) -> bool:
        return self.nat_gateway if self.nat_gateway is not None else self.environment == "prod"


def _check_bucket_triggers(functions: tuple[FunctionSpec, ...]) -> None:
    """Each bucket trigger watches a bucket of the stack that may start functions, and no two
    functions' filters on one bucket match the same objects (S3 refuses that at deploy time,
    after the functions exist)."""
    owned = []
    for fn in functions:
        for i, trigger in enumerate(fn.triggers):
            if not isinstance(trigger, BucketTrigger):
                continue
            key = f"functions[{fn.purpose}].triggers[{i}].bucket = {trigger.bucket!r}"
            if trigger.bucket in REFUSED_TRIGGER_BUCKETS:
                raise ValueError(
                    f"{key}: not a trigger source, {REFUSED_TRIGGER_BUCKETS[trigger.bucket]}; "
                    f"allowed: {', '.join(TRIGGER_BUCKETS)}"
                )
            if trigger.bucket not in TRIGGER_BUCKETS:
                raise ValueError(
                    f"{key}: not a bucket of the stack; allowed: {', '.join(TRIGGER_BUCKETS)}"
                )
            owned.append((fn.purpose, trigger))
    # One function's own overlaps were refused with its spec: these are across functions.
    problems = overlapping_bucket_triggers(owned)
    if problems:
        raise ValueError("; ".join(problems))


def _unique(what: str, names: list[str]) -> None:
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"{what}: each name may appear once; repeated: {', '.join(dupes)}")


CONFIG_KEYS: tuple[str, ...] = tuple(
    field.alias or name for name, field in StackConfig.model_fields.items() if name != "region"
)


def load_stack_config(
    get: Callable[[str], str | None],
    region: str | None,
    present_keys: frozenset[str] = frozenset(),
    secret_keys: frozenset[str] = frozenset(),
    allowed_account_ids: Sequence[str] | None = None,
) -> StackConfig:
    """Build the StackConfig from raw config strings, or raise one ConfigError listing all faults.

    ``get(key)`` returns the raw text of ``va-platform:<key>`` (JSON for lists and objects, as the
    Pulumi CLI stores them). ``allowed_account_ids`` (``aws:allowedAccountIds``), when given,
    must be exactly ``[accountId]``. ``present_keys`` are all keys set in the stack's namespace,
    so a misspelt key is reported rather than silently ignored. ``secret_keys`` are those of
    them with secure values (set with ``--secret``): any one stops the config alone, in one line
    (``SecureConfigError``), since every preview decrypts them. A secret's value set in
    plaintext under its name is refused too, without echoing it: values are put out of band.
    """
    secure = sorted(secret_keys)
    if secure:
        raise SecureConfigError(secure)
    problems: list[str] = []
    raw: dict[str, Any] = {"region": region}
    for key in CONFIG_KEYS:
        text = get(key)
        if text is None:
            continue
        if key in STRUCTURED_KEYS:
            try:
                raw[key] = json.loads(text) if isinstance(text, str) else text
            except json.JSONDecodeError as exc:
                problems.append(f"{_key(key)}: not valid JSON/YAML structure ({exc.msg})")
                continue
        else:
            raw[key] = text
    if region is None:
        problems.append(
            f"aws:region is not set; set it to {standard.ALLOWED_REGIONS[0]} in the stack file"
        )
    declared = raw.get("secrets")
    declared_names = {str(s) for s in declared} if isinstance(declared, list) else set()
    unknown = sorted(present_keys - set(CONFIG_KEYS) - declared_names)
    for key in unknown:
        problems.append(f"{_key(key)}: unknown config key; allowed: {', '.join(CONFIG_KEYS)}")
    for leaf in sorted(declared_names & present_keys):
        # The value is not echoed: it is the very thing that must not be printed.
        problems.append(
            f"{_key(leaf)}: a secret's value never lives in the stack config; remove it "
            f"(`pulumi config rm {leaf}`) and put it out of band (`aws secretsmanager "
            f"put-secret-value --secret-id va/<env>/{leaf}`, docs/operations.md), then rotate it"
        )
    try:
        config = StackConfig.model_validate(raw)
    except ValidationError as exc:
        problems.extend(_describe(err) for err in exc.errors())
        raise ConfigError(problems) from None
    if allowed_account_ids is not None and list(allowed_account_ids) != [config.account_id]:
        # The provider refuses credentials of any account not listed, before it changes
        # anything; listing none (or another) would let a deploy land in the wrong account.
        problems.append(
            f"aws:allowedAccountIds = {list(allowed_account_ids)!r}: must be exactly "
            f"[{config.account_id!r}] ({_key('accountId')}), so the AWS provider refuses "
            "credentials of any other account"
        )
    if problems:
        raise ConfigError(problems)
    return config


def _key(key: str) -> str:
    return key if key.startswith("aws:") else f"{PROJECT_NAMESPACE}:{key}"


def _describe(err: Mapping[str, Any]) -> str:
    tagged = tuple(err["loc"])
    # A failed union member adds its tag ('zip', 'image', a trigger's kind) to the location; it
    # is not a key (but it tells which model's keys are allowed).
    loc = tuple(p for i, p in enumerate(tagged) if not _is_union_tag(tagged, i))
    path = _path(loc)
    msg = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if err["type"] == "extra_forbidden":
        allowed = _allowed_keys(tagged[:-1])
        msg = "unknown key" + (f"; allowed: {', '.join(allowed)}" if allowed else "")
    elif err["type"] == "missing":
        msg = "required but not set"
    value = err.get("input")
    if err["type"] != "missing" and isinstance(value, str | int | float | bool):
        return f"{path} = {_shown(value)}: {msg}"
    return f"{path}: {msg}"


def _shown(value: str | int | float | bool) -> str:
    """As the user wrote it: the CLI hands over ``10`` and ``true`` as strings."""
    if isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?|true|false", value):
        return value
    return repr(value)


def _path(loc: tuple[Any, ...]) -> str:
    if not loc:
        return PROJECT_NAMESPACE
    text = "aws:region" if loc[0] == "region" else _key(str(loc[0]))
    for part in loc[1:]:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _is_union_tag(loc: tuple[Any, ...], i: int) -> bool:
    """``code``'s 'zip'/'image', or the kind after ``triggers[<n>]``."""
    if loc[i] in ("zip", "image"):
        return True
    return i >= 2 and loc[i - 2] == "triggers" and isinstance(loc[i - 1], int)


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys the model at ``loc`` (union tags included) accepts, for an 'unknown key'
    message."""
    models: list[type[BaseModel]] = [StackConfig]
    for part in loc:
        if isinstance(part, int):
            continue
        tagged = [m for m in models if part in _kinds(m)]
        if tagged:
            models = tagged
            continue
        nxt: list[type[BaseModel]] = []
        for model in models:
            for name, field in model.model_fields.items():
                if part in (name, field.alias):
                    nxt.extend(_models_in(field.annotation))
        models = nxt
    keys: list[str] = []
    for model in models:
        keys.extend(f.alias or n for n, f in model.model_fields.items() if f.alias or n)
    return sorted(set(keys) - {"kind"}) if len(models) > 1 else keys


def _kinds(model: type[BaseModel]) -> tuple[Any, ...]:
    """The values of a union member's ``kind`` tag (``Literal["bucket"]`` -> ``("bucket",)``)."""
    field = model.model_fields.get("kind")
    return typing.get_args(field.annotation) if field is not None else ()


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _models_in(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, tuple, list):
        return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]
    return []
