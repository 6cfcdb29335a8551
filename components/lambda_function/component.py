"""VaLambda: one function as the VA standard defines it, with everything it needs around it.

Log group (created first, so Lambda never creates an unmanaged one), dead-letter queue with async
retry settings, an execution role of its own scoped to exact ARNs, VPC placement, X-Ray tracing,
recursive-loop termination, runtime management (seed 001) and the four alarms.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.artifacts import ArtifactStore, ZipArtifact, stage, zip_names
from components.base import VaComponent
from components.context import VaContext
from components.lambda_function.alarms import AlarmDef, function_alarms
from components.lambda_function.iam import ASSUME_ROLE_POLICY, IamStatement, execution_policy
from components.lambda_function.spec import FunctionSpec, ImageCode
from policies.va_guard import standard

DLQ_RETENTION_S = 14 * 24 * 3600  # SQS maximum: time to inspect and redrive failed events


@dataclass(frozen=True)
class LambdaNetworking:
    """Where the function's ENIs go; VaNetwork.lambda_networking() provides it."""

    subnet_ids: Sequence[pulumi.Input[str]]
    subnet_arns: Sequence[pulumi.Input[str]]
    security_group_ids: Sequence[pulumi.Input[str]]
    security_group_arns: Sequence[pulumi.Input[str]]


@dataclass(frozen=True)
class VaLambdaArgs:
    context: VaContext
    spec: FunctionSpec
    networking: LambdaNetworking
    alarm_topic_arn: pulumi.Input[str]
    package: ZipArtifact | None = None
    secret_arns: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    layer_arns: Sequence[pulumi.Input[str]] = ()
    extra_statements: Sequence[IamStatement] = ()
    extra_alarms: Sequence[AlarmDef] = ()
    log_retention_days: int = 30
    image_uri: pulumi.Input[str] | None = None
    artifacts: ArtifactStore | None = None

    def __post_init__(self) -> None:
        spec = self.spec
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
                "stack.build.build_zip(spec.code.path, runtime=spec.runtime)"
            )
        missing = [s.name for s in spec.secrets if s.name not in self.secret_arns]
        if missing:
            raise ValueError(f"{spec.purpose}: no ARN given for secrets {', '.join(missing)}")
        if spec.is_custom_runtime and not self.layer_arns:
            assert self.package is not None
            if "bootstrap" not in zip_names(self.package.path):
                raise ValueError(
                    f"{spec.purpose}: runtime {spec.runtime} needs an executable 'bootstrap' in "
                    "the code directory or a layer that provides it"
                )
        if not self.networking.subnet_ids or not self.networking.security_group_ids:
            raise ValueError(f"{spec.purpose}: VA functions run in a VPC; give subnets and SGs")


def _resolved(st: IamStatement) -> pulumi.Output[tuple[str, tuple[str, ...], list[str]]]:
    def with_resources(resources: list[str]) -> tuple[str, tuple[str, ...], list[str]]:
        return st.sid, st.actions, list(resources)

    return pulumi.Output.all(*st.resources).apply(with_resources)


class VaLambda(VaComponent):
    """The function and its log group, DLQ, role, async config, recursion guard and alarms."""

    MODULE = "lambda"

    def __init__(
        self, name: str, args: VaLambdaArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args.context, opts=opts)
        ctx, spec = args.context, args.spec
        purpose = spec.purpose

        def tags(physical: str) -> dict[str, str]:
            return ctx.tags(purpose, physical)

        self.function_name = ctx.name(purpose, "lambda")
        log_group_name = standard.log_group_name(self.function_name)
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=log_group_name,
            retention_in_days=spec.log_retention_days or args.log_retention_days,
            tags=tags(log_group_name),
            opts=self.child_opts(),
        )
        dlq_name = ctx.name(purpose, "dlq")
        self.dlq = aws.sqs.Queue(
            f"{name}-dlq",
            name=dlq_name,
            sqs_managed_sse_enabled=True,
            message_retention_seconds=DLQ_RETENTION_S,
            tags=tags(dlq_name),
            opts=self.child_opts(),
        )
        role_name = ctx.name(purpose, "lambda-role")
        self.role = aws.iam.Role(
            f"{name}-role",
            name=role_name,
            description=f"Execution role of {self.function_name} only",
            assume_role_policy=ASSUME_ROLE_POLICY,
            tags=tags(role_name),
            opts=self.child_opts(),
        )
        net = args.networking
        secret_arns = [args.secret_arns[s.name] for s in spec.secrets]
        extra = [_resolved(st) for st in args.extra_statements]
        policy = pulumi.Output.all(
            self.log_group.arn,
            self.dlq.arn,
            pulumi.Output.all(*secret_arns),
            pulumi.Output.all(*net.subnet_arns),
            pulumi.Output.all(*net.security_group_arns),
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
        self.role_policy = aws.iam.RolePolicy(
            f"{name}-role-policy",
            name=ctx.name(purpose, "lambda-policy"),
            role=self.role.id,
            policy=policy,
            opts=self.child_opts(),
        )

        env_vars: dict[str, pulumi.Input[str]] = dict(spec.env)
        for ref in spec.secrets:
            env_vars[ref.env_var] = args.secret_arns[ref.name]
        code_args: dict[str, object] = {}
        if isinstance(spec.code, ImageCode):
            code_args = {
                "package_type": "Image",
                "image_uri": spec.code.image_uri or args.image_uri,
            }
            if spec.code.command:
                code_args["image_config"] = {"commands": list(spec.code.command)}
        else:
            assert args.package is not None
            code_args = {
                "package_type": "Zip",
                "runtime": spec.runtime,
                "handler": spec.handler,
                "source_code_hash": args.package.sha256_b64,
                "layers": list(args.layer_arns) or None,
            }
            if args.artifacts is None:
                code_args["code"] = pulumi.FileArchive(str(args.package.path))
            else:
                key = standard.artifact_key(self.function_name, args.artifacts.revision)
                self.artifact, s3_code = stage(
                    f"{name}-artifact", self.function_name, args.package, args.artifacts,
                    tags(key), self.child_opts(),
                )  # fmt: skip
                code_args |= s3_code
        # code_args differ by package type (built above); the overloads cannot see that.
        self.function = aws.lambda_.Function(  # type: ignore[call-overload]
            f"{name}-function",
            name=self.function_name,
            role=self.role.arn,
            architectures=[spec.architecture],
            memory_size=spec.memory,
            timeout=spec.timeout,
            ephemeral_storage={"size": spec.ephemeral_storage},
            environment={"variables": env_vars} if env_vars else None,
            vpc_config={
                "subnet_ids": list(net.subnet_ids),
                "security_group_ids": list(net.security_group_ids),
            },
            tracing_config={"mode": "Active"},
            dead_letter_config={"target_arn": self.dlq.arn},
            logging_config={"log_format": "JSON", "log_group": self.log_group.name},
            reserved_concurrent_executions=(
                spec.reserved_concurrency if spec.reserved_concurrency is not None else -1
            ),
            tags=tags(self.function_name),
            # The policy must exist before creation: Lambda checks the ENI permissions then.
            opts=self.child_opts(depends_on=[self.log_group, self.role_policy]),
            **code_args,
        )
        aws.lambda_.FunctionEventInvokeConfig(
            f"{name}-async",
            function_name=self.function.name,
            maximum_retry_attempts=spec.max_retries,
            maximum_event_age_in_seconds=spec.max_event_age,
            opts=self.child_opts(),
        )
        aws.lambda_.FunctionRecursionConfig(
            f"{name}-recursion",
            function_name=self.function.name,
            recursive_loop="Terminate",
            opts=self.child_opts(),
        )
        if not spec.is_image:
            rm = spec.runtime_management
            aws.lambda_.RuntimeManagementConfig(
                f"{name}-runtime-management",
                function_name=self.function.name,
                update_runtime_on=rm.mode,
                runtime_version_arn=rm.runtime_version_arn,
                opts=self.child_opts(),
            )
        self.alarms: list[aws.cloudwatch.MetricAlarm] = []
        alarm_defs = function_alarms(spec.timeout, spec.duration_alarm_fraction)
        for alarm in [*alarm_defs, *args.extra_alarms]:
            alarm_name = ctx.name(purpose, alarm.type_)
            dimension = self.dlq.name if alarm.dimension == "QueueName" else self.function.name
            self.alarms.append(
                aws.cloudwatch.MetricAlarm(
                    f"{name}-{alarm.type_}",
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
                    tags=tags(alarm_name),
                    opts=self.child_opts(),
                )
            )
        self.arn: pulumi.Output[str] = self.function.arn
        self.role_arn: pulumi.Output[str] = self.role.arn
        self.register_outputs(
            {
                "functionName": self.function.name,
                "functionArn": self.arn,
                "roleArn": self.role_arn,
                "logGroupName": self.log_group.name,
                "dlqArn": self.dlq.arn,
            }
        )
