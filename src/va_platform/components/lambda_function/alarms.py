"""The alarms every VA Lambda gets (VA monitoring rule): errors, throttles, duration, DLQ depth."""

from __future__ import annotations

from dataclasses import dataclass

PERIOD_S = 300


@dataclass(frozen=True)
class AlarmDef:
    """One CloudWatch alarm on a function (VaLambdaArgs.extra_alarms): at or above
    ``threshold`` in one period, notifying the alarm topic (and again when it is OK)."""

    type_: str  # name suffix: va-<env>-<purpose>-<type_>
    # The metric's namespace, e.g. AWS/Lambda, or a custom one (VA/FAALF).
    namespace: str
    # The metric's name, e.g. Errors.
    metric: str
    # Sum, Maximum, Average, ...
    statistic: str
    # The alarm fires at or above this value.
    threshold: float
    # The dimension's name; its value is the function's name, or its DLQ's for QueueName.
    dimension: str  # FunctionName, QueueName, or service (embedded metrics by Powertools)
    # What the alarm means, for whoever it wakes.
    description: str
    # Seconds per evaluation period.
    period: int = PERIOD_S


def function_alarms(timeout_s: int, duration_fraction: float) -> list[AlarmDef]:
    """Duration alarms at a fraction of the timeout: a warning before invocations time out."""
    duration_ms = round(timeout_s * 1000 * duration_fraction)
    return [
        AlarmDef("errors-alarm", "AWS/Lambda", "Errors", "Sum", 1, "FunctionName",
                 "The function returned errors"),
        AlarmDef("throttles-alarm", "AWS/Lambda", "Throttles", "Sum", 1, "FunctionName",
                 "Invocations were throttled (concurrency limit reached)"),
        AlarmDef("duration-alarm", "AWS/Lambda", "Duration", "Maximum", duration_ms,
                 "FunctionName",
                 f"An invocation ran {duration_fraction:.0%} of its {timeout_s} s timeout"),
        AlarmDef("dlq-alarm", "AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", 1,
                 "QueueName", "Failed async events are waiting in the dead-letter queue"),
    ]  # fmt: skip
