"""AWS resource type tokens read by more than one rule family (pulumi-aws v7 tokens).

A family's other tables (the types it judges, the values it allows) live in the family's module.
"""

from __future__ import annotations

FUNCTION_TYPE = "aws:lambda/function:Function"
LOG_GROUP_TYPE = "aws:cloudwatch/logGroup:LogGroup"
