"""How much the VaLambda component costs over declaring the same resources by hand.

Runs under the offline mocks, in one process, for N = 10, 100, 500 functions in one stack:
  * components: N x VaLambda (spec validation, names, tags, policy document, alarms);
  * floor: the same 13 resources per function declared directly with pulumi_aws, same inputs.
Prints ms per function and the ratio, best of REPEAT alternated runs each. Targets:
ratio <= 1.3, t(500)/t(100) <= 5.5, 500 functions < 30 s on 2 cores.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pulumi
import pulumi_aws as aws
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from va_platform.components.artifacts import ZipArtifact
from va_platform.components.context import VaContext
from va_platform.components.lambda_function import (
    FunctionSpec,
    LambdaNetworking,
    VaLambda,
    VaLambdaArgs,
)
from va_platform.components.lambda_function.alarms import function_alarms
from va_platform.components.lambda_function.iam import (
    ASSUME_ROLE_POLICY,
    execution_policy,
    schedule_policy,
    schedule_trust_policy,
)
from va_platform.packaging import build_zip
from va_platform.preflight.runner import PROJECT_ROOT, run_under_mocks

SIZES = (10, 100, 500)
# VaLambda with a schedule, a queue and the live alias against the same written out.
TRIGGERS_N = 100
# Same policy at every size keeps t(500)/t(100) unbiased; small runs (<1 s) get more tries.
REPEAT = {10: 10, 100: 5, 500: 5}
CTX = VaContext("dev", "platform-team")
SUBNET_ARNS = [
    "arn:aws:ec2:eu-central-1:123456789012:subnet/subnet-0a",
    "arn:aws:ec2:eu-central-1:123456789012:subnet/subnet-0b",
]
SG_ARN = "arn:aws:ec2:eu-central-1:123456789012:security-group/sg-0l"
TOPIC = "arn:aws:sns:eu-central-1:123456789012:va-dev-alarms-topic"
NET = LambdaNetworking(["subnet-0a", "subnet-0b"], SUBNET_ARNS, ["sg-0l"], [SG_ARN])


def purpose(i: int) -> str:
    return f"fn{i:04d}"


TRIGGERS = [
    {"kind": "schedule", "expression": "rate(1 hour)"},
    {"kind": "queue", "batchSize": 10},
]


def components(n: int, artifact: ZipArtifact, triggers: bool = False) -> None:
    extra = {"publish": True, "triggers": TRIGGERS} if triggers else {}
    for i in range(n):
        spec = FunctionSpec.model_validate(
            {"purpose": purpose(i), "code": {"path": "functions/contentgen"}, **extra}
        )
        VaLambda(purpose(i), VaLambdaArgs(CTX, spec, NET, TOPIC, package=artifact))


def components_with_triggers(n: int, artifact: ZipArtifact) -> None:
    components(n, artifact, triggers=True)


def floor(n: int, artifact: ZipArtifact, triggers: bool = False) -> None:
    """The same resources and inputs, written out with pulumi_aws and nothing else."""
    for i in range(n):
        p = purpose(i)
        name = f"va-dev-{p}-lambda"

        def tags(physical: str, p: str = p) -> dict[str, str]:
            return {
                "Name": physical,
                "Environment": "dev",
                "Purpose": p,
                "Project": "VirtualAgentics",
                "Owner": "platform-team",
            }

        logs = aws.cloudwatch.LogGroup(
            f"{p}-logs",
            name=f"/aws/lambda/{name}",
            retention_in_days=30,
            tags=tags(f"/aws/lambda/{name}"),
        )
        dlq = aws.sqs.Queue(
            f"{p}-dlq",
            name=f"va-dev-{p}-dlq",
            sqs_managed_sse_enabled=True,
            message_retention_seconds=1209600,
            tags=tags(f"va-dev-{p}-dlq"),
        )
        queue = None
        if triggers:
            qdlq = aws.sqs.Queue(
                f"{p}-queue-dlq",
                name=f"va-dev-{p}-queue-dlq",
                sqs_managed_sse_enabled=True,
                message_retention_seconds=1209600,
                tags=tags(f"va-dev-{p}-queue-dlq"),
            )
            queue = aws.sqs.Queue(
                f"{p}-queue",
                name=f"va-dev-{p}-queue",
                sqs_managed_sse_enabled=True,
                visibility_timeout_seconds=180,
                redrive_policy=qdlq.arn.apply(
                    lambda arn: json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 3})
                ),
                tags=tags(f"va-dev-{p}-queue"),
            )
        role = aws.iam.Role(
            f"{p}-role",
            name=f"va-dev-{p}-lambda-role",
            assume_role_policy=ASSUME_ROLE_POLICY,
            tags=tags(f"va-dev-{p}-lambda-role"),
        )
        queue_arn = queue.arn if queue is not None else None
        policy = pulumi.Output.all(logs.arn, dlq.arn, queue_arn).apply(
            lambda v: json.dumps(
                execution_policy(
                    log_group_arn=v[0],
                    dlq_arn=v[1],
                    secret_arns=[],
                    subnet_arns=SUBNET_ARNS,
                    security_group_arns=[SG_ARN],
                    extra=[("ReadTriggerQueues", QUEUE_ACTIONS, [v[2]])] if v[2] else [],
                )
            )
        )
        rp = aws.iam.RolePolicy(
            f"{p}-role-policy", name=f"va-dev-{p}-lambda-policy", role=role.id, policy=policy
        )
        fn = aws.lambda_.Function(
            f"{p}-function",
            name=name,
            role=role.arn,
            architectures=["x86_64"],
            memory_size=256,
            timeout=30,
            ephemeral_storage={"size": 512},
            environment={"variables": {"POWERTOOLS_SERVICE_NAME": p}},
            vpc_config={"subnet_ids": NET.subnet_ids, "security_group_ids": ["sg-0l"]},
            tracing_config={"mode": "Active"},
            dead_letter_config={"target_arn": dlq.arn},
            logging_config={"log_format": "JSON", "log_group": logs.name},
            reserved_concurrent_executions=-1,
            publish=True if triggers else None,
            tags=tags(name),
            package_type="Zip",
            runtime="python3.11",
            handler="handler.handler",
            code=pulumi.FileArchive(str(artifact.path)),
            source_code_hash=artifact.sha256_b64,
            opts=pulumi.ResourceOptions(depends_on=[logs, rp]),
        )
        if triggers:
            floor_triggers(p, tags, fn, dlq, rp, queue)
        aws.lambda_.FunctionEventInvokeConfig(
            f"{p}-async",
            function_name=fn.name,
            maximum_retry_attempts=2,
            maximum_event_age_in_seconds=3600,
        )
        aws.lambda_.FunctionRecursionConfig(
            f"{p}-recursion", function_name=fn.name, recursive_loop="Terminate"
        )
        aws.lambda_.RuntimeManagementConfig(
            f"{p}-rm", function_name=fn.name, update_runtime_on="Auto"
        )
        for a in function_alarms(30, 0.8):
            aws.cloudwatch.MetricAlarm(
                f"{p}-{a.type_}",
                name=f"va-dev-{p}-{a.type_}",
                alarm_description=a.description,
                namespace=a.namespace,
                metric_name=a.metric,
                statistic=a.statistic,
                dimensions={a.dimension: fn.name if a.dimension == "FunctionName" else dlq.name},
                period=300,
                evaluation_periods=1,
                threshold=a.threshold,
                comparison_operator="GreaterThanOrEqualToThreshold",
                treat_missing_data="notBreaching",
                alarm_actions=[TOPIC],
                ok_actions=[TOPIC],
                tags=tags(f"va-dev-{p}-{a.type_}"),
            )


QUEUE_ACTIONS = ("sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage")


def floor_triggers(
    p: str,
    tags: Callable[[str], dict[str, str]],
    fn: aws.lambda_.Function,
    dlq: aws.sqs.Queue,
    rp: aws.iam.RolePolicy,
    queue: aws.sqs.Queue | None,
) -> None:
    """The alias, the schedule with its role, and the queue mapping, written out."""
    assert queue is not None
    alias = aws.lambda_.Alias(
        f"{p}-live", name="live", function_name=fn.name, function_version=fn.version
    )
    role = aws.iam.Role(
        f"{p}-schedule-role",
        name=f"va-dev-{p}-schedule-role",
        assume_role_policy=schedule_trust_policy("123456789012"),
        tags=tags(f"va-dev-{p}-schedule-role"),
    )
    policy = aws.iam.RolePolicy(
        f"{p}-schedule-policy",
        name=f"va-dev-{p}-schedule-policy",
        role=role.id,
        policy=pulumi.Output.all(alias.arn, dlq.arn).apply(
            lambda v: json.dumps(schedule_policy(v[0], v[1]))
        ),
    )
    aws.scheduler.Schedule(
        f"{p}-schedule",
        name=f"va-dev-{p}-schedule",
        schedule_expression="rate(1 hour)",
        schedule_expression_timezone="UTC",
        flexible_time_window={"mode": "OFF"},
        target={
            "arn": alias.arn,
            "role_arn": role.arn,
            "dead_letter_config": {"arn": dlq.arn},
            "retry_policy": {"maximum_retry_attempts": 2},
        },
        opts=pulumi.ResourceOptions(depends_on=[policy]),
    )
    aws.lambda_.EventSourceMapping(
        f"{p}-queue-mapping",
        event_source_arn=queue.arn,
        function_name=alias.arn,
        batch_size=10,
        function_response_types=["ReportBatchItemFailures"],
        tags=tags(f"va-dev-{p}-lambda"),
        opts=pulumi.ResourceOptions(depends_on=[rp]),
    )


def floor_with_triggers(n: int, artifact: ZipArtifact) -> None:
    floor(n, artifact, triggers=True)


def timed_run(build, n: int, artifact: ZipArtifact) -> tuple[float, int]:  # noqa: ANN001
    start = time.perf_counter()
    run = run_under_mocks(lambda: build(n, artifact))
    elapsed = time.perf_counter() - start
    if run.error is not None:
        raise run.error
    return elapsed, len([r for r in run.resources if r.custom])


def best_runs(artifact: ZipArtifact) -> dict[tuple[str, int], tuple[float, int]]:
    """Best of REPEAT runs per (side, size). Rounds go through every size, floor then
    components, so that a slow spell of the machine (it has minutes-long ones) falls on all
    sizes and both sides alike instead of on one cell of the table."""
    builds = {"floor": floor, "components": components}
    triggered = {
        "floor+triggers": floor_with_triggers,
        "components+triggers": components_with_triggers,
    }
    runs: dict[tuple[str, int], list[tuple[float, int]]] = {}
    for round_ in range(max(REPEAT.values())):
        for n in SIZES:
            if round_ < REPEAT[n]:
                for side, build in builds.items():
                    runs.setdefault((side, n), []).append(timed_run(build, n, artifact))
        if round_ < REPEAT[TRIGGERS_N]:
            for side, build in triggered.items():
                runs.setdefault((side, TRIGGERS_N), []).append(
                    timed_run(build, TRIGGERS_N, artifact)
                )
    return {key: min(values) for key, values in runs.items()}


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        artifact = build_zip(
            PROJECT_ROOT / "functions/contentgen", runtime="python3.11", cache_dir=tmp
        )
        for build in (floor, components):
            timed_run(build, 5, artifact)  # warm imports for both sides
        best = best_runs(artifact)
    rows, times, floor_times = [], {}, {}
    for n in SIZES:
        (floor_s, floor_count), (comp_s, comp_count) = best["floor", n], best["components", n]
        assert comp_count == floor_count, (comp_count, floor_count)
        times[n], floor_times[n] = comp_s, floor_s
        rows.append((n, comp_count, floor_s, comp_s, comp_s / floor_s))
    table = Table(title="VaLambda vs pulumi_aws directly (best of 10 at N=10, else 5; mocks)")
    for col in ("functions", "AWS resources", "floor ms/fn", "components ms/fn", "ratio"):
        table.add_column(col, justify="right")
    for n, count, f, c, ratio in rows:
        table.add_row(
            str(n), str(count), f"{f / n * 1000:.2f}", f"{c / n * 1000:.2f}", f"{ratio:.2f}"
        )
    console = Console()
    console.print(table)
    worst = max(r[4] for r in rows)
    scaling = times[500] / times[100]
    floor_scaling = floor_times[500] / floor_times[100]
    console.print(
        f"worst ratio {worst:.2f} (target <= 1.3); t(500)/t(100) = {scaling:.2f} "
        f"(the floor's own: {floor_scaling:.2f}) "
        f"(target <= 5.5); 500 functions in {times[500]:.1f} s (target < 30 s)"
    )
    (tf, tcount), (tc, ccount) = (
        best["floor+triggers", TRIGGERS_N],
        best["components+triggers", TRIGGERS_N],
    )
    assert tcount == ccount, (tcount, ccount)
    trig_ratio = tc / tf
    console.print(
        f"with a schedule, a queue and the live alias, N={TRIGGERS_N} ({ccount} resources): "
        f"floor {tf / TRIGGERS_N * 1000:.2f} ms/fn, components {tc / TRIGGERS_N * 1000:.2f} "
        f"ms/fn, ratio {trig_ratio:.2f} (target <= 1.3)"
    )
    ok = worst <= 1.3 and scaling <= 5.5 and times[500] < 30 and trig_ratio <= 1.3
    console.print("targets met" if ok else "[red]targets NOT met[/red]")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
