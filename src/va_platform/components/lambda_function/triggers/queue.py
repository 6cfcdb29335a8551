"""``kind: queue``: batches from an SQS queue (an event source mapping). The queue is the
function's own work queue (encrypted, redriven to a DLQ of its own) or an existing queue's ARN;
the function's role gets exactly the receive/delete actions on it."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal

import pulumi
import pulumi_aws as aws
from pydantic import AfterValidator, Field, model_validator

from va_platform.components.lambda_function.iam import IamStatement
from va_platform.components.lambda_function.triggers.base import TriggerKind
from va_platform.components.model import ArnInput, InRange, VaModel, is_known
from va_platform.standard import allow_statement as allow

if TYPE_CHECKING:
    from va_platform.components.lambda_function.component import VaLambda

QUEUE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$")
# AWS: a standard queue's batch size above 10 needs a batching window of at least 1 s.
MAX_BATCH_WITHOUT_WINDOW = 10
# What the function's role may do on its trigger queues (and the boundary on existing ones).
READ_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
READ_SID = "ReadTriggerQueues"
# The work queue's DLQ keeps messages as long as SQS allows (as the function's own DLQ does).
DLQ_RETENTION_S = 14 * 24 * 3600


class QueueTrigger(VaModel):
    """Feeds the function batches from an SQS queue (an event source mapping)."""

    kind: Literal["queue"] = Field(description="`queue`.")
    queue_arn: ArnInput | None = Field(
        default=None,
        description="An existing queue's ARN; unset: the function gets its own encrypted work "
        "queue va-<env>-<purpose>-queue, redriven to va-<env>-<purpose>-queue-dlq.",
    )
    batch_size: Annotated[int, AfterValidator(InRange(1, 10000, "messages"))] = Field(
        default=10, description="Messages per invocation at most."
    )
    batching_window_s: Annotated[int, AfterValidator(InRange(0, 300, "seconds"))] = Field(
        default=0, description="Seconds to gather a batch; needed (>= 1) above 10 messages."
    )
    max_concurrency: Annotated[int, AfterValidator(InRange(2, 1000, "invocations"))] | None = Field(
        default=None, description="Invocations this queue may run at once; unset: no cap."
    )
    max_receives: Annotated[int, AfterValidator(InRange(1, 1000, "receives"))] = Field(
        default=3, description="Receives of a message before its own queue moves it to the DLQ."
    )

    @model_validator(mode="after")
    def _batching(self) -> QueueTrigger:
        if self.batch_size > MAX_BATCH_WITHOUT_WINDOW and self.batching_window_s < 1:
            raise ValueError(
                f"batchSize {self.batch_size} needs batchingWindowS of at least 1 (AWS allows "
                f"more than {MAX_BATCH_WITHOUT_WINDOW} messages only with a batching window)"
            )
        if is_known(self.queue_arn) and not QUEUE_ARN_RE.match(self.queue_arn):
            raise ValueError(
                f"queueArn {self.queue_arn!r} is not an SQS queue ARN "
                "(arn:aws:sqs:<region>:<account>:<name>)"
            )
        return self

    @property
    def owns_queue(self) -> bool:
        return self.queue_arn is None


class QueueKind(TriggerKind[QueueTrigger]):
    """An event source mapping each (failed items reported one by one); without queueArn, the
    function's own encrypted work queue `va-<env>-<purpose>-queue`, redriven to
    `va-<env>-<purpose>-queue-dlq`."""

    model = QueueTrigger
    sids = frozenset({READ_SID})
    attributes = ("work_queue", "work_queue_dlq", "queue_mappings")

    def check(self, triggers: Sequence[QueueTrigger], owner: str) -> None:
        if sum(t.owns_queue for t in triggers) > 1:
            raise ValueError("triggers: a function has one work queue; list one queue trigger "
                             "without queueArn")  # fmt: skip
        arns = [t.queue_arn for t in triggers if is_known(t.queue_arn)]
        repeated = sorted({a for a in arns if arns.count(a) > 1})
        if repeated:
            raise ValueError(f"triggers: queue {', '.join(repeated)} is listed more than once")

    def declared(self, triggers: Sequence[QueueTrigger]) -> list[dict[str, Any]]:
        """Existing queues are named by the stack config: the boundary allows reading them."""
        queues = [t.queue_arn for t in triggers if t.queue_arn is not None]
        return [allow("TriggerQueues", READ_ACTIONS, queues)] if queues else []

    def sources(self, fn: VaLambda, triggers: Sequence[QueueTrigger]) -> dict[str, Any]:
        """The function's own queue when a queue trigger names none: encrypted, and redriven
        to a DLQ of its own after ``maxReceives`` receives."""
        own = [t for t in triggers if t.owns_queue]
        if not own:
            return {"work_queue": None, "work_queue_dlq": None}
        dlq_name = fn._physical("queue-dlq")
        dlq = aws.sqs.Queue(
            f"{fn._name}-queue-dlq",
            name=dlq_name,
            sqs_managed_sse_enabled=True,
            message_retention_seconds=DLQ_RETENTION_S,
            tags=fn._tags(dlq_name),
            opts=fn.child_opts(),
        )
        queue_name = fn._physical("queue")
        queue = aws.sqs.Queue(
            f"{fn._name}-queue",
            name=queue_name,
            sqs_managed_sse_enabled=True,
            # AWS's advice for Lambda consumers: six times the function's timeout.
            visibility_timeout_seconds=max(30, 6 * fn._args.spec.timeout),
            redrive_policy=dlq.arn.apply(
                lambda arn: json.dumps(
                    {"deadLetterTargetArn": arn, "maxReceiveCount": own[0].max_receives}
                )
            ),
            tags=fn._tags(queue_name),
            opts=fn.child_opts(),
        )
        return {"work_queue": queue, "work_queue_dlq": dlq}

    def _arns(self, fn: VaLambda, triggers: Sequence[QueueTrigger]) -> list[pulumi.Input[str]]:
        """Each trigger's queue: the one it names, or the function's own."""
        arns: list[pulumi.Input[str]] = []
        for trigger in triggers:
            if trigger.queue_arn is not None:
                arns.append(trigger.queue_arn)
            else:
                assert fn.work_queue is not None  # made by ``sources`` for such a trigger
                arns.append(fn.work_queue.arn)
        return arns

    def statements(self, fn: VaLambda, triggers: Sequence[QueueTrigger]) -> list[IamStatement]:
        queues = self._arns(fn, triggers)
        return [IamStatement(READ_SID, READ_ACTIONS, queues)] if queues else []

    def build(self, fn: VaLambda, triggers: Sequence[QueueTrigger]) -> dict[str, Any]:
        """Batches from each trigger queue; failed items are reported one by one, so a batch
        is not retried whole for one bad message."""
        mappings = []
        for i, (trigger, arn) in enumerate(zip(triggers, self._arns(fn, triggers), strict=True)):
            mappings.append(
                aws.lambda_.EventSourceMapping(
                    f"{fn._name}-queue-mapping" + (f"-{i + 1}" if i else ""),
                    event_source_arn=arn,
                    function_name=fn.invoke_arn,
                    batch_size=trigger.batch_size,
                    maximum_batching_window_in_seconds=trigger.batching_window_s or None,
                    scaling_config=(
                        {"maximum_concurrency": trigger.max_concurrency}
                        if trigger.max_concurrency
                        else None
                    ),
                    function_response_types=["ReportBatchItemFailures"],
                    tags=fn._tags(fn.function_name),
                    # Lambda checks the role's queue permissions when the mapping is created.
                    opts=fn.child_opts(depends_on=[fn.role_policy]),
                )
            )
        return {"queue_mappings": mappings}


QUEUE = QueueKind()
