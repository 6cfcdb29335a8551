"""VaAlarmTopic: the SNS topic every VA alarm notifies, encrypted and subscribed by e-mail.

CloudWatch cannot publish to a topic encrypted with the AWS-managed ``alias/aws/sns`` key (that
key's policy does not admit the CloudWatch service), so the topic gets its own KMS key whose
policy lets CloudWatch use it; without this, alarms would fire into the void.
"""

import json
import re
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from va_platform.components.base import VaComponent
from va_platform.components.context import VaContext, purpose_checked, purpose_of
from va_platform.components.key import account_administers_key

# What VaAlarmTopicArgs.alarm_email must look like.
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


def topic_key_policy(account_id: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                account_administers_key(account_id),
                {
                    "Sid": "CloudWatchPublishesAlarms",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                },
            ],
        }
    )


@dataclass(frozen=True)
class VaAlarmTopicArgs:
    """Who hears the alarms."""

    # Environment and owner (names and tags).
    context: VaContext
    # Subscribed by e-mail (the address confirms once); None: no subscription yet.
    alarm_email: str | None = None
    # Names the topic va-<env>-<purpose>-topic and its key; None: the owner's and "alarms"
    # (VaContext.own_purpose: paymentsteamalarms, so not a VaKey's of the same owner), never
    # the platform stack's (va-<env>-alarms-topic).
    purpose: str | None = None

    def __post_init__(self) -> None:
        if self.purpose is None:
            own = self.context.own_purpose("VaAlarmTopicArgs", "alarms")
            object.__setattr__(self, "purpose", own)
        purpose_checked("VaAlarmTopicArgs", self.context, self.purpose, "topic")
        if self.alarm_email is not None and not EMAIL_RE.match(self.alarm_email):
            raise ValueError(f"alarm_email {self.alarm_email!r} is not an e-mail address")


class VaAlarmTopic(VaComponent):
    """The SNS topic ``va-<env>-<purpose>-topic`` that every VA alarm notifies, encrypted with a
    key of its own that CloudWatch may use; ``arn`` is what VaLambdaArgs.alarm_topic_arn takes."""

    MODULE = "alarms"

    def __init__(
        self, name: str, args: VaAlarmTopicArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args.context, opts=opts)
        ctx, purpose = args.context, purpose_of(args)
        key_name = ctx.name(purpose, "key")
        account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        self.key = aws.kms.Key(
            f"{name}-key",
            description="Encrypts the VA alarm topic; CloudWatch may use it to publish",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=account_id.account_id.apply(topic_key_policy),
            tags=ctx.tags(purpose, key_name),
            opts=self.child_opts(),
        )
        aws.kms.Alias(
            f"{name}-key-alias",
            name=f"alias/{key_name}",
            target_key_id=self.key.key_id,
            opts=self.child_opts(),
        )
        topic_name = ctx.name(purpose, "topic")
        self.topic = aws.sns.Topic(
            f"{name}-topic",
            name=topic_name,
            kms_master_key_id=self.key.arn,
            tags=ctx.tags(purpose, topic_name),
            opts=self.child_opts(),
        )
        if args.alarm_email:
            aws.sns.TopicSubscription(
                f"{name}-email",
                topic=self.topic.arn,
                protocol="email",
                endpoint=args.alarm_email,
                opts=self.child_opts(),
            )
        self.arn: pulumi.Output[str] = self.topic.arn
        self.register_outputs({"arn": self.arn})
