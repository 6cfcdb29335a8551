"""The execution role's inline policy: only this function's own resources, by exact ARN.

Built as a pure function over resolved ARNs so tests can compare it statement by statement and
the component just feeds it Outputs. ``*`` appears as a resource only for actions AWS's Service
Authorization Reference lists no resource types for; each such statement says so in its Sid.
Every statement passes the VA standard's least-privilege check (``standard.statement_problems``),
the same one va-guard's va-iam rule applies.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from va_platform import standard
from va_platform.standard import allow_statement as allow

ASSUME_ROLE_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


@dataclass(frozen=True)
class IamStatement:
    """An extra Allow statement for a function, e.g. ``dynamodb:PutItem`` on one table."""

    # Statement id: letters and digits, unique in the role's policy.
    sid: str
    # Literal actions, or an Output (a destination's action depends on the service in its ARN).
    actions: tuple[pulumi.Input[str], ...]
    # Exact ARNs (literals or Outputs); '*' only for actions AWS lists no resource type for.
    resources: Sequence[pulumi.Input[str]]
    # An IAM condition block, e.g. {"StringLike": {"kms:ViaService": "secretsmanager.*"}}.
    condition: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z0-9]+", self.sid):
            raise ValueError(f"statement sid {self.sid!r}: letters and digits only")
        if not self.actions:
            raise ValueError(f"statement {self.sid}: list at least one action")
        if not self.resources:
            raise ValueError(f"statement {self.sid}: list the exact resource ARNs")
        # Resources that are Outputs are judged when the policy is built (execution_policy).
        statement: dict[str, Any] = {"Sid": self.sid, "Effect": "Allow",
                                     "Action": list(self.actions),
                                     "Resource": list(self.resources)}  # fmt: skip
        if self.condition is not None:
            statement["Condition"] = dict(self.condition)
        problems = standard.statement_problems(statement, "extra IAM statement")
        if problems:
            raise ValueError("; ".join(p.message for p in problems))


def eni_arn_pattern(subnet_arn: str) -> str:
    """``arn:...:ec2:<region>:<account>:network-interface/*`` from a subnet ARN."""
    prefix, sep, _ = subnet_arn.partition(":subnet/")
    if not sep:
        raise ValueError(f"{subnet_arn!r} is not a subnet ARN")
    return f"{prefix}:network-interface/*"


def execution_policy(
    *,
    log_group_arn: str,
    dlq_arn: str,
    secret_arns: Sequence[str],
    subnet_arns: Sequence[str],
    security_group_arns: Sequence[str],
    # (sid, actions, resources) or (sid, actions, resources, condition)
    extra: Sequence[tuple[Any, ...]] = (),
) -> dict[str, Any]:
    eni = eni_arn_pattern(subnet_arns[0])
    statements = [
        allow(
            "WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{log_group_arn}:*"]
        ),
        allow("SendToOwnDlq", ["sqs:SendMessage"], [dlq_arn]),
        allow(
            "CreateEniInOwnSubnets",
            ["ec2:CreateNetworkInterface"],
            [eni, *subnet_arns, *security_group_arns],
        ),
        allow(
            "ManageOwnEnis",
            [
                "ec2:DeleteNetworkInterface",
                "ec2:AssignPrivateIpAddresses",
                "ec2:UnassignPrivateIpAddresses",
            ],
            [eni],
        ),
        allow(
            "DescribeEnisNoResourceLevelPermissions",
            ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"],
            ["*"],
        ),
        allow(
            "XRayNoResourceLevelPermissions",
            ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
            ["*"],
        ),
    ]
    if secret_arns:
        statements.insert(
            1, allow("ReadOwnSecrets", ["secretsmanager:GetSecretValue"], list(secret_arns))
        )
    statements += [allow(*st) for st in extra]
    broad = [
        p.message
        for st in statements
        for p in standard.statement_problems(st, "execution role policy")
        if p.broad
    ]
    if broad:
        raise ValueError("; ".join(broad))
    return {"Version": "2012-10-17", "Statement": statements}


def schedule_trust_policy(account_id: str) -> str:
    """EventBridge Scheduler, for schedules of this account only (confused-deputy guard)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "scheduler.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                }
            ],
        }
    )


def schedule_policy(target_arn: str, dlq_arn: str) -> dict[str, Any]:
    """Invoke exactly the function (or its alias), and dead-letter to its DLQ."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            allow("InvokeTarget", ["lambda:InvokeFunction"], [target_arn]),
            allow("DeadLetterToDlq", ["sqs:SendMessage"], [dlq_arn]),
        ],
    }


def dlq_events_policy(dlq_arn: str, rule_arns: Sequence[str]) -> dict[str, Any]:
    """EventBridge may dead-letter into the function's DLQ, for these rules only."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EventsDeadLetters",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": dlq_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": sorted(rule_arns)}},
            }
        ],
    }
