"""``kind: schedule``: EventBridge Scheduler runs the function, through a role of the function's
own that may invoke only it (its ``live`` alias when published) and send failed deliveries to
its DLQ."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

import pulumi
import pulumi_aws as aws
from pydantic import AfterValidator, Field, model_validator

from va_platform.components.lambda_function.iam import schedule_policy, schedule_trust_policy
from va_platform.components.lambda_function.triggers.base import (
    PlanLines,
    TriggerKind,
    account_of,
)
from va_platform.components.model import InRange, VaModel

if TYPE_CHECKING:
    from va_platform.components.lambda_function.component import VaLambda

# EventBridge Scheduler's expression forms (rate(5 minutes), cron(0 8 * * ? *), at(...)).
RATE_RE = re.compile(r"^rate\(\d+ (minute|minutes|hour|hours|day|days)\)$")
CRON_RE = re.compile(r"^cron\((\S+ ){5}\S+\)$")


class ScheduleTrigger(VaModel):
    """Runs the function on a schedule (EventBridge Scheduler)."""

    kind: Literal["schedule"] = Field(description="`schedule`.")
    expression: str = Field(
        description="`rate(<n> minutes|hours|days)` or `cron(<6 fields>)`, as EventBridge "
        "Scheduler reads it."
    )
    timezone: str = Field(default="UTC", description="IANA time zone a cron expression runs in.")
    flexible_window_minutes: Annotated[int, AfterValidator(InRange(0, 1440, "minutes"))] = Field(
        default=0,
        description="Let the scheduler start up to this many minutes late (spreads load); 0: "
        "exactly on time.",
    )
    retries: Annotated[int, AfterValidator(InRange(0, 185, "retries"))] = Field(
        default=2, description="Delivery retries before the event goes to the function's DLQ."
    )

    @model_validator(mode="after")
    def _expression(self) -> ScheduleTrigger:
        if not (RATE_RE.match(self.expression) or CRON_RE.match(self.expression)):
            raise ValueError(
                f"schedule expression {self.expression!r} is not rate(<n> minutes|hours|days) "
                "or cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>)"
            )
        return self


def _schedule_lines(i: Mapping[str, Any], shown: Any) -> dict[str, Any]:
    return {
        "expression": i.get("scheduleExpression"),
        "time zone": i.get("scheduleExpressionTimezone"),
    }


class ScheduleKind(TriggerKind[ScheduleTrigger]):
    """An EventBridge Scheduler schedule each, `va-<env>-<purpose>-schedule[-<n>]`, and a role
    `va-<env>-<purpose>-schedule-role` that may invoke only the function and dead-letter to its
    DLQ."""

    model = ScheduleTrigger
    attributes = ("schedule_role", "schedules")
    plan: ClassVar[Mapping[str, PlanLines]] = {"aws:scheduler/schedule:Schedule": _schedule_lines}

    def build(self, fn: VaLambda, triggers: Sequence[ScheduleTrigger]) -> dict[str, Any]:
        """EventBridge schedules, with a role that may invoke only this function (its alias)
        and send undeliverable events to the function's DLQ."""
        if not triggers:
            return {"schedule_role": None, "schedules": []}
        role_name = fn._physical("schedule-role")
        role = aws.iam.Role(
            f"{fn._name}-schedule-role",
            name=role_name,
            description=f"EventBridge Scheduler invoking {fn.function_name} only",
            assume_role_policy=account_of(fn).apply(schedule_trust_policy),
            permissions_boundary=fn._args.context.permissions_boundary,
            tags=fn._tags(role_name),
            opts=fn.child_opts(),
        )
        target = fn.invoke_arn
        policy = aws.iam.RolePolicy(
            f"{fn._name}-schedule-policy",
            name=fn._physical("schedule-policy"),
            role=role.id,
            policy=pulumi.Output.all(target, fn.dlq.arn).apply(
                lambda v: json.dumps(schedule_policy(v[0], v[1]))
            ),
            opts=fn.child_opts(),
        )
        schedules = []
        for i, trigger in enumerate(triggers):
            suffix = "schedule" if len(triggers) == 1 else f"schedule-{i + 1}"
            window = trigger.flexible_window_minutes
            schedules.append(
                aws.scheduler.Schedule(
                    f"{fn._name}-{suffix}",
                    name=fn._physical(suffix),
                    schedule_expression=trigger.expression,
                    schedule_expression_timezone=trigger.timezone,
                    flexible_time_window=(
                        {"mode": "FLEXIBLE", "maximum_window_in_minutes": window}
                        if window
                        else {"mode": "OFF"}
                    ),
                    target={
                        "arn": target,
                        "role_arn": role.arn,
                        "dead_letter_config": {"arn": fn.dlq.arn},
                        "retry_policy": {"maximum_retry_attempts": trigger.retries},
                    },
                    opts=fn.child_opts(depends_on=[policy]),
                )
            )
        return {"schedule_role": role, "schedules": schedules}


SCHEDULE = ScheduleKind()
