"""What can start a VA Lambda besides a direct invoke (``triggers:``): a schedule, a queue, an
EventBridge rule, objects created in a bucket of the stack, or an HTTPS endpoint.

Each trigger is data first (validated with the function's spec, before any resource exists) and
then a few resources the VaLambda creates beside the function, each with exactly the permission
it needs. Each kind is one unit, in a module of its own (base.py says what a kind owns), and
``TRIGGER_KINDS`` lists them: the ``triggers`` union of FunctionSpec, its checks, VaLambdaArgs'
and VaLambda's trigger steps, the reserved Sids, the workload boundary, the plan review and the
configuration reference all iterate it.

Adding a kind: its module here (model and ``TriggerKind``), its entry in ``TRIGGER_KINDS``, and
its model among ``va_platform.components``' exports; tests/components/test_trigger_registry.py
checks the registry holds together.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from functools import reduce
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias

from pydantic import Field

from va_platform.components.lambda_function.triggers.base import PlanLines, TriggerKind
from va_platform.components.lambda_function.triggers.bucket import (
    BUCKET,
    OBJECT_CREATED,
    BucketTrigger,
    overlapping_bucket_triggers,
)
from va_platform.components.lambda_function.triggers.events import EVENTS, EventsTrigger
from va_platform.components.lambda_function.triggers.http import (
    API_TIMEOUT_MAX_S,
    DEFAULT_ROUTE,
    HTTP,
    HttpApi,
    HttpTrigger,
    JwtAuthorizer,
    parse_route,
    route_source,
)
from va_platform.components.lambda_function.triggers.queue import QUEUE, QueueTrigger
from va_platform.components.lambda_function.triggers.schedule import SCHEDULE, ScheduleTrigger
from va_platform.components.model import VaModel

# The kinds, in the order VaLambda builds them and the reference documents them.
TRIGGER_KINDS: tuple[TriggerKind[Any], ...] = (SCHEDULE, QUEUE, EVENTS, BUCKET, HTTP)

if TYPE_CHECKING:
    AnyTrigger: TypeAlias = VaModel
    Trigger: TypeAlias = VaModel
else:
    # One of the kinds' models; ``kind`` tells which (a discriminated union).
    AnyTrigger = reduce(operator.or_, (kind.model for kind in TRIGGER_KINDS))
    Trigger = Annotated[AnyTrigger, Field(discriminator="kind")]

# The execution-role Sids the kinds' statements use.
TRIGGER_SIDS: frozenset[str] = frozenset().union(*(kind.sids for kind in TRIGGER_KINDS))
# Resource type -> what a reviewer reads of it, for the types the kinds make.
TRIGGER_PLAN_LINES: Mapping[str, PlanLines] = {
    type_: lines for kind in TRIGGER_KINDS for type_, lines in kind.plan.items()
}

# Lambda keeps a function's resource policy under 20 KB; each permission (an HTTP API route, an
# events rule, a bucket) is a statement of about 420 characters: some 45 fit, 40 leave room for
# long paths and names.
MAX_INVOKE_PERMISSIONS = 40


def by_kind(triggers: Sequence[object]) -> list[tuple[TriggerKind[Any], list[Any]]]:
    """Each kind with its triggers among ``triggers`` (maybe none), in registry order."""
    return [(kind, kind.of(triggers)) for kind in TRIGGER_KINDS]


def check_triggers(triggers: Sequence[AnyTrigger], owner: str = "this function") -> None:
    """Refuse combinations that cannot work, before any resource is registered."""
    grouped = by_kind(triggers)
    for kind, own in grouped:
        kind.check(own, owner)
    counts = [(kind.invoke_permissions(own), kind.permission_unit) for kind, own in grouped]
    permissions = sum(n for n, _ in counts)
    if permissions > MAX_INVOKE_PERMISSIONS:
        raise ValueError(
            f"triggers: {permissions} statements of the function's resource policy ("
            + ", ".join(f"{n} {unit}" for n, unit in counts if n)
            + "), which Lambda keeps under 20 KB (at most "
            f"{MAX_INVOKE_PERMISSIONS} here); serve paths with a greedy route (e.g. "
            "'ANY /items/{proxy+}') or split the function"
        )


__all__ = [
    "API_TIMEOUT_MAX_S",
    "DEFAULT_ROUTE",
    "MAX_INVOKE_PERMISSIONS",
    "OBJECT_CREATED",
    "TRIGGER_KINDS",
    "TRIGGER_PLAN_LINES",
    "TRIGGER_SIDS",
    "AnyTrigger",
    "BucketTrigger",
    "EventsTrigger",
    "HttpApi",
    "HttpTrigger",
    "JwtAuthorizer",
    "PlanLines",
    "QueueTrigger",
    "ScheduleTrigger",
    "Trigger",
    "TriggerKind",
    "by_kind",
    "check_triggers",
    "overlapping_bucket_triggers",
    "parse_route",
    "route_source",
]
