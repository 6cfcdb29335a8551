"""The alarms every VA Lambda gets (VA monitoring rule): errors, throttles, duration, DLQ depth."""

from __future__ import annotations

from dataclasses import dataclass

PERIOD_S = 300


@dataclass(frozen=True)
class AlarmDef:
    type_: str  # name suffix: va-<env>-<purpose>-<type_>
    namespace: str
    metric: str
    statistic: str
    threshold: float
    dimension: str  # FunctionName, QueueName, or service (embedded metrics by Powertools)
    description: str
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
