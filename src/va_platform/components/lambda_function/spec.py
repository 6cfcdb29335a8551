"""What one VA Lambda is, as data: the typed spec the stack config and Python callers both use.

The spec validates itself on construction, so a bad memory size or a secret pasted into an env var
is refused before any resource exists - whether it came from ``Pulumi.<stack>.yaml`` or from code.
Field aliases are the camelCase keys of the stack config.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, ClassVar, Literal

import pulumi
from pydantic import (
    AfterValidator,
    Field,
    field_validator,
    model_validator,
)

from va_platform import standard
from va_platform.components.errors import checked_once_known
from va_platform.components.lambda_function.egress import MAX_EGRESS_RULES, Egress
from va_platform.components.lambda_function.triggers import (
    TRIGGER_KINDS,
    TRIGGER_SIDS,
    Trigger,
    check_triggers,
)
from va_platform.components.model import ArnInput, InRange, NameInput, OneOf, VaModel, is_known

# Lambda rejects these keys (runtime-reserved); AWS_* is reserved as a whole.
RESERVED_ENV_KEYS = frozenset(
    {"_HANDLER", "_X_AMZN_TRACE_ID", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "TZ"}
)
ENV_KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
ENV_TOTAL_MAX_BYTES = 4096
RUNTIME_VERSION_ARN_RE = re.compile(r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+::runtime:[0-9a-f]{64}$")
HANDLER_RE = re.compile(r"^[A-Za-z0-9_./-]+\.[A-Za-z_][A-Za-z0-9_]*$")
# CloudWatch Logs accepts only these retention periods.
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
)  # fmt: skip


def _in_range(lo: float, hi: float, what: str) -> AfterValidator:
    return AfterValidator(InRange(lo, hi, what))


# A CloudWatch Logs retention period in days (those it accepts only).
LogRetentionDays = Annotated[
    int,
    AfterValidator(OneOf(LOG_RETENTION_DAYS, "a CloudWatch Logs retention period (days)")),
]

# What a function may do on its table and its bucket's objects (exact actions, no wildcards).
# Object-level S3 actions apply to ``<bucket>/*``; the program scopes each to the exact ARN.
TABLE_ACTIONS = frozenset(
    {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
     "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"}
)  # fmt: skip
BUCKET_OBJECT_ACTIONS = frozenset({"s3:GetObject", "s3:PutObject", "s3:DeleteObject"})


def _actions_in(allowed: frozenset[str]) -> AfterValidator:
    def check(actions: tuple[str, ...]) -> tuple[str, ...]:
        bad = [a for a in actions if a not in allowed]
        if bad:
            raise ValueError(f"{', '.join(bad)} not allowed; allowed: {', '.join(sorted(allowed))}")
        return tuple(sorted(set(actions)))

    return AfterValidator(check)


def secret_env_var(leaf: str) -> str:
    """The env var carrying a secret's ARN: ``openai-api-key`` -> OPENAI_API_KEY_SECRET_ARN."""
    return leaf.upper().replace("-", "_") + "_SECRET_ARN"


class ZipCode(VaModel):
    """A directory zipped reproducibly, with its ``requirements.txt`` installed beside the code."""

    kind: Literal["zip"] = Field(default="zip", description="May be left out (no imageUri).")
    path: str = Field(description="Source directory, relative to the project root.")


class ImageCode(VaModel):
    """A container image in ECR: a URI from config, or (left out) one VaLambdaArgs.image_uri
    gives, such as the digest VaAgentImage pushed."""

    kind: Literal["image"] = Field(
        default="image", description="May be left out when imageUri is given."
    )
    image_uri: str | None = Field(default=None, description="ECR image URI, by digest or tag.")
    command: tuple[str, ...] | None = Field(
        default=None, description="Overrides the image's CMD (e.g. another handler)."
    )

    @field_validator("image_uri")
    @classmethod
    def _ecr_uri(cls, value: str | None) -> str | None:
        if value is not None and not re.match(
            r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/[^\s:@]+[:@]\S+$", value
        ):
            raise ValueError(
                f"{value!r} is not an ECR image URI "
                "(<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag> or @sha256:<digest>)"
            )
        return value


class SecretRef(VaModel):
    """A VA secret the function may read; the function gets its ARN, never its value."""

    name: str = Field(description="A declared secret: the <name> of va/<env>/<name>.")
    env: str | None = Field(
        default=None, description="Env var carrying the ARN; default <NAME>_SECRET_ARN."
    )

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: object) -> object:
        return {"name": data} if isinstance(data, str) else data

    @field_validator("name")
    @classmethod
    def _convention(cls, value: str) -> str:
        standard.validate_secret_leaf(value)
        return value

    @property
    def env_var(self) -> str:
        return self.env or secret_env_var(self.name)


# A secret's ARN, and the characters a secret name may hold. Secrets Manager appends "-" and six
# characters to the name in the complete ARN; a name that itself ends so cannot be told from a
# complete ARN when given without them (a partial ARN), which is why AWS advises against it.
SECRET_ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$"
)
SECRET_NAME_RE = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")
SECRET_SUFFIX_RE = re.compile(r"-[A-Za-z0-9]{6}$")
KMS_KEY_ARN_RE = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]{36}$")
# kms:Decrypt for a secret's key, through Secrets Manager only (not on any ciphertext).
VIA_SECRETS_MANAGER = {"StringLike": {"kms:ViaService": "secretsmanager.*.amazonaws.com"}}


def env_key_problem(key: str) -> str | None:
    if not ENV_KEY_RE.match(key) or key in RESERVED_ENV_KEYS or key.startswith("AWS_"):
        return (
            f"env key {key!r} is not allowed: letters, digits and '_', starting with a "
            "letter, and not reserved by Lambda (AWS_*, _HANDLER, LAMBDA_TASK_ROOT, ...)"
        )
    return None


def secret_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be an existing secret's ``name`` (None: it can)."""
    kind = standard.secret_value_kind(name)
    if kind is not None:
        # Never echoed: a pasted credential would otherwise reach logs and CI output.
        return (
            f"name looks like {kind}, not a secret's name (value not shown): put the value in "
            "the secret and give the secret's name or ARN"
        )
    if name.startswith("arn:"):
        return f"name {name!r} is an ARN: give it as arn"
    if not SECRET_NAME_RE.match(name):
        return f"{name!r} is not a secret name (1-512 of letters, digits and /_+=.@-)"
    return None


def _checked_name(name: str) -> str:
    """An existing secret's name given as an Output, checked once it is known (a wildcard
    would widen the grant)."""
    problem = secret_name_problem(name)
    if problem:
        raise ValueError(f"ExistingSecret: {problem}")
    return name


def secret_id_of_name(name: str, partition: str, region: str, account: str) -> str:
    """What a function passes to GetSecretValue for the secret ``name``: its partial ARN, or
    the name itself when it ends in '-' and six characters, as a complete ARN does (Secrets
    Manager would read such a partial ARN as a complete one)."""
    if SECRET_SUFFIX_RE.search(name):
        return name
    return f"arn:{partition}:secretsmanager:{region}:{account}:secret:{name}"


class ExistingSecret(VaModel):
    """A secret that exists already, of any name (`billing/stripe`) or ARN: another team's,
    another stack's or another tool's. The function gets its ARN in `env` (never the value),
    its role secretsmanager:GetSecretValue on exactly that secret and, with its key
    (`kmsKeyArn`), kms:Decrypt on that key through Secrets Manager only.

    Give `arn` or `name`. A name is a secret of the function's own account and region: the
    function gets its partial ARN, `arn:aws:secretsmanager:<region>:<account>:secret:<name>`,
    which GetSecretValue takes as it takes the name (and va-guard reads as a reference, not a
    credential; a name ending in '-' and six characters, which a partial ARN cannot name, is
    given as it is), and the role is granted `...:secret:<name>-??????` (the six characters
    Secrets Manager appends). A secret of another account is given by its complete ARN; its
    resource policy and its key's policy must admit the function's role.
    """

    env: str = Field(
        description="Env var the function reads the secret's ARN from (what it passes to "
        "GetSecretValue)."
    )
    arn: ArnInput | None = Field(
        default=None,
        description="The secret's complete ARN (ending in '-' and the six characters Secrets "
        "Manager appends), of any account.",
    )
    name: NameInput | None = Field(
        default=None,
        description="The secret's name (e.g. billing/stripe), in the function's account and "
        "region.",
    )
    kms_key_arn: ArnInput | None = Field(
        default=None,
        description="The customer-managed KMS key the secret is encrypted with; unset: "
        "aws/secretsmanager, which needs no grant.",
    )

    @model_validator(mode="after")
    def _one_way_to_the_secret(self) -> ExistingSecret:
        problem = env_key_problem(self.env) or self._secret_problem() or self._key_problem()
        if problem:
            raise ValueError(f"ExistingSecret {self.env}: {problem}")
        return self

    def _secret_problem(self) -> str | None:
        if (self.arn is None) == (self.name is None):
            both = self.arn is not None
            return "give the secret's arn or name" + (", not both" if both else "")
        if is_known(self.arn) and not SECRET_ARN_RE.match(self.arn):
            return (
                f"{self.arn!r} is not a Secrets Manager secret ARN "
                "(arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>)"
            )
        if is_known(self.arn) and not SECRET_SUFFIX_RE.search(self.arn):
            return (
                f"{self.arn!r} is a partial ARN (without the '-' and six characters Secrets "
                "Manager appends), which no grant on it matches: give the complete ARN, or "
                "the secret's name as name"
            )
        return secret_name_problem(self.name) if is_known(self.name) else None

    def _key_problem(self) -> str | None:
        if is_known(self.kms_key_arn) and not KMS_KEY_ARN_RE.match(self.kms_key_arn):
            return (
                f"kmsKeyArn {self.kms_key_arn!r} is not a KMS key ARN "
                "(arn:aws:kms:<region>:<account>:key/<id>; an alias is not a key)"
            )
        return None

    def _name_arn(self, where: tuple[pulumi.Input[str], ...], suffix: str) -> pulumi.Input[str]:
        """``arn:<partition>:secretsmanager:<region>:<account>:secret:<name><suffix>``."""
        if is_known(self.name) and all(is_known(part) for part in where):
            partition, region, account = where
            return f"arn:{partition}:secretsmanager:{region}:{account}:secret:{self.name}{suffix}"
        name = pulumi.Output.from_input(self.name).apply(checked_once_known(_checked_name))
        partition, region, account = where
        return pulumi.Output.concat(
            "arn:", partition, ":secretsmanager:", region, ":", account, ":secret:", name, suffix
        )

    def secret_id(
        self,
        region: pulumi.Input[str],
        account: pulumi.Input[str],
        partition: pulumi.Input[str] = "aws",
    ) -> pulumi.Input[str]:
        """What the function gets in ``env``: the ARN given, or, for a name, the secret's
        partial ARN in ``account`` and ``region`` (secret_id_of_name)."""
        if self.arn is not None:
            arn: pulumi.Input[str] = self.arn
            return arn
        where = (partition, region, account)
        if is_known(self.name) and all(is_known(part) for part in where):
            return secret_id_of_name(self.name, partition, region, account)  # type: ignore[arg-type]
        name = pulumi.Output.from_input(self.name).apply(checked_once_known(_checked_name))
        return pulumi.Output.all(name, *where).apply(lambda v: secret_id_of_name(*v))

    def resource(
        self,
        region: pulumi.Input[str],
        account: pulumi.Input[str],
        partition: pulumi.Input[str] = "aws",
    ) -> pulumi.Input[str]:
        """The ARN the role is granted: the ARN given, or, for a name, every ARN the secret
        of that name can have in ``account`` and ``region``."""
        if self.arn is not None:
            arn: pulumi.Input[str] = self.arn
            return arn
        return self._name_arn((partition, region, account), "-??????")


class RuntimeManagement(VaModel):
    """Who patches the runtime. Auto lets AWS patch; Manual pins a version (unpatched)."""

    mode: Literal["Auto", "FunctionUpdate", "Manual"] = Field(
        default="Auto",
        description="Auto: AWS patches the runtime. FunctionUpdate: on each deploy. Manual: "
        "pinned to runtimeVersionArn, unpatched (a va-runtime-patch advisory says so).",
    )
    runtime_version_arn: str | None = Field(
        default=None,
        description="With mode Manual only: arn:aws:lambda:<region>::runtime:<sha256>.",
    )

    @model_validator(mode="after")
    def _arn_only_with_manual(self) -> RuntimeManagement:
        if self.mode == "Manual":
            if not self.runtime_version_arn:
                raise ValueError(
                    "mode Manual needs runtimeVersionArn (the version to pin, "
                    "arn:aws:lambda:<region>::runtime:<sha256>); or use Auto / FunctionUpdate"
                )
            if not RUNTIME_VERSION_ARN_RE.match(self.runtime_version_arn):
                raise ValueError(
                    f"runtimeVersionArn {self.runtime_version_arn!r} is not a Lambda runtime "
                    "version ARN (arn:aws:lambda:<region>::runtime:<sha256>)"
                )
        elif self.runtime_version_arn:
            raise ValueError(
                f"runtimeVersionArn is only used with mode Manual, not {self.mode}; remove it"
            )
        return self


class StatementSpec(VaModel):
    """One extra Allow statement (exact actions; ``*`` only where AWS lists no resource type),
    checked against AWS's action catalogue before any resource exists."""

    sid: str = Field(pattern=r"^[A-Za-z0-9]+$", description="Statement id: letters and digits.")
    actions: tuple[str, ...] = Field(
        min_length=1, description="Exact actions (no '*' or 'service:*')."
    )
    resources: tuple[ArnInput, ...] = Field(
        min_length=1,
        description="Exact ARNs; '*' only for actions AWS offers no resource-level permission for.",
    )

    @model_validator(mode="after")
    def _least_privilege(self) -> StatementSpec:
        problems = [p.message for p in standard.statement_problems(self.document(), self.WHERE)]
        problems += self.extra_problems()
        if problems:
            raise ValueError("; ".join(problems))
        return self

    WHERE: ClassVar[str] = "function statements"

    def document(self) -> dict[str, object]:
        """The statement as checked now: a resource given as an Output is not known yet, so
        ``statement_problems`` judges its actions only; va-guard checks it once known."""
        return {"Sid": self.sid, "Effect": "Allow", "Action": list(self.actions),
                "Resource": list(self.resources)}  # fmt: skip

    def extra_problems(self) -> list[str]:
        return []


DESTINATION_ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:(sqs|sns|events|lambda):[a-z0-9-]+:\d{12}:(event-bus/|function:)?"
    r"[A-Za-z0-9._-]+$"
)
# What a role needs to deliver to a destination, by the service in its ARN.
DESTINATION_ACTIONS = {
    "sqs": "sqs:SendMessage",
    "sns": "sns:Publish",
    "events": "events:PutEvents",
    "lambda": "lambda:InvokeFunction",
}
# The Sids of the statements every function's role gets (iam.execution_policy; ReadOwnSecrets
# with secrets), of those its settings add (destinations, its key, table and bucket actions) and
# of its triggers' (each kind lists its own): a function's own ``statements`` may not take them.
# tests/components/test_trigger_registry.py checks them against a role with every one.
EXECUTION_SIDS = frozenset(
    {"WriteOwnLogs", "SendToOwnDlq", "CreateEniInOwnSubnets", "ManageOwnEnis",
     "DescribeEnisNoResourceLevelPermissions", "XRayNoResourceLevelPermissions",
     "ReadOwnSecrets"}
)  # fmt: skip
SETTING_SIDS = frozenset(
    {"DeliverOnSuccess", "DeliverOnFailure", "DecryptWithOwnKey", "TableAccess",
     "BucketObjects", "ReadExistingSecrets", "DecryptExistingSecrets"}
)  # fmt: skip
RESERVED_SIDS = EXECUTION_SIDS | SETTING_SIDS | TRIGGER_SIDS
SNAPSTART_RUNTIMES = ("python3.12", "python3.13", "python3.14")
LAYER_ARN_RE = re.compile(r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[A-Za-z0-9_-]+:\d+$")


def _destination(value: object) -> object:
    if is_known(value) and not DESTINATION_ARN_RE.match(value):
        raise ValueError(
            f"{value!r} is not an SQS queue, SNS topic, EventBridge bus or Lambda function ARN"
        )
    return value


class Destinations(VaModel):
    """Asynchronous invocation results, on success and on failure (besides the DLQ)."""

    on_success: Annotated[ArnInput | None, AfterValidator(_destination)] = Field(
        default=None, description="ARN that receives each successful asynchronous result."
    )
    on_failure: Annotated[ArnInput | None, AfterValidator(_destination)] = Field(
        default=None, description="ARN that receives each failed asynchronous event."
    )

    @property
    def arns(self) -> tuple[pulumi.Input[str], ...]:
        return tuple(a for a in (self.on_success, self.on_failure) if a is not None)


def destination_action(arn: str) -> str:
    """The action a role needs to deliver to ``arn``; one line when it is none of the four
    (a literal is checked on construction, an Output here, once known)."""
    parts = arn.split(":") if isinstance(arn, str) else []
    if len(parts) < 3 or parts[2] not in DESTINATION_ACTIONS or not DESTINATION_ARN_RE.match(arn):
        raise ValueError(
            f"destinations: {arn!r} is not an SQS queue, SNS topic, EventBridge bus or Lambda "
            "function ARN (onSuccess/onFailure)"
        )
    return DESTINATION_ACTIONS[parts[2]]


def destination_action_of(arn: pulumi.Input[str]) -> pulumi.Input[str]:
    """The action for a destination given as a literal or an Output (known once it resolves)."""
    if is_known(arn):
        return destination_action(arn)
    return pulumi.Output.from_input(arn).apply(checked_once_known(destination_action))


class FunctionSpec(VaModel):
    """One VA Lambda: defaults are the VA standard (python3.11, 256 MB, 30 s)."""

    purpose: Annotated[str, AfterValidator(standard.validate_purpose)] = Field(
        description="One lowercase token; names everything: va-<env>-<purpose>-lambda, ..."
    )
    code: ZipCode | ImageCode = Field(
        discriminator="kind", description="A source directory (zip) or a container image."
    )
    handler: str = Field(
        default="handler.handler", description="<module>.<function> (zip functions only)."
    )
    runtime: str = Field(
        default=standard.DEFAULT_RUNTIME,
        description="A runtime AWS has not deprecated on the day (zip functions only); "
        "deprecation dates: "
        + ", ".join(f"{r} {d.isoformat()}" for r, d in standard.RUNTIME_DEPRECATION.items())
        + ".",
    )
    architecture: Literal["x86_64", "arm64"] = Field(
        default="x86_64", description="Instruction set; wheels are installed for it."
    )
    memory: Annotated[int, _in_range(*standard.MEMORY_MB_RANGE, "MB (Lambda memory)")] = Field(
        default=standard.DEFAULT_MEMORY_MB, description="Memory (and so CPU) of the function."
    )
    timeout: Annotated[
        int, _in_range(*standard.TIMEOUT_S_RANGE, "seconds (VA standard: at most 5 min)")
    ] = Field(default=standard.DEFAULT_TIMEOUT_S, description="Seconds before Lambda stops it.")
    ephemeral_storage: Annotated[int, _in_range(512, 10240, "MB of /tmp")] = Field(
        default=512, description="Size of /tmp."
    )
    secrets: tuple[SecretRef, ...] = Field(
        default=(),
        description="Declared secrets it may read; it gets each one's ARN in an env var, "
        "never the value.",
    )
    existing_secrets: tuple[ExistingSecret, ...] = Field(
        default=(),
        description="Secrets that exist already, of any name or ARN (another team's or "
        "tool's): it gets each one's ARN or name in an env var, its role GetSecretValue on "
        "exactly that secret and kms:Decrypt on its kmsKeyArn.",
    )
    env: dict[str, str] = Field(
        default_factory=dict,
        description="Plain env vars; a value that looks like a credential is refused.",
    )
    layers: tuple[str, ...] = Field(default=(), description="Purposes of VaLayers in this stack.")
    reserved_concurrency: Annotated[int, _in_range(0, 1000, "reserved executions")] | None = Field(
        default=None, description="Reserved executions; unset means the account's pool."
    )
    runtime_management: RuntimeManagement = Field(
        default=RuntimeManagement(), description="Who patches the runtime (zip functions only)."
    )
    max_retries: Annotated[int, _in_range(0, 2, "async retries")] = Field(
        default=2, description="Retries of a failed asynchronous event before the DLQ."
    )
    max_event_age: Annotated[int, _in_range(60, 21600, "seconds of async event age")] = Field(
        default=3600, description="Seconds an asynchronous event may wait before the DLQ."
    )
    duration_alarm_fraction: Annotated[float, _in_range(0.1, 1.0, "of the timeout")] = Field(
        default=0.8, description="The duration alarm fires at this fraction of the timeout."
    )
    log_retention_days: LogRetentionDays | None = Field(
        default=None, description="Overrides the stack's logRetentionDays for this function."
    )
    table_actions: Annotated[tuple[str, ...], _actions_in(TABLE_ACTIONS)] = Field(
        default=(),
        description="What it may do on its table (VaLambdaArgs.table): "
        + ", ".join(sorted(TABLE_ACTIONS))
        + " (scoped to that table's ARN; its name in DYNAMODB_TABLE).",
    )
    bucket_actions: Annotated[tuple[str, ...], _actions_in(BUCKET_OBJECT_ACTIONS)] = Field(
        default=(),
        description="What it may do on its bucket's objects (VaLambdaArgs.bucket): "
        + ", ".join(sorted(BUCKET_OBJECT_ACTIONS))
        + " (scoped to <bucket ARN>/*; its name in S3_BUCKET).",
    )

    layer_arns: tuple[str, ...] = Field(
        default=(),
        description="Published layers by ARN (e.g. AWS's Powertools layer), after the stack's "
        "own `layers`.",
    )
    log_level: Literal["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"] | None = Field(
        default=None, description="Application log level Lambda filters at; unset: INFO."
    )
    system_log_level: Literal["DEBUG", "INFO", "WARN"] | None = Field(
        default=None, description="Lambda platform log level; unset: INFO."
    )
    tracing: Literal["Active", "PassThrough"] = Field(
        default="Active",
        description="X-Ray: Active samples and traces; PassThrough only "
        "forwards an upstream trace header.",
    )
    kms_key_arn: ArnInput | None = Field(
        default=None,
        description="Customer-managed KMS key for the env vars and the log group (its key "
        "policy must admit CloudWatch Logs); the role may kms:Decrypt with it. Unset: the "
        "stack's key (encryptionKey), or AWS-managed keys when that is off.",
    )
    statements: tuple[StatementSpec, ...] = Field(
        default=(),
        description="Extra Allow statements for the function's role (e.g. reading one queue of "
        "another stack); checked against AWS's action catalogue.",
    )
    publish: bool = Field(
        default=False,
        description="Publish a version on each code or configuration change and point the "
        "alias `live` at it; triggers then target the alias.",
    )
    triggers: tuple[Trigger, ...] = Field(
        default=(),
        description="What starts the function besides a direct invoke: "
        + ", ".join(f"`{kind.name}`" for kind in TRIGGER_KINDS[:-1])
        + f" or `{TRIGGER_KINDS[-1].name}`.",
    )
    destinations: Destinations = Field(
        default=Destinations(),
        description="Where asynchronous results go, besides the DLQ (SQS, SNS, EventBridge "
        "bus or Lambda ARNs); the role may send to exactly those.",
    )
    provisioned_concurrency: Annotated[int, _in_range(0, 1000, "environments")] = Field(
        default=0,
        description="Pre-initialised environments on the `live` alias (needs publish: true); "
        "0: none. Usually set per stack (prod).",
    )
    snap_start: bool = Field(
        default=False,
        description="Lambda SnapStart on published versions (python3.12 and later, publish: true).",
    )
    egress: Egress = Field(
        default=(),
        max_length=MAX_EGRESS_RULES,
        description="Ways out besides HTTPS: one TCP port each on a named security group or "
        "prefix list (never a CIDR), through a security group of the function's own, "
        "va-<env>-<purpose>-lambda-sg; at most 60 (EC2's rules per group). The target's owner "
        "admits that group (ingress from it).",
    )

    @field_validator("code", mode="before")
    @classmethod
    def _code_kind(cls, code: object) -> object:
        """``kind`` may be left out: ``imageUri`` means an image, anything else a zip."""
        if isinstance(code, dict) and "kind" not in code:
            return {**code, "kind": "image" if "imageUri" in code else "zip"}
        return code

    @field_validator("runtime")
    @classmethod
    def _runtime(cls, value: str) -> str:
        allowed = standard.supported_runtimes(date.today())
        if value not in allowed:
            why = "deprecated by AWS" if value in standard.RUNTIME_DEPRECATION else "unknown"
            raise ValueError(f"runtime {value!r} is {why}; allowed: {', '.join(allowed)}")
        return value

    @field_validator("env")
    @classmethod
    def _env(cls, env: dict[str, str]) -> dict[str, str]:
        for key, value in env.items():
            problem = env_key_problem(key)
            if problem:
                raise ValueError(problem)
            kind = standard.secret_value_kind(value)
            if kind:
                raise ValueError(
                    f"env {key} looks like {kind}; never put secrets in env vars: declare it in "
                    "'secrets' (va/<env>/<name>, its value put out of band in Secrets Manager) and "
                    "let the function read it at runtime"
                )
        return env

    @model_validator(mode="after")
    def _consistent(self) -> FunctionSpec:
        """Settings that hold only together, in named steps; the first problem is the error."""
        self._code_settings()
        check_triggers(self.triggers, self.purpose)
        self._own_sids()
        self._layer_arns()
        self._kms_key()
        self._release_settings()
        self._secret_env_vars()
        self._env_size()
        return self

    def _code_settings(self) -> None:
        """An image takes no handler, runtime, layers or runtime management; a Python zip's
        handler is <module>.<function>."""
        if isinstance(self.code, ImageCode):
            for field in ("handler", "runtime", "layers"):
                if field in self.model_fields_set:
                    raise ValueError(
                        f"'{field}' does not apply to a container image (code.kind image); "
                        "the image's CMD and base decide it"
                    )
            if self.runtime_management.mode != "Auto":
                raise ValueError(
                    "runtimeManagement applies to managed runtimes only; a container image is "
                    "patched by rebuilding it"
                )
        elif self.runtime.startswith("python") and not HANDLER_RE.match(self.handler):
            raise ValueError(
                f"handler {self.handler!r} is not of the form <module>.<function> "
                "(e.g. handler.handler)"
            )

    def _own_sids(self) -> None:
        """Each of the function's own statements has a Sid of its own, none of the standard's."""
        sids = [st.sid for st in self.statements]
        taken = sorted({sid for sid in sids if sids.count(sid) > 1} | set(sids) & RESERVED_SIDS)
        if taken:
            raise ValueError(
                f"statements: sid {', '.join(taken)} is used twice or by the standard policy "
                f"({', '.join(sorted(RESERVED_SIDS))}); pick another"
            )

    def _layer_arns(self) -> None:
        bad_layers = [a for a in self.layer_arns if not LAYER_ARN_RE.match(a)]
        if bad_layers:
            raise ValueError(
                f"layerArns {', '.join(bad_layers)}: a layer version ARN is "
                "arn:aws:lambda:<region>:<account>:layer:<name>:<version>"
            )
        if self.is_image and self.layer_arns:
            raise ValueError("layerArns do not apply to a container image")

    def _kms_key(self) -> None:
        if is_known(self.kms_key_arn) and not KMS_KEY_ARN_RE.match(self.kms_key_arn):
            raise ValueError(
                f"kmsKeyArn {self.kms_key_arn!r} is not a KMS key ARN "
                "(arn:aws:kms:<region>:<account>:key/<id>)"
            )

    def _release_settings(self) -> None:
        """Provisioned concurrency and SnapStart apply to published versions; SnapStart to the
        managed runtimes that have it."""
        for setting, on in (
            ("provisionedConcurrency", self.provisioned_concurrency > 0),
            ("snapStart", self.snap_start),
        ):
            if on and not self.publish:
                raise ValueError(f"{setting} applies to published versions: set publish: true")
        if self.snap_start and (self.is_image or self.runtime not in SNAPSTART_RUNTIMES):
            raise ValueError(
                f"snapStart needs a managed runtime of {', '.join(SNAPSTART_RUNTIMES)}; "
                f"this function runs {'a container image' if self.is_image else self.runtime}"
            )

    @property
    def _secret_env(self) -> list[str]:
        """The env vars carrying the secrets' ARNs (the stack's and existing ones)."""
        return [s.env_var for s in self.secrets] + [e.env for e in self.existing_secrets]

    def _secret_env_vars(self) -> None:
        """Each secret once, with an env var of its own that no plain value takes."""
        env_vars = self._secret_env
        for var in env_vars:
            if var in self.env:
                raise ValueError(f"env {var} is set both as a plain value and for a secret")
        twice = sorted({var for var in env_vars if env_vars.count(var) > 1})
        if twice:
            raise ValueError(f"env {', '.join(twice)} carries two secrets; give each its own")
        if len({s.name for s in self.secrets}) != len(self.secrets):
            raise ValueError("each secret may be listed once")

    def _env_size(self) -> None:
        size = sum(len(k) + len(v) for k, v in self.env.items()) + sum(
            len(v) + 100 for v in self._secret_env
        )
        if size > ENV_TOTAL_MAX_BYTES:
            raise ValueError(f"env vars take ~{size} bytes; Lambda allows 4 KB in total")

    @property
    def is_image(self) -> bool:
        return isinstance(self.code, ImageCode)

    @classmethod
    def literal_hint(cls, field: str) -> str | None:
        return {
            "env": "give a value known only as an Output in VaLambdaArgs.extra_env",
            "layer_arns": "give a layer ARN known only as an Output in VaLambdaArgs.layer_arns",
        }.get(field)

    @property
    def is_custom_runtime(self) -> bool:
        return not self.is_image and self.runtime.startswith(standard.CUSTOM_RUNTIME_PREFIX)
