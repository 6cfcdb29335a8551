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
- ``sts:AssumeRoleWithSAML`` not at all (the platform federates no SAML provider).

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

GITHUB_OIDC = "token.actions.githubusercontent.com"
ROLE_CHAINING = ("sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession")


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
