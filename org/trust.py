"""VaTrustPerimeter: who may assume a role in the platform's accounts, decided by the organisation.

No IAM condition key can inspect a trust policy, so the deploy role (which must write the trust
policies of the workload roles it deploys) could otherwise name an outside account in one. A
resource control policy (RCP) of AWS Organizations, attached to the platform's accounts (or
their OU) by an administrator of the management account, confines every role there, whatever
its trust policy says (ADR 0005):

- ``sts:AssumeRole`` (and session tagging, source identity) only by principals of this
  organisation, or by AWS services;
- ``sts:AssumeRoleWithWebIdentity`` only with a GitHub OIDC token of this repository
  (``repo:<owner>/<repo>:*``): another repository's workflows are refused even by a role that
  trusts GitHub's provider;
- ``sts:AssumeRoleWithWebIdentity`` only into the CI roles (``va-<stack>-ghdeploy-role``,
  ``va-<stack>-ghpreview-role``, administrator-owned, their trust set by the subjects of
  deploy_policy.py): a workload role a deploy session made to trust this repository's tokens
  (any branch, any pull request) is refused, so no pull request gets a workload's data reads;
- ``sts:AssumeRoleWithSAML`` not at all (the platform federates no SAML provider);
- the data of the platform's accounts (S3, SQS, KMS, Secrets Manager: the services AWS
  documents RCPs for, besides STS) only to principals of this organisation or AWS services: a
  bucket, queue or key policy a deploy session writes for an outside account grants nothing
  (the data perimeter of AWS's RCP examples, "EnforceOrgIdentities"); and an AWS service
  reaches them only on behalf of this organisation's resources ("EnforceConfusedDeputy-
  Protection"): a queue policy admitting sns.amazonaws.com with no source lets no other
  account's topic feed the platform's queues.

Declared by org/ only when ``awsOrganizationId`` and ``awsTrustTargets`` are set (it needs the
management account's AWS credentials besides the Pulumi organisation admin's token).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from org.base import VaCloudComponent
from org.stacks import PLATFORM_STACKS

GITHUB_OIDC = "token.actions.githubusercontent.com"
ROLE_CHAINING = ("sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession")
# The roles GitHub's tokens may assume (components/github/oidc.py names them va-<env>-<purpose>-
# role); exact names, so a role a session names va-dev-x-ghdeploy-role is not one of them.
CI_ROLE_PURPOSES = ("ghdeploy", "ghpreview")
# The services whose resources RCPs govern (AWS Organizations' user guide, besides STS).
DATA_SERVICES = ("s3:*", "sqs:*", "kms:*", "secretsmanager:*")


def ci_roles(stacks: Sequence[str] = PLATFORM_STACKS) -> list[str]:
    return [f"arn:aws:iam::*:role/va-{s}-{p}-role" for s in stacks for p in CI_ROLE_PURPOSES]


def trust_perimeter_policy(organization_id: str, repository: str) -> dict[str, Any]:
    """The RCP document (RCPs hold Deny statements with ``Principal: *`` only)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AssumeRolesOnlyFromThisOrganization",
                "Effect": "Deny",
                "Principal": "*",
                "Action": list(ROLE_CHAINING),
                "Resource": "*",
                "Condition": {
                    "StringNotEqualsIfExists": {"aws:PrincipalOrgID": organization_id},
                    "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
                },
            },
            {
                "Sid": "WebIdentityOnlyFromThisRepository",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Resource": "*",
                "Condition": {"StringNotLike": {f"{GITHUB_OIDC}:sub": f"repo:{repository}:*"}},
            },
            {
                "Sid": "WebIdentityOnlyIntoTheCiRoles",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sts:AssumeRoleWithWebIdentity",
                "NotResource": ci_roles(),
            },
            {
                "Sid": "DataOnlyInsideThisOrganization",
                "Effect": "Deny",
                "Principal": "*",
                "Action": list(DATA_SERVICES),
                "Resource": "*",
                "Condition": {
                    "StringNotEqualsIfExists": {"aws:PrincipalOrgID": organization_id},
                    "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
                },
            },
            {
                "Sid": "ServicesOnlyOnBehalfOfThisOrganization",
                "Effect": "Deny",
                "Principal": "*",
                "Action": list(DATA_SERVICES),
                "Resource": "*",
                "Condition": {
                    "StringNotEqualsIfExists": {"aws:SourceOrgID": organization_id},
                    "Null": {"aws:SourceAccount": "false"},
                    "Bool": {"aws:PrincipalIsAWSService": "true"},
                },
            },
            {
                "Sid": "NoSamlFederation",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sts:AssumeRoleWithSAML",
                "Resource": "*",
            },
        ],
    }


@dataclass(frozen=True)
class VaTrustPerimeterArgs:
    organization_id: str  # o-xxxxxxxxxx
    repository: str  # owner/repo on GitHub
    targets: Sequence[str]  # the platform's account ids or OU ids (ou-...)


class VaTrustPerimeter(VaCloudComponent):
    """The RCP and its attachments to the platform's accounts."""

    MODULE = "cloud"

    def __init__(
        self, name: str, args: VaTrustPerimeterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, opts)
        self.policy = aws.organizations.Policy(
            f"{name}-rcp",
            name="va-platform-trust-perimeter",
            description=f"Roles of the VA platform: assumed only in the organisation and by "
            f"{args.repository}'s workflows",
            type="RESOURCE_CONTROL_POLICY",
            content=json.dumps(trust_perimeter_policy(args.organization_id, args.repository)),
            opts=self.child_opts(),
        )
        for target in args.targets:
            aws.organizations.PolicyAttachment(
                f"{name}-{target}",
                policy_id=self.policy.id,
                target_id=target,
                opts=self.child_opts(),
            )
        self.register_outputs({"policyId": self.policy.id})
