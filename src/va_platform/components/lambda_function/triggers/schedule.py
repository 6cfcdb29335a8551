"""``kind: schedule``: EventBridge Scheduler runs the function, through a role of the function's
own that may invoke only it (its ``live`` alias when published) and send failed deliveries to
its DLQ."""

from __future__ import annotations

import json
import re
import zoneinfo
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
RATE_RE = re.compile(r"^rate\((?P<n>\d+) (?P<unit>minute|minutes|hour|hours|day|days)\)$")
CRON_RE = re.compile(r"^cron\((\S+ ){5}\S+\)$")
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
# Each cron field: its name, its range, the names it takes (1-based) and the special characters
# EventBridge allows in it beyond , - * /.
CRON_FIELDS: tuple[tuple[str, int, int, tuple[str, ...], str], ...] = (
    ("minutes", 0, 59, (), ""),
    ("hours", 0, 23, (), ""),
    ("day-of-month", 1, 31, (), "?LW"),
    ("month", 1, 12, MONTHS, ""),
    ("day-of-week", 1, 7, DAYS, "?L#"),
    ("year", 1970, 2199, (), ""),
)
_CRON_ITEM_RE = re.compile(r"^(?P<range>\*|[A-Z0-9]+(?:-[A-Z0-9]+)?)(?:/(?P<step>\d+))?$")


def _cron_field_problem(value: str, name: str, lo: int, hi: int, names: tuple[str, ...],
                        special: str) -> str | None:  # fmt: skip
    if value == "?":
        return None if "?" in special else f"{name} takes no '?'"
    for item in value.split(","):
        if any(c in item for c in "LW#") and any(c in special for c in "LW#"):
            continue  # L, W, 3#2: EventBridge reads them; not checked further here
        found = _CRON_ITEM_RE.match(item)
        if not found:
            return f"{name} {item!r} is not a value, range, list or step of them"
        if found["range"] == "*":
            continue
        for bound in found["range"].split("-"):
            number = (names.index(bound) + 1) if bound in names else None
            if number is None and not bound.isdigit():
                return f"{name} {bound!r} is not a number" + (
                    f" or one of {', '.join(names)}" if names else ""
                )
            if not lo <= (number if number is not None else int(bound)) <= hi:
                return f"{name} {bound} is outside {lo}-{hi}"
    return None


def expression_problem(expression: str) -> str | None:
    """Why EventBridge Scheduler would refuse ``expression``, or None."""
    rate = RATE_RE.match(expression)
    if rate:
        n, unit = int(rate["n"]), rate["unit"]
        if n < 1:
            return "a rate is at least 1"
        if (n == 1) != (not unit.endswith("s")):
            return f"a rate of {n} takes the unit in the {'singular' if n == 1 else 'plural'}"
        return None
    if not CRON_RE.match(expression):
        return (
            "is not rate(<n> minutes|hours|days) or cron(<minutes> <hours> <day-of-month> "
            "<month> <day-of-week> <year>)"
        )
    fields = expression.removeprefix("cron(").removesuffix(")").split(" ")
    for value, (name, lo, hi, names, special) in zip(fields, CRON_FIELDS, strict=True):
        problem = _cron_field_problem(value.upper(), name, lo, hi, names, special)
        if problem:
            return problem
    if (fields[2] == "?") == (fields[4] == "?"):
        return (
            "one of day-of-month and day-of-week must be '?' and the other not (e.g. "
            "cron(0 2 * * ? *): every day at 02:00)"
        )
    return None


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
        problem = expression_problem(self.expression)
        if problem:
            raise ValueError(f"expression {self.expression!r}: {problem}")
        zones = zoneinfo.available_timezones()  # empty without a time zone database: unchecked
        if zones and self.timezone not in zones:
            raise ValueError(
                "timezone is not an IANA time zone (e.g. 'Europe/Berlin', 'UTC'), as EventBridge "
                "Scheduler takes it"
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
