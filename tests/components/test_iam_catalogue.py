"""Every IAM document the program makes, for dev and prod, against AWS's own catalogue.

The deploy role, the preview role, the execution and agent roles, key and resource policies: each
action must exist in AWS's Service Authorization Reference (a misspelt Deny denies nothing), and
each Allow statement of an identity policy must name resources the way AWS authorizes its actions
(ARNs of the types it lists, '*' only where it lists none). Otherwise the first `pulumi up` by the
deploy role, or the function at run time, is denied.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from policies.va_guard import catalogue, standard
from va_platform.preflight.runner import run_program

# Resource type -> properties holding a policy document, and whether it is an identity policy
# (a resource policy's or trust policy's Resource is the resource itself, '*' in a key policy).
IDENTITY_POLICIES = {
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/policy:Policy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
}
RESOURCE_POLICIES = {
    "aws:iam/role:Role": "assumeRolePolicy",
    "aws:kms/key:Key": "policy",
    "aws:s3/bucketPolicy:BucketPolicy": "policy",
    "aws:sqs/queuePolicy:QueuePolicy": "policy",
    "aws:sns/topicPolicy:TopicPolicy": "policy",
    "aws:sqs/queue:Queue": "policy",
    "aws:sns/topic:Topic": "policy",
    "aws:ecr/repositoryPolicy:RepositoryPolicy": "policy",
    "aws:secretsmanager/secretPolicy:SecretPolicy": "policy",
}


@dataclass(frozen=True)
class Document:
    where: str  # "<logical name>.<property>"
    identity: bool
    statements: list[dict[str, Any]]


def documents_of(stack: str) -> list[Document]:
    run = run_program(stack)
    assert run.error is None, run.error
    found = []
    for r in run.resources:
        prop = IDENTITY_POLICIES.get(r.type) or RESOURCE_POLICIES.get(r.type)
        sources = [(f"{r.name}.{prop}", r.type in IDENTITY_POLICIES, r.inputs.get(prop))]
        for item in r.inputs.get("inlinePolicies") or []:
            where = f"{r.name}.inlinePolicies[{item.get('name')}]"
            sources.append((where, True, item.get("policy")))
        for where, identity, text in sources:
            if text:
                statements = (json.loads(text) if isinstance(text, str) else text)["Statement"]
                listed = [statements] if isinstance(statements, dict) else statements
                found.append(Document(where, identity, listed))
    return found


@pytest.fixture(scope="module", params=["dev", "prod"])
def documents(request) -> list[Document]:
    return documents_of(request.param)


def actions_of(statement: dict[str, Any]) -> list[str]:
    actions = statement.get("Action", [])
    return [actions] if isinstance(actions, str) else list(actions)


def test_the_program_makes_the_documents_this_test_reads(documents):
    """Guards the test against passing on nothing: the roles, the deploy role, the key."""
    names = {d.where for d in documents}
    assert {"github-deploy-iam-policy.policy", "github-preview-deny.policy"} <= names
    assert {"github-deploy-data-policy.policy", "github-deploy-compute-policy.policy"} <= names
    assert {"alarms-key.policy", "github-deploy-role.assumeRolePolicy"} <= names
    assert sum(d.identity for d in documents) >= 5


def test_every_action_of_our_documents_exists_in_aws_catalogue(documents):
    unknown = [
        f"{d.where}: {action}"
        for d in documents
        for st in d.statements
        for action in actions_of(st)
        if not catalogue.matching(action)
        if catalogue.is_wildcard(action) or catalogue.action(action) is None
    ]
    assert unknown == []


def test_every_allow_of_our_identity_policies_names_resources_as_aws_authorizes(documents):
    problems = [
        p.message
        for d in documents
        if d.identity
        for st in d.statements
        for p in standard.statement_problems(st, d.where)
    ]
    assert problems == []
