"""``kind: events``: an EventBridge rule runs the function for events matching a pattern; the
function admits exactly that rule (``sourceArn`` and ``sourceAccount``), and its DLQ admits
EventBridge only for the function's rules."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

import pulumi
import pulumi_aws as aws
from pydantic import AfterValidator, Field, model_validator

from va_platform.components.lambda_function.iam import dlq_events_policy
from va_platform.components.lambda_function.triggers.base import (
    PlanLines,
    TriggerKind,
    account_of,
    qualifier,
)
from va_platform.components.model import InRange, VaModel

if TYPE_CHECKING:
    from va_platform.components.lambda_function.component import VaLambda

BUS_NAME_RE = re.compile(r"^[A-Za-z0-9._-]{1,256}$")


class EventsTrigger(VaModel):
    """Runs the function for events matching a pattern on an EventBridge bus."""

    kind: Literal["events"] = Field(description="`events`.")
    pattern: dict[str, Any] = Field(
        description="The EventBridge event pattern (e.g. `{source: [aws.s3]}`); must not be empty."
    )
    bus: str = Field(default="default", description="Name of the event bus the rule watches.")
    retries: Annotated[int, AfterValidator(InRange(0, 185, "retries"))] = Field(
        default=2, description="Delivery retries before the event goes to the function's DLQ."
    )

    @model_validator(mode="after")
    def _pattern(self) -> EventsTrigger:
        if not self.pattern:
            raise ValueError("events pattern is empty: it would match every event on the bus")
        if not BUS_NAME_RE.match(self.bus):
            raise ValueError(f"bus {self.bus!r} is not an event bus name (letters, digits, ._-)")
        return self


def _rule_lines(i: Mapping[str, Any], shown: Any) -> dict[str, Any]:
    return {"pattern": i.get("eventPattern")}


class EventsKind(TriggerKind[EventsTrigger]):
    """An EventBridge rule each, `va-<env>-<purpose>-rule[-<n>]`, targeting the function, with a
    permission for exactly that rule; the function's DLQ admits EventBridge for its rules."""

    model = EventsTrigger
    attributes = ("event_rules",)
    plan: ClassVar[Mapping[str, PlanLines]] = {"aws:cloudwatch/eventRule:EventRule": _rule_lines}
    permission_unit = "events rules"

    def invoke_permissions(self, triggers: Sequence[EventsTrigger]) -> int:
        return len(triggers)

    def build(self, fn: VaLambda, triggers: Sequence[EventsTrigger]) -> dict[str, Any]:
        """One rule per events trigger; the function admits exactly those rules (sourceArn and
        sourceAccount), and the DLQ admits EventBridge only for them."""
        account = account_of(fn)
        rules = []
        for i, trigger in enumerate(triggers):
            suffix = "rule" if len(triggers) == 1 else f"rule-{i + 1}"
            rule_name = fn._physical(suffix)
            rule = aws.cloudwatch.EventRule(
                f"{fn._name}-{suffix}",
                name=rule_name,
                event_bus_name=trigger.bus,
                event_pattern=json.dumps(trigger.pattern, sort_keys=True),
                tags=fn._tags(rule_name),
                opts=fn.child_opts(),
            )
            aws.cloudwatch.EventTarget(
                f"{fn._name}-{suffix}-target",
                rule=rule.name,
                event_bus_name=trigger.bus,
                arn=fn.invoke_arn,
                dead_letter_config={"arn": fn.dlq.arn},
                retry_policy={
                    "maximum_retry_attempts": trigger.retries,
                    "maximum_event_age_in_seconds": fn._args.spec.max_event_age,
                },
                opts=fn.child_opts(),
            )
            aws.lambda_.Permission(
                f"{fn._name}-{suffix}-permission",
                function=fn.function.name,
                qualifier=qualifier(fn),
                action="lambda:InvokeFunction",
                principal="events.amazonaws.com",
                source_arn=rule.arn,
                source_account=account,
                opts=fn.child_opts(),
            )
            rules.append(rule)
        if rules:
            aws.sqs.QueuePolicy(
                f"{fn._name}-dlq-policy",
                queue_url=fn.dlq.url,
                policy=pulumi.Output.all(fn.dlq.arn, *[r.arn for r in rules]).apply(
                    lambda v: json.dumps(dlq_events_policy(v[0], v[1:]))
                ),
                opts=fn.child_opts(),
            )
        return {"event_rules": rules}


EVENTS = EventsKind()
