"""Existing resources a component uses, whoever made them: a VA component of the same program
(``VaTable.ref()``), another resource of it, or another stack (a ``StackReference`` output).

Each field is a ``pulumi.Input[str]``: a literal, an ``Output`` of the same program, or a
``StackReference`` output.
"""

from dataclasses import dataclass

import pulumi


@dataclass(frozen=True)
class TableRef:
    """A DynamoDB table a function works on (``FunctionSpec.table_actions``)."""

    # The table's ARN: the actions are granted on exactly it.
    arn: pulumi.Input[str]
    # The table's name: the function's DYNAMODB_TABLE.
    name: pulumi.Input[str]


@dataclass(frozen=True)
class BucketRef:
    """An S3 bucket whose objects a function works on (``FunctionSpec.bucket_actions``)."""

    # The bucket's ARN: the actions are granted on its objects (``<arn>/*``).
    arn: pulumi.Input[str]
    # The bucket's name: the function's S3_BUCKET.
    name: pulumi.Input[str]
