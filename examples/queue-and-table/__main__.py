"""Its own network, alarm topic, table and queue; the function is fed by the queue and writes to
the table. The queue's ARN and the table are Outputs of this program, passed as they are."""

import pulumi
import pulumi_aws as aws

from va_platform import standard
from va_platform.components import (
    FunctionSpec,
    QueueTrigger,
    VaAlarmTopic,
    VaAlarmTopicArgs,
    VaContext,
    VaLambda,
    VaLambdaArgs,
    VaNetwork,
    VaNetworkArgs,
    VaTable,
    VaTableArgs,
    ZipCode,
)
from va_platform.packaging import build_zip

config = pulumi.Config()
env = pulumi.get_stack()
# Every role the library creates carries the environment's workload boundary, which an
# administrator creates once per account (the platform's docs/operations.md); va-guard refuses a
# role Lambda or the Scheduler assumes without it.
boundary = aws.get_caller_identity_output().account_id.apply(
    lambda account: standard.boundary_arn(env, account)
)
ctx = VaContext(environment=env, owner=config.require("owner"), permissions_boundary=boundary)
network = VaNetwork(
    "network",
    VaNetworkArgs(
        context=ctx,
        region="eu-central-1",
        vpc_cidr="10.40.0.0/16",
        availability_zones=("eu-central-1a", "eu-central-1b"),
        purpose="orders",
    ),
)
alarms = VaAlarmTopic("alarms", VaAlarmTopicArgs(context=ctx, purpose="orders"))
table = VaTable("orders-table", VaTableArgs(context=ctx, purpose="orders"))
dlq_name = ctx.name("intake", "dlq")
dlq = aws.sqs.Queue(
    "intake-dlq",
    name=dlq_name,
    sqs_managed_sse_enabled=True,
    message_retention_seconds=14 * 24 * 3600,
    tags=ctx.tags("intake", dlq_name),
)
queue_name = ctx.name("intake", "queue")
queue = aws.sqs.Queue(
    "intake-queue",
    name=queue_name,
    sqs_managed_sse_enabled=True,
    redrive_policy=pulumi.Output.json_dumps({"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 3}),
    tags=ctx.tags("intake", queue_name),
)

spec = FunctionSpec(
    purpose="orders",
    code=ZipCode(path="handler"),
    table_actions=["dynamodb:PutItem"],
    triggers=[QueueTrigger(kind="queue", queue_arn=queue.arn, batch_size=5)],
)
function = VaLambda(
    "orders",
    VaLambdaArgs(
        context=ctx,
        spec=spec,
        networking=network.lambda_networking(),
        alarm_topic_arn=alarms.arn,
        package=build_zip("handler", runtime=spec.runtime),
        table=table.ref(),
    ),
)
pulumi.export("functionName", function.function.name)
pulumi.export("queueUrl", queue.url)
