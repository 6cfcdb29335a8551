"""VaTable: a DynamoDB table ``va-<env>-<purpose>-dynamodb``, encrypted, with PITR."""

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from va_platform.components.base import VaComponent
from va_platform.components.context import VaContext, purpose_checked
from va_platform.components.refs import TableRef

# DynamoDB's longest key attribute name.
KEY_NAME_MAX = 255


@dataclass(frozen=True)
class VaTableArgs:
    """The table's purpose and keys."""

    # Environment and owner (names and tags).
    context: VaContext
    # Names the table va-<env>-<purpose>-dynamodb.
    purpose: str
    # The partition key (a string attribute).
    hash_key: str = "pk"
    # The sort key (a string attribute); None: partition key only.
    range_key: str | None = "sk"

    def __post_init__(self) -> None:
        purpose_checked("VaTableArgs", self.context, self.purpose, "dynamodb")
        if not self.hash_key or len(self.hash_key) > KEY_NAME_MAX:
            raise ValueError(f"VaTableArgs.hash_key: a key name is 1-{KEY_NAME_MAX} characters")
        if self.range_key is not None and not self.range_key:
            raise ValueError("VaTableArgs.range_key: a key name, or None for no sort key")
        if self.range_key is not None and len(self.range_key) > KEY_NAME_MAX:
            raise ValueError(f"VaTableArgs.range_key: a key name is 1-{KEY_NAME_MAX} characters")
        if self.range_key == self.hash_key:
            raise ValueError(
                "VaTableArgs.range_key is the partition key (hash_key) again: DynamoDB takes "
                "two different attributes, or range_key=None for no sort key"
            )


class VaTable(VaComponent):
    """Table ``va-<env>-<purpose>-dynamodb``: on demand, KMS-encrypted, point-in-time recovery,
    deletion protection in prod."""

    MODULE = "data"

    def __init__(
        self, name: str, args: VaTableArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args.context, opts=opts)
        ctx = args.context
        self.table_name = ctx.name(args.purpose, "dynamodb")
        keys = [args.hash_key] + ([args.range_key] if args.range_key else [])
        self.table = aws.dynamodb.Table(
            f"{name}-table",
            name=self.table_name,
            billing_mode="PAY_PER_REQUEST",
            hash_key=args.hash_key,
            range_key=args.range_key,
            attributes=[{"name": k, "type": "S"} for k in keys],
            server_side_encryption={"enabled": True},  # KMS (AWS-managed key), not the default
            point_in_time_recovery={"enabled": True},
            deletion_protection_enabled=ctx.environment == "prod",
            tags=ctx.tags(args.purpose, self.table_name),
            opts=self.child_opts(),
        )
        self.arn: pulumi.Output[str] = self.table.arn
        self.register_outputs({"arn": self.arn, "name": self.table_name})

    def ref(self) -> TableRef:
        """This table as a function's data (``VaLambdaArgs.table``)."""
        return TableRef(arn=self.arn, name=self.table_name)
