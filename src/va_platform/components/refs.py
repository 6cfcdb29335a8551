"""Existing resources a component uses, whoever made them: a VA component of the same program
(``VaTable.ref()``), another resource of it, or another stack (a ``StackReference`` output).

Each field is a ``pulumi.Input[str]``: a literal, an ``Output`` of the same program, or a
``StackReference`` output.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi


@dataclass(frozen=True)
class TableRef:
    """A DynamoDB table a function works on (``FunctionSpec.table_actions``)."""

    arn: pulumi.Input[str]
    name: pulumi.Input[str]


@dataclass(frozen=True)
class BucketRef:
    """An S3 bucket whose objects a function works on (``FunctionSpec.bucket_actions``)."""

    arn: pulumi.Input[str]
    name: pulumi.Input[str]
