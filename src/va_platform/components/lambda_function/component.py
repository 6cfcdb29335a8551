"""VaLambda: one function as the VA standard defines it, with everything it needs around it.

Log group (created first, so Lambda never creates an unmanaged one), dead-letter queue with async
retry settings, an execution role of its own scoped to exact ARNs, VPC placement, X-Ray tracing,
recursive-loop termination, runtime management (who patches the runtime) and the four alarms.
"""

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pulumi
import pulumi_aws as aws
from pulumi_aws import lambda_

from va_platform import standard
from va_platform.components.artifacts import ArtifactStore, ZipArtifact, stage, zip_names
from va_platform.components.base import VaComponent
from va_platform.components.context import VaContext
from va_platform.components.lambda_function.alarms import AlarmDef, function_alarms
from va_platform.components.lambda_function.iam import (
    ASSUME_ROLE_POLICY,
    IamStatement,
    execution_policy,
)
from va_platform.components.lambda_function.spec import (
    KMS_KEY_ARN_RE,
    LAYER_ARN_RE,
    LOG_RETENTION_DAYS,
    VIA_SECRETS_MANAGER,
    FunctionSpec,
    ImageCode,
    destination_action_of,
    env_key_problem,
)
from va_platform.components.lambda_function.triggers import HttpApi, by_kind
from va_platform.components.model import is_known
from va_platform.components.refs import BucketRef, TableRef

SNS_TOPIC_ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$"
)
DLQ_RETENTION_S = 14 * 24 * 3600  # SQS maximum: time to inspect and redrive failed events


def _network_id_problems(
    vpc_id: pulumi.Input[str],
    subnet_ids: Sequence[pulumi.Input[str]],
    security_group_ids: Sequence[pulumi.Input[str]],
    account_id: pulumi.Input[str],
) -> list[str]:
    """What is wrong with the literals among a network's ids (Outputs are checked by va-guard
    once known): each id of its kind, an account of 12 digits, subnets in two or more zones."""
    problems = []
    for field_name, prefix, values in (
        ("vpc_id", "vpc-", [vpc_id]),
        ("subnet_ids", "subnet-", list(subnet_ids)),
        ("security_group_ids", "sg-", list(security_group_ids)),
    ):
        wrong = [v for v in values if is_known(v) and not v.startswith(prefix)]
        if wrong:
            problems.append(f"{field_name} {', '.join(map(repr, wrong))}: expected {prefix}<id>")
    if len(subnet_ids) < 2:
        problems.append("subnet_ids: a VA function runs in two or more subnets (zones)")
    if not security_group_ids:
        problems.append("security_group_ids: give at least one")
    if is_known(account_id) and not re.fullmatch(r"\d{12}", account_id):
        problems.append(f"account_id {account_id!r}: an AWS account id is 12 digits")
    return problems


@dataclass(frozen=True)
class LambdaNetworking:
    """Where the function's ENIs go; VaNetwork.lambda_networking() provides it, and
    ``from_ids`` builds it for a network of another stack or team."""

    # Private subnets the function's ENIs go in (two or more zones).
    subnet_ids: Sequence[pulumi.Input[str]]
    # Their ARNs, in the same order: the role may create ENIs in exactly these.
    subnet_arns: Sequence[pulumi.Input[str]]
    # Security groups every function is attached to (e.g. HTTPS out, nothing in).
    security_group_ids: Sequence[pulumi.Input[str]]
    # Their ARNs, in the same order: the role may attach ENIs to exactly these.
    security_group_arns: Sequence[pulumi.Input[str]]
    # The VPC of the subnets: where a function with ``egress`` gets its own security group.
    vpc_id: pulumi.Input[str] | None = None

    @classmethod
    def from_ids(
        cls,
        *,
        vpc_id: pulumi.Input[str],
        subnet_ids: Sequence[pulumi.Input[str]],
        security_group_ids: Sequence[pulumi.Input[str]],
        region: pulumi.Input[str],
        account_id: pulumi.Input[str],
    ) -> "LambdaNetworking":
        """A network someone else made, by ids (literals, Outputs, StackReference outputs); the
        ARNs the role's ENI statement is scoped to are built from them. A list exported by
        another stack is indexed: ``subnets = ref.get_output("privateSubnetIds")``, then
        ``subnet_ids=[subnets[0], subnets[1]]``."""

        problems = _network_id_problems(vpc_id, subnet_ids, security_group_ids, account_id)
        if problems:
            raise ValueError("LambdaNetworking.from_ids: " + "; ".join(problems))

        def arn(kind: str, resource_id: pulumi.Input[str]) -> pulumi.Output[str]:
            return pulumi.Output.concat(
                "arn:aws:ec2:", region, ":", account_id, f":{kind}/", resource_id
            )

        return cls(
            subnet_ids=list(subnet_ids),
            subnet_arns=[arn("subnet", i) for i in subnet_ids],
            security_group_ids=list(security_group_ids),
            security_group_arns=[arn("security-group", i) for i in security_group_ids],
            vpc_id=vpc_id,
        )


@dataclass(frozen=True)
class VaLambdaArgs:
    """One function's spec and everything around it the program provides: its network, alarm
    topic, package, the ARNs of what it uses. Checked on construction: a setting of the spec
    that needs an argument not given here is one error naming both."""

    # Environment and owner (names and tags); its permissions_boundary goes on every role.
    context: VaContext
    # What the function is (FunctionSpec): code, sizes, triggers, secrets, statements.
    spec: FunctionSpec
    # Where it runs: VaNetwork.lambda_networking(), or LambdaNetworking.from_ids(...).
    networking: LambdaNetworking
    # The SNS topic its alarms notify (VaAlarmTopic.arn, or another stack's topic).
    alarm_topic_arn: pulumi.Input[str]
    # A zip function's code: va_platform.packaging.build_zip(spec.code.path, runtime=...,
    # architecture=...), built for the spec's runtime and architecture (else refused).
    package: ZipArtifact | None = None
    # The ARN of each VA secret spec.secrets names (VaSecret.arn), by its name.
    secret_arns: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # Layers of the program (VaLayer.arn), before spec.layer_arns.
    layer_arns: Sequence[pulumi.Input[str]] = ()
    # Allow statements the program adds to the role (e.g. an agent's handler statements).
    extra_statements: Sequence[IamStatement] = ()
    # Alarms beside the standard four (e.g. an agent's cost alarm).
    extra_alarms: Sequence[AlarmDef] = ()
    # Env vars known only as outputs (ARNs of other resources); never secrets, which go through
    # ``secret_arns`` as ARNs the function reads at run time.
    extra_env: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # Days its log groups keep logs, unless spec.log_retention_days says otherwise.
    log_retention_days: int = 30
    # An image function's image, when spec.code has no imageUri (e.g. VaAgentImage.image_uri).
    image_uri: pulumi.Input[str] | None = None
    # Where a zip is staged in S3 (the VA standard); None: uploaded with the function.
    artifacts: ArtifactStore | None = None
    # The stack's customer-managed key (VaKey) for env vars and logs; spec.kms_key_arn wins.
    kms_key_arn: pulumi.Input[str] | None = None
    # The buckets its ``bucket`` triggers name: the name a trigger gives -> the bucket's ARN
    # (VaBucket.arn, an Output, a StackReference output; a bucket of the function's account).
    bucket_arns: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # The table ``spec.table_actions`` act on (-> DYNAMODB_TABLE): VaTable.ref(), or
    # TableRef(arn=..., name=...).
    table: TableRef | None = None
    # The bucket whose objects ``spec.bucket_actions`` act on (-> S3_BUCKET): VaBucket.ref(),
    # or BucketRef(arn=..., name=...).
    bucket: BucketRef | None = None

    @cached_property
    def data_access(self) -> tuple[dict[str, pulumi.Input[str]], list[IamStatement]]:
        """The env vars and statements ``table``/``bucket`` give (built once per function)."""
        return _data_access(self)

    def __post_init__(self) -> None:
        spec = self.spec
        if is_known(self.alarm_topic_arn) and not SNS_TOPIC_ARN_RE.match(self.alarm_topic_arn):
            raise ValueError(
                f"{spec.purpose}: alarm_topic_arn {self.alarm_topic_arn!r} is not an SNS topic "
                "ARN (arn:aws:sns:<region>:<account>:<name>; VaAlarmTopic.arn gives one)"
            )
        if isinstance(self.log_retention_days, int) and (
            self.log_retention_days not in LOG_RETENTION_DAYS
        ):
            raise ValueError(
                f"{spec.purpose}: log_retention_days {self.log_retention_days} is not a "
                "CloudWatch Logs retention period; allowed: "
                + ", ".join(map(str, LOG_RETENTION_DAYS))
            )
        self._check_literals()
        if spec.layers and len(self.layer_arns) < len(spec.layers):
            raise ValueError(
                f"{spec.purpose}: FunctionSpec.layers ({', '.join(spec.layers)}) names layers of "
                "the program by purpose: give each one's ARN in VaLambdaArgs.layer_arns "
                "(VaLayer.arn)"
            )
        if spec.is_image and self.package is not None:
            raise ValueError(f"{spec.purpose}: an image function takes no zip package")
        if isinstance(spec.code, ImageCode) and (spec.code.image_uri is None) == (
            self.image_uri is None
        ):
            raise ValueError(
                f"{spec.purpose}: give the image URI once: in code.imageUri or as image_uri "
                "(e.g. VaAgentImage.image_uri)"
            )
        if not spec.is_image and self.image_uri is not None:
            raise ValueError(f"{spec.purpose}: image_uri is for image functions only")
        if not spec.is_image and self.package is None:
            raise ValueError(
                f"{spec.purpose}: a zip function needs its package; build it with "
                "va_platform.packaging.build_zip(spec.code.path, runtime=spec.runtime, "
                "architecture=spec.architecture)"
            )
        for built, wanted, what in (
            # A custom runtime's package brings its own (bootstrap, or a layer's).
            (
                self.package and self.package.runtime,
                not spec.is_custom_runtime and spec.runtime,
                "runtime",
            ),
            (self.package and self.package.architecture, spec.architecture, "architecture"),
        ):
            if built and wanted and built != wanted:
                raise ValueError(
                    f"{spec.purpose}: the package was built for {what} {built}, the function "
                    f"runs on spec.{what} {wanted} (its dependencies would not import): build it "
                    f"with build_zip(..., {what}=spec.{what})"
                )
        if spec.table_actions and self.table is None:
            raise ValueError(
                f"{spec.purpose}: tableActions ({', '.join(spec.table_actions)}) need the table: "
                "give VaLambdaArgs.table (VaTable.ref(), or TableRef(arn=..., name=...))"
            )
        if spec.bucket_actions and self.bucket is None:
            raise ValueError(
                f"{spec.purpose}: bucketActions ({', '.join(spec.bucket_actions)}) need the "
                "bucket: give VaLambdaArgs.bucket (VaBucket.ref(), or BucketRef(arn=..., name=...))"
            )
        secret_env = {s.env_var for s in spec.secrets} | {e.env for e in spec.existing_secrets}
        clash = sorted(
            (set(self.extra_env) | set(self.data_access[0])) & (set(spec.env) | secret_env)
        )
        if clash:
            raise ValueError(f"{spec.purpose}: env {', '.join(clash)} given twice")
        missing = [s.name for s in spec.secrets if s.name not in self.secret_arns]
        if missing:
            raise ValueError(
                f"{spec.purpose}: no ARN given for secrets {', '.join(missing)} (FunctionSpec."
                "secrets): give each in VaLambdaArgs.secret_arns (VaSecret.arn)"
            )
        unused = sorted(set(self.secret_arns) - {s.name for s in spec.secrets})
        if unused:
            raise ValueError(
                f"{spec.purpose}: secret_arns names {', '.join(unused)}, which FunctionSpec."
                "secrets does not list: list a VA secret (va/<env>/<name>) there, or give a "
                "secret of any name or ARN as FunctionSpec.existing_secrets"
            )
        if spec.is_custom_runtime and not self.layer_arns:
            assert self.package is not None
            if "bootstrap" not in zip_names(self.package.path):
                raise ValueError(
                    f"{spec.purpose}: runtime {spec.runtime} needs an executable 'bootstrap' in "
                    "the code directory or a layer that provides it"
                )
        for kind, triggers in by_kind(spec.triggers):
            kind.check_args(triggers, self)
        if not self.networking.subnet_ids or not self.networking.security_group_ids:
            raise ValueError(f"{spec.purpose}: VA functions run in a VPC; give subnets and SGs")
        if spec.egress and self.networking.vpc_id is None:
            raise ValueError(
                f"{spec.purpose}: egress needs the VPC for the function's own security group; "
                "give LambdaNetworking.vpc_id (VaNetwork.lambda_networking() does)"
            )

    def _check_literals(self) -> None:
        """The literals among the arguments, as the spec checks its own (an Output is checked
        by va-guard once known): layer ARNs, the key, extra_env's keys and values."""
        purpose = self.spec.purpose
        bad = [a for a in self.layer_arns if is_known(a) and not LAYER_ARN_RE.match(a)]
        if bad:
            raise ValueError(
                f"{purpose}: VaLambdaArgs.layer_arns {', '.join(bad)}: a layer version ARN is "
                "arn:aws:lambda:<region>:<account>:layer:<name>:<version> (VaLayer.arn gives one)"
            )
        if is_known(self.kms_key_arn) and not KMS_KEY_ARN_RE.match(self.kms_key_arn):
            raise ValueError(
                f"{purpose}: VaLambdaArgs.kms_key_arn is not a KMS key ARN "
                "(arn:aws:kms:<region>:<account>:key/<id>; an alias is not a key: give the "
                "key's ARN, e.g. VaKey.arn)"
            )
        for key, value in self.extra_env.items():
            problem = env_key_problem(key)
            if problem:
                raise ValueError(f"{purpose}: VaLambdaArgs.extra_env: {problem}")
            kind = standard.secret_value_kind(value)
            if kind:
                raise ValueError(
                    f"{purpose}: VaLambdaArgs.extra_env {key} looks like {kind}; never put "
                    "secrets in env vars: give the secret (FunctionSpec.secrets or "
                    "existing_secrets) and let the function read it at run time"
                )


def outside_the_boundary(spec: FunctionSpec, env: str) -> list[str]:
    """The names (else env vars) of ``spec``'s existing secrets known (literals) to be outside
    ``va/<env>/*``, the names the environment's workload boundary lets every function read;
    any other secret is readable under it only if tagged for the environment and the role's
    owner (``Environment``, ``Owner``), or if the platform stack declares it."""
    inside = f"{standard.NAME_PREFIX}/{env}/"
    return [
        str(existing.name if is_known(existing.name) else existing.env)
        for existing in spec.existing_secrets
        if (is_known(existing.name) and not existing.name.startswith(inside))
        or (is_known(existing.arn) and f":secret:{inside}" not in existing.arn)
    ]


def _data_access(args: VaLambdaArgs) -> tuple[dict[str, pulumi.Input[str]], list[IamStatement]]:
    """What ``table_actions`` and ``bucket_actions`` give the function: the resource's name in
    its environment, and the actions on exactly that table, or that bucket's objects."""
    spec, env, statements = args.spec, {}, []
    if spec.table_actions and args.table is not None:
        env["DYNAMODB_TABLE"] = args.table.name
        statements.append(IamStatement("TableAccess", spec.table_actions, [args.table.arn]))
    if spec.bucket_actions and args.bucket is not None:
        env["S3_BUCKET"] = args.bucket.name
        objects = pulumi.Output.concat(args.bucket.arn, "/*")
        statements.append(IamStatement("BucketObjects", spec.bucket_actions, [objects]))
    return env, statements


def _resolved(st: IamStatement) -> pulumi.Output[tuple[Any, ...]]:
    """The statement with its actions and resources known (either may come from an Output: a
    destination's action depends on the service in its ARN), and its condition if it has one."""

    def known(values: list[str]) -> tuple[Any, ...]:
        actions, resources = tuple(values[: len(st.actions)]), list(values[len(st.actions) :])
        condition = () if st.condition is None else (st.condition,)
        return (st.sid, actions, resources, *condition)

    return pulumi.Output.all(*st.actions, *st.resources).apply(known)


BOUNDARY_DOC = "docs/development.md#existing-secrets-and-the-workload-boundary"


class VaLambda(VaComponent):
    """The function and its log group, DLQ, role, async config, recursion guard and alarms.

    Built in named steps, in dependency order: the log group and DLQ first (the role's policy
    names their ARNs), each trigger kind's sources (triggers/), then the role, the function, its
    invocation settings, each trigger kind's resources and its alarms. Every child is kept as an
    attribute.
    """

    MODULE = "lambda"

    # What the trigger kinds make (triggers/), kept under these names: each kind's ``sources``
    # and ``build`` return them, empty when the function has no trigger of that kind.
    work_queue: aws.sqs.Queue | None
    work_queue_dlq: aws.sqs.Queue | None
    schedule_role: aws.iam.Role | None
    schedules: list[aws.scheduler.Schedule]
    queue_mappings: list[aws.lambda_.EventSourceMapping]
    event_rules: list[aws.cloudwatch.EventRule]
    bucket_permissions: dict[str, aws.lambda_.Permission]
    function_url: aws.lambda_.FunctionUrl | None
    http_api: HttpApi | None

    def __init__(
        self, name: str, args: VaLambdaArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args.context, opts=opts)
        self._name, self._args = name, args
        self.function_name = args.context.name(args.spec.purpose, "lambda")
        self.log_group = self._log_group()
        self.dlq = self._dlq()
        self._triggers = by_kind(args.spec.triggers)
        for kind, triggers in self._triggers:
            self._keep(kind.sources(self, triggers))
        self.security_group = self._egress_group()
        self.role, self.role_policy = self._role()
        self.artifact: aws.s3.BucketObjectv2 | None = None
        self.function = self._function(self._code_args())
        self.alias = self._alias()
        # What triggers and callers invoke: the ``live`` alias when published, else the function.
        self.invoke_arn: pulumi.Output[str] = self._target
        self.async_config, self.recursion_config, self.runtime_management = self._invocation()
        for kind, triggers in self._triggers:
            self._keep(kind.build(self, triggers))
        self.provisioned_concurrency = self._provisioned_concurrency()
        self.alarms = self._alarms()
        self.arn: pulumi.Output[str] = self.function.arn
        self.role_arn: pulumi.Output[str] = self.role.arn
        self.register_outputs(
            {
                "functionName": self.function.name,
                "functionArn": self.arn,
                "roleArn": self.role_arn,
                "logGroupName": self.log_group.name,
                "dlqArn": self.dlq.arn,
                # What a target's owner admits (ingress from it), when it has ``egress``.
                **({"securityGroupId": self.security_group.id} if self.security_group else {}),
            }
        )

    def _warn_outside_boundary(self) -> None:
        """One line (a warning at preview) when a role that carries the environment's workload
        boundary is granted an existing secret outside ``va/<env>/*``: the boundary allows it
        only if the secret is tagged for the environment and the role's owner (the tags named),
        its KMS key for the environment, or the platform stack declares it."""
        ctx = self._args.context
        outside = outside_the_boundary(self._args.spec, ctx.environment)
        if ctx.permissions_boundary is not None and outside:
            pulumi.log.warn(
                f"{self._args.spec.purpose}: existing secrets {', '.join(outside)} are outside "
                f"{standard.NAME_PREFIX}/{ctx.environment}/*: the workload boundary "
                f"{standard.boundary_name(ctx.environment)} lets functions read them only if "
                f"each carries the tags Environment={ctx.environment} and Owner={ctx.owner} "
                f"(and a customer-managed KMS key the tag Environment={ctx.environment}), else "
                f"GetSecretValue is AccessDenied at run time (see {BOUNDARY_DOC})",
                resource=self,
            )

    def _keep(self, made: Mapping[str, Any]) -> None:
        """A trigger kind's resources, as attributes under the names it gives them."""
        for attribute, value in made.items():
            if attribute in self.__dict__:
                raise TypeError(f"VaLambda.{attribute} is taken; a trigger kind cannot set it")
            setattr(self, attribute, value)

    @property
    def _target(self) -> pulumi.Output[str]:
        return self.alias.arn if self.alias else self.function.arn

    @property
    def _kms_key_arn(self) -> pulumi.Input[str] | None:
        """The function's own key (config), else the stack's, else None (AWS-managed keys)."""
        return self._args.spec.kms_key_arn or self._args.kms_key_arn

    def _tags(self, physical: str) -> dict[str, str]:
        return self._args.context.tags(self._args.spec.purpose, physical)

    def _physical(self, type_: str) -> str:
        return self._args.context.name(self._args.spec.purpose, type_)

    def _log_group(self) -> aws.cloudwatch.LogGroup:
        """Created before the function, so Lambda never creates an unmanaged one."""
        log_group_name = standard.log_group_name(self.function_name)
        return aws.cloudwatch.LogGroup(
            f"{self._name}-logs",
            name=log_group_name,
            retention_in_days=self._args.spec.log_retention_days or self._args.log_retention_days,
            kms_key_id=self._kms_key_arn,
            tags=self._tags(log_group_name),
            opts=self.child_opts(),
        )

    def _dlq(self) -> aws.sqs.Queue:
        dlq_name = self._physical("dlq")
        return aws.sqs.Queue(
            f"{self._name}-dlq",
            name=dlq_name,
            sqs_managed_sse_enabled=True,
            message_retention_seconds=DLQ_RETENTION_S,
            tags=self._tags(dlq_name),
            opts=self.child_opts(),
        )

    def _egress_group(self) -> aws.ec2.SecurityGroup | None:
        """The function's own way out besides HTTPS (``egress``): no ingress, and egress only
        to the security groups and prefix lists it names, on their ports. Attached beside the
        stack's Lambda group; the target admitting it (ingress from this group) is its owner's."""
        rules, net = self._args.spec.egress, self._args.networking
        if not rules:
            return None
        sg_name = self._physical("lambda-sg")
        return aws.ec2.SecurityGroup(
            f"{self._name}-sg",
            name=sg_name,
            description=f"{self.function_name}: no inbound, outbound to named targets only",
            vpc_id=net.vpc_id,
            ingress=[],
            egress=[
                aws.ec2.SecurityGroupEgressArgs(
                    description=rule.description,
                    protocol="tcp",
                    from_port=rule.port,
                    to_port=rule.port,
                    security_groups=[rule.security_group_id] if rule.security_group_id else None,
                    prefix_list_ids=[rule.prefix_list_id] if rule.prefix_list_id else None,
                )
                for rule in rules
            ],
            tags=self._tags(sg_name),
            opts=self.child_opts(),
        )

    def _security_groups(self) -> tuple[list[pulumi.Input[str]], list[pulumi.Input[str]]]:
        """(ids, ARNs) of the groups the function is attached to: the stack's, and its own."""
        net, own = self._args.networking, self.security_group
        extra = [own] if own else []
        return (
            [*net.security_group_ids, *[g.id for g in extra]],
            [*net.security_group_arns, *[g.arn for g in extra]],
        )

    def _role(self) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
        """A role of this function's own, its policy scoped to the exact ARNs it uses."""
        args, spec = self._args, self._args.spec
        role_name = self._physical("lambda-role")
        role = aws.iam.Role(
            f"{self._name}-role",
            name=role_name,
            description=f"Execution role of {self.function_name} only",
            assume_role_policy=ASSUME_ROLE_POLICY,
            permissions_boundary=self._args.context.permissions_boundary,
            tags=self._tags(role_name),
            opts=self.child_opts(),
        )
        net = args.networking
        secret_arns = [args.secret_arns[s.name] for s in spec.secrets]
        triggered = [st for kind, ts in self._triggers for st in kind.statements(self, ts)]
        destinations = spec.destinations
        delivery = [
            IamStatement(sid, (destination_action_of(arn),), [arn])
            for sid, arn in (
                ("DeliverOnSuccess", destinations.on_success),
                ("DeliverOnFailure", destinations.on_failure),
            )
            if arn
        ]
        delivery += [IamStatement(st.sid, st.actions, list(st.resources)) for st in spec.statements]
        keys = [self._kms_key_arn] if self._kms_key_arn is not None else []
        if spec.secrets and spec.kms_key_arn and args.kms_key_arn is not None:
            keys.append(args.kms_key_arn)  # the stack's secrets are encrypted with the stack key
        if keys:
            delivery.append(IamStatement("DecryptWithOwnKey", ("kms:Decrypt",), keys))
        delivery += self._existing_secret_statements()
        data = args.data_access[1]
        extra = [_resolved(st) for st in [*data, *args.extra_statements, *triggered, *delivery]]
        policy = pulumi.Output.all(
            self.log_group.arn,
            self.dlq.arn,
            pulumi.Output.all(*secret_arns),
            pulumi.Output.all(*net.subnet_arns),
            pulumi.Output.all(*self._security_groups()[1]),
            pulumi.Output.all(*extra),
        ).apply(
            lambda v: json.dumps(
                execution_policy(
                    log_group_arn=v[0],
                    dlq_arn=v[1],
                    secret_arns=v[2],
                    subnet_arns=v[3],
                    security_group_arns=v[4],
                    extra=v[5],
                )
            )
        )
        role_policy = aws.iam.RolePolicy(
            f"{self._name}-role-policy",
            name=self._physical("lambda-policy"),
            role=role.id,
            policy=policy,
            opts=self.child_opts(),
        )
        return role, role_policy

    @property
    def _where(self) -> tuple[pulumi.Output[str], pulumi.Output[str], pulumi.Output[str]]:
        """(partition, region, account) of the function, read from its DLQ's ARN."""
        parts = self.dlq.arn.apply(lambda arn: arn.split(":"))
        return parts[1], parts[3], parts[4]

    def _existing_secret_statements(self) -> list[IamStatement]:
        """GetSecretValue on exactly the existing secrets (a name: in this function's account
        and region, read from its DLQ's ARN), kms:Decrypt on their keys via Secrets Manager."""
        existing = self._args.spec.existing_secrets
        if not existing:
            return []
        partition, region, account = self._where
        resources = [e.resource(region, account, partition) for e in existing]
        statements = [
            IamStatement("ReadExistingSecrets", ("secretsmanager:GetSecretValue",), resources)
        ]
        keys = [e.kms_key_arn for e in existing if e.kms_key_arn is not None]
        if keys:
            statements.append(
                IamStatement("DecryptExistingSecrets", ("kms:Decrypt",), keys, VIA_SECRETS_MANAGER)
            )
        return statements

    def _code_args(self) -> dict[str, object]:
        """The image, or the zip (uploaded to the artifacts bucket when there is one)."""
        args, spec = self._args, self._args.spec
        if isinstance(spec.code, ImageCode):
            code_args: dict[str, object] = {
                "package_type": "Image",
                "image_uri": spec.code.image_uri or args.image_uri,
            }
            if spec.code.command:
                code_args["image_config"] = {"commands": list(spec.code.command)}
            return code_args
        assert args.package is not None
        code_args = {
            "package_type": "Zip",
            "runtime": spec.runtime,
            "handler": spec.handler,
            "source_code_hash": args.package.sha256_b64,
            "layers": [*args.layer_arns, *spec.layer_arns] or None,
        }
        if args.artifacts is None:
            code_args["code"] = pulumi.FileArchive(str(args.package.path))
            return code_args
        key = standard.artifact_key(self.function_name, args.artifacts.revision)
        self.artifact, s3_code = stage(
            f"{self._name}-artifact", self.function_name, args.package, args.artifacts,
            self._tags(key), self.child_opts(),
        )  # fmt: skip
        return code_args | s3_code

    def _function(self, code_args: dict[str, object]) -> aws.lambda_.Function:
        args, spec = self._args, self._args.spec
        # Powertools (and our log lines) name the service after the purpose unless told otherwise.
        env_vars: dict[str, pulumi.Input[str]] = {
            "POWERTOOLS_SERVICE_NAME": spec.purpose,
            **spec.env,
            **args.data_access[0],
            **args.extra_env,
        }
        for ref in spec.secrets:
            env_vars[ref.env_var] = args.secret_arns[ref.name]
        if spec.existing_secrets:
            partition, region, account = self._where
            for existing in spec.existing_secrets:
                env_vars[existing.env] = existing.secret_id(region, account, partition)
            self._warn_outside_boundary()
        net = args.networking
        # code_args differ by package type (built above); the overloads cannot see that.
        return aws.lambda_.Function(  # type: ignore[call-overload]
            f"{self._name}-function",
            name=self.function_name,
            role=self.role.arn,
            architectures=[spec.architecture],
            memory_size=spec.memory,
            timeout=spec.timeout,
            ephemeral_storage={"size": spec.ephemeral_storage},
            environment={"variables": env_vars},
            vpc_config={
                "subnet_ids": list(net.subnet_ids),
                "security_group_ids": self._security_groups()[0],
            },
            tracing_config={"mode": spec.tracing},
            kms_key_arn=self._kms_key_arn,
            dead_letter_config={"target_arn": self.dlq.arn},
            logging_config={
                "log_format": "JSON",
                "log_group": self.log_group.name,
                "application_log_level": spec.log_level,
                "system_log_level": spec.system_log_level,
            },
            reserved_concurrent_executions=(
                spec.reserved_concurrency if spec.reserved_concurrency is not None else -1
            ),
            publish=spec.publish or None,
            snap_start={"apply_on": "PublishedVersions"} if spec.snap_start else None,
            tags=self._tags(self.function_name),
            # The policy must exist before creation: Lambda checks the ENI permissions then.
            opts=self.child_opts(depends_on=[self.log_group, self.role_policy]),
            **code_args,
        )

    def _alias(self) -> aws.lambda_.Alias | None:
        """``live``, at the version published by the last change (``publish: true`` only)."""
        if not self._args.spec.publish:
            return None
        return aws.lambda_.Alias(
            f"{self._name}-live",
            name="live",
            function_name=self.function.name,
            function_version=self.function.version,
            opts=self.child_opts(),
        )

    def _provisioned_concurrency(self) -> aws.lambda_.ProvisionedConcurrencyConfig | None:
        count = self._args.spec.provisioned_concurrency
        if not count or self.alias is None:
            return None
        return aws.lambda_.ProvisionedConcurrencyConfig(
            f"{self._name}-provisioned",
            function_name=self.function.name,
            qualifier=self.alias.name,
            provisioned_concurrent_executions=count,
            opts=self.child_opts(),
        )

    def _destination_config(self) -> lambda_.FunctionEventInvokeConfigDestinationConfigArgs | None:
        """Asynchronous results on success and failure (the role may send to exactly these)."""
        dest = self._args.spec.destinations
        if not dest.arns:
            return None
        success = lambda_.FunctionEventInvokeConfigDestinationConfigOnSuccessArgs
        failure = lambda_.FunctionEventInvokeConfigDestinationConfigOnFailureArgs
        return lambda_.FunctionEventInvokeConfigDestinationConfigArgs(
            on_success=success(destination=dest.on_success) if dest.on_success else None,
            on_failure=failure(destination=dest.on_failure) if dest.on_failure else None,
        )

    def _invocation(
        self,
    ) -> tuple[
        aws.lambda_.FunctionEventInvokeConfig,
        aws.lambda_.FunctionRecursionConfig,
        aws.lambda_.RuntimeManagementConfig | None,
    ]:
        """Async retries and event age, recursive-loop termination, runtime pinning (zip only).
        Lambda keeps the async settings per qualifier: on the ``live`` alias when published,
        as that is what the triggers invoke."""
        spec = self._args.spec
        async_config = aws.lambda_.FunctionEventInvokeConfig(
            f"{self._name}-async",
            function_name=self.function.name,
            qualifier=self.alias.name if self.alias else None,
            maximum_retry_attempts=spec.max_retries,
            maximum_event_age_in_seconds=spec.max_event_age,
            destination_config=self._destination_config(),
            opts=self.child_opts(),
        )
        recursion = aws.lambda_.FunctionRecursionConfig(
            f"{self._name}-recursion",
            function_name=self.function.name,
            recursive_loop="Terminate",
            opts=self.child_opts(),
        )
        if spec.is_image:
            return async_config, recursion, None
        rm = spec.runtime_management
        runtime_management = aws.lambda_.RuntimeManagementConfig(
            f"{self._name}-runtime-management",
            function_name=self.function.name,
            update_runtime_on=rm.mode,
            runtime_version_arn=rm.runtime_version_arn,
            opts=self.child_opts(),
        )
        return async_config, recursion, runtime_management

    def _alarms(self) -> list[aws.cloudwatch.MetricAlarm]:
        """The standard's function alarms plus the caller's (e.g. an agent's cost alarm)."""
        args, spec = self._args, self._args.spec
        alarms = []
        standard_alarms = function_alarms(spec.timeout, spec.duration_alarm_fraction)
        for alarm in [*standard_alarms, *args.extra_alarms]:
            alarm_name = self._physical(alarm.type_)
            dimension = self.dlq.name if alarm.dimension == "QueueName" else self.function.name
            alarms.append(
                aws.cloudwatch.MetricAlarm(
                    f"{self._name}-{alarm.type_}",
                    name=alarm_name,
                    alarm_description=alarm.description,
                    namespace=alarm.namespace,
                    metric_name=alarm.metric,
                    statistic=alarm.statistic,
                    dimensions={alarm.dimension: dimension},
                    period=alarm.period,
                    evaluation_periods=1,
                    threshold=alarm.threshold,
                    comparison_operator="GreaterThanOrEqualToThreshold",
                    treat_missing_data="notBreaching",
                    alarm_actions=[args.alarm_topic_arn],
                    ok_actions=[args.alarm_topic_arn],
                    tags=self._tags(alarm_name),
                    opts=self.child_opts(),
                )
            )
        return alarms
