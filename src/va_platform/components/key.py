"""VaKey: the stack's customer-managed KMS key for its functions' env vars and log groups.

With AWS-managed keys anyone in the account with ``lambda:GetFunctionConfiguration`` or
``logs:GetLogEvents`` reads env vars and logs, and nobody can revoke that without touching IAM
everywhere; with a key of the stack's own, access is one key policy, use is in CloudTrail, and
the key rotates yearly. The key policy lets the account's IAM decide who uses it (as the
default policy does) and CloudWatch Logs use it for this environment's function log groups
and the stack's other log groups (``va-<env>-*``) only. Lambda encrypts env vars with a grant
it creates when the deploy role sets the key.
"""

import json
import re
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from va_platform import standard
from va_platform.components.base import VaComponent
from va_platform.components.context import VaContext, purpose_checked, purpose_of

# What CloudWatch Logs does with a log group's key (AWS's documented key policy statement).
LOGS_KEY_ACTIONS = [
    "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*",
]  # fmt: skip


def account_administers_key(account_id: str) -> dict[str, object]:
    """The default key policy statement: the account's IAM decides who uses and administers
    the key (without it, nobody could change the key policy again)."""
    return {
        "Sid": "AccountAdministersKey",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }


def key_policy(account_id: str, region: str, log_group_prefixes: list[str]) -> str:
    """The account administers the key; CloudWatch Logs may use it for log groups whose name
    starts with one of ``log_group_prefixes`` in this account and region, and nothing else."""
    log_groups = [
        f"arn:aws:logs:{region}:{account_id}:log-group:{prefix}*" for prefix in log_group_prefixes
    ]
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                account_administers_key(account_id),
                {
                    "Sid": "CloudWatchLogsEncryptsOwnLogGroups",
                    "Effect": "Allow",
                    "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                    "Action": LOGS_KEY_ACTIONS,
                    "Resource": "*",
                    "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
                },
            ],
        }
    )


def _literal_region(region: object, owner: str) -> None:
    """The region names endpoints and policies as text: an Output cannot be (VA stacks live
    in one region, the stack's ``aws:region``)."""
    if not isinstance(region, str):
        raise ValueError(
            f"{owner}.region takes the region as a literal (e.g. 'eu-central-1', the stack's "
            f"aws:region), not {type(region).__name__}"
        )


ACCOUNT_ID_RE = re.compile(r"^\d{12}$")


@dataclass(frozen=True)
class VaKeyArgs:
    """Where the key is, for its key policy."""

    # Environment and owner (names and tags; CloudWatch Logs may use it for va-<env>-* only).
    context: VaContext
    # The stack's region: the key policy admits its CloudWatch Logs.
    region: str
    # The stack's account: its IAM decides who uses the key.
    account_id: pulumi.Input[str]
    # Names the key alias/va-<env>-<purpose>-key; None: the owner's (VaContext.own_purpose,
    # payments-team -> paymentsteam), never the platform stack's (alias/va-<env>-lambda-key).
    purpose: str | None = None

    def __post_init__(self) -> None:
        if self.purpose is None:
            object.__setattr__(self, "purpose", self.context.own_purpose("VaKeyArgs"))
        purpose_checked("VaKeyArgs", self.context, self.purpose, "key")
        _literal_region(self.region, "VaKeyArgs")
        if self.region not in standard.ALLOWED_REGIONS:
            raise ValueError(
                f"VaKeyArgs.region is not a region the VA standard allows (Control Tower SCP); "
                f"allowed: {', '.join(standard.ALLOWED_REGIONS)}"
            )
        if isinstance(self.account_id, str) and not ACCOUNT_ID_RE.match(self.account_id):
            raise ValueError("VaKeyArgs.account_id is not an AWS account id (12 digits)")


class VaKey(VaComponent):
    """KMS key ``alias/va-<env>-<purpose>-key``: rotation on, 30-day deletion window."""

    MODULE = "kms"

    def __init__(
        self, name: str, args: VaKeyArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args.context, opts=opts)
        ctx, purpose = args.context, purpose_of(args)
        key_name = ctx.name(purpose, "key")
        # Every VA function's log group (/aws/lambda/va-<env>-<purpose>-lambda) and the stack's
        # other log groups, named va-<env>-<purpose>-<type> (an HTTP API's access logs).
        names = f"{standard.NAME_PREFIX}-{ctx.environment}-"
        prefixes = [standard.log_group_name(names), names]
        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"Encrypts the {ctx.environment} VA functions' env vars and log groups",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=pulumi.Output.from_input(args.account_id).apply(
                lambda account: key_policy(account, args.region, prefixes)
            ),
            tags=ctx.tags(purpose, key_name),
            opts=self.child_opts(),
        )
        self.alias = aws.kms.Alias(
            f"{name}-alias",
            name=f"alias/{key_name}",
            target_key_id=self.key.key_id,
            opts=self.child_opts(),
        )
        self.arn: pulumi.Output[str] = self.key.arn
        self.register_outputs({"arn": self.arn})
