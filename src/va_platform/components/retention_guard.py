"""VaRetentionGuard: a log group's retention, shortened by anyone, is put back within the hour.

`pulumi up` sets each log group's retention with ``logs:PutRetentionPolicy`` right after
creating it, so the deploy role must hold that action; AWS's Service Authorization Reference
lists no condition key for its value (``aws:ResourceTag`` only), so no policy can stop a
deploy session from setting one day. What stops it from sticking is this administrator-owned
corrective control:

- an AWS Config managed rule (``CW_LOGGROUP_RETENTION_PERIOD_CHECK``) that finds every log
  group of the account whose retention is shorter than the stack's shortest declared one, every
  hour;
- an automatic remediation that runs an Automation document of ours, as a role of ours, setting
  that retention back on the environment's log groups (never shorter; "never expire" passes).

CloudWatch Logs deletes events only some time after they pass their retention, and keeps them
when the retention grows back before then; the hour between checks is the window left. The
deploy role may change none of it (explicit Deny, deploy_policy.py), so a change here is applied
by an administrator's `pulumi up`, like the workload boundary; the account needs an AWS Config
recorder that records ``AWS::Logs::LogGroup`` (docs/operations.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from va_platform import standard
from va_platform.components.base import VaComponent
from va_platform.components.context import VaContext
from va_platform.standard import allow_statement as allow

PURPOSE = "logretention"
MANAGED_RULE = "CW_LOGGROUP_RETENTION_PERIOD_CHECK"
# The retention periods the managed rule's MinRetentionTime accepts (a subset of CloudWatch's).
RULE_PERIODS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653)
CHECK_EVERY = "One_Hour"  # the rule's shortest period
# The remediation's own retries, should an execution fail (throttling, say).
ATTEMPTS, RETRY_SECONDS = 5, 60


def rule_period(retention_days: Iterable[int]) -> int:
    """The longest period the rule accepts that is no longer than the shortest declared one."""
    shortest = min(retention_days)
    return max(p for p in RULE_PERIODS if p <= shortest)


def log_group_arns(env: str, region: str, account: str) -> list[str]:
    """The environment's log groups: its functions' and its HTTP APIs' access logs."""
    prefix = f"{standard.NAME_PREFIX}-{env}-"
    logs = f"arn:aws:logs:{region}:{account}:log-group:"
    return [f"{logs}{standard.LOG_GROUP_PREFIX}{prefix}*", f"{logs}{prefix}*"]


def remediation_document(env: str) -> dict[str, Any]:
    """The Automation document: one PutRetentionPolicy on one of the environment's log groups."""
    prefix = f"{standard.NAME_PREFIX}-{env}-"
    return {
        "schemaVersion": "0.3",
        "description": f"Puts back the retention of a {env} log group kept too short",
        "assumeRole": "{{ AutomationAssumeRole }}",
        "parameters": {
            "AutomationAssumeRole": {"type": "String"},
            "LogGroupName": {
                "type": "String",
                "allowedPattern": f"^({standard.LOG_GROUP_PREFIX})?{prefix}[a-z0-9-]+$",
            },
            "RetentionInDays": {"type": "Integer"},
        },
        "mainSteps": [
            {
                "name": "PutRetentionBack",
                "action": "aws:executeAwsApi",
                "inputs": {
                    "Service": "logs",
                    "Api": "PutRetentionPolicy",
                    "logGroupName": "{{ LogGroupName }}",
                    "retentionInDays": "{{ RetentionInDays }}",
                },
            }
        ],
    }


def remediation_trust(account: str) -> dict[str, Any]:
    """Assumed by Systems Manager Automation for this account only."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ssm.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
            }
        ],
    }


def remediation_policy(env: str, region: str, account: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            allow(
                "PutRetentionBack",
                ("logs:PutRetentionPolicy",),
                log_group_arns(env, region, account),
            )
        ],
    }


@dataclass(frozen=True)
class VaRetentionGuardArgs:
    """The environment, where it runs, and the shortest retention its log groups declare."""

    # Environment and owner (names and tags).
    context: VaContext
    # The stack's region: the remediation role's statement names its log groups.
    region: str
    # The stack's account: the trust and the statement name it.
    account_id: str
    # Days: the shortest retention any log group of the stack declares.
    retention_days: int


class VaRetentionGuard(VaComponent):
    """The rule ``va-<env>-logretention-rule``, its automatic remediation, the Automation
    document ``va-<env>-logretention-document`` and the role ``va-<env>-logretention-role``
    it runs as (an administrator applies them)."""

    MODULE = "logs"

    def __init__(
        self, name: str, args: VaRetentionGuardArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args.context, opts=opts)
        ctx, env = args.context, args.context.environment
        self.retention_days = rule_period([args.retention_days])
        role_name = ctx.name(PURPOSE, "role")
        self.role = aws.iam.Role(
            f"{name}-role",
            name=role_name,
            description=f"Puts back the retention of {env} log groups (AWS Config remediation)",
            assume_role_policy=json.dumps(remediation_trust(args.account_id)),
            max_session_duration=3600,
            tags=ctx.tags(PURPOSE, role_name),
            opts=self.child_opts(),
        )
        self.role_policy = aws.iam.RolePolicy(
            f"{name}-role-policy",
            name=ctx.name(PURPOSE, "policy"),
            role=self.role.name,
            policy=json.dumps(remediation_policy(env, args.region, args.account_id)),
            opts=self.child_opts(),
        )
        document_name = ctx.name(PURPOSE, "document")
        self.document = aws.ssm.Document(
            f"{name}-document",
            name=document_name,
            document_type="Automation",
            document_format="JSON",
            content=json.dumps(remediation_document(env)),
            tags=ctx.tags(PURPOSE, document_name),
            opts=self.child_opts(),
        )
        rule_name = ctx.name(PURPOSE, "rule")
        self.rule = aws.cfg.Rule(
            f"{name}-rule",
            name=rule_name,
            description=f"Log groups keep logs at least {self.retention_days} days",
            source=aws.cfg.RuleSourceArgs(owner="AWS", source_identifier=MANAGED_RULE),
            input_parameters=json.dumps({"MinRetentionTime": str(self.retention_days)}),
            maximum_execution_frequency=CHECK_EVERY,
            scope=aws.cfg.RuleScopeArgs(compliance_resource_types=["AWS::Logs::LogGroup"]),
            tags=ctx.tags(PURPOSE, rule_name),
            opts=self.child_opts(),
        )
        self.remediation = aws.cfg.RemediationConfiguration(
            f"{name}-remediation",
            config_rule_name=self.rule.name,
            resource_type="AWS::Logs::LogGroup",
            target_type="SSM_DOCUMENT",
            target_id=self.document.name,
            parameters=[
                aws.cfg.RemediationConfigurationParameterArgs(
                    name="AutomationAssumeRole", static_value=self.role.arn
                ),
                aws.cfg.RemediationConfigurationParameterArgs(
                    name="LogGroupName", resource_value="RESOURCE_ID"
                ),
                aws.cfg.RemediationConfigurationParameterArgs(
                    name="RetentionInDays", static_value=str(self.retention_days)
                ),
            ],
            automatic=True,
            maximum_automatic_attempts=ATTEMPTS,
            retry_attempt_seconds=RETRY_SECONDS,
            opts=self.child_opts(),
        )
        self.register_outputs({"rule": self.rule.name, "retentionDays": self.retention_days})
