"""VaGithubOidcRole: how GitHub Actions reaches one environment's account, with no stored keys.

The OIDC provider for ``token.actions.githubusercontent.com`` (one per account) and two roles,
both assumable only by ``sts:AssumeRoleWithWebIdentity`` with audience ``sts.amazonaws.com`` and
an exact subject: the preview role (``repo:<org>/<repo>:pull_request``, read-only, no data or
secret reads) and the deploy role (``refs/heads/main``, or the ``prod`` GitHub environment with
its reviewers for prod), whose policies are deploy_policy.deploy_policies: this stack's names
only, one customer-managed policy per service group.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from va_platform.components.base import VaComponent
from va_platform.components.context import VaContext
from va_platform.components.github import deploy_policy

REPOSITORY_RE = re.compile(deploy_policy.REPOSITORY_PATTERN)


@dataclass(frozen=True)
class VaGithubOidcRoleArgs:
    """The repository whose workflows deploy one environment, and where."""

    # Environment and owner (names and tags).
    context: VaContext
    # <owner>/<repo> as on GitHub: the only repository whose workflows may assume the roles.
    repository: str
    # The stack's region: the deploy policies name its ARNs.
    region: str
    # The stack's account: the deploy policies name its ARNs.
    account_id: pulumi.Input[str]
    provider_arn: pulumi.Input[str] | None = None  # reuse the account's provider if it exists

    def __post_init__(self) -> None:
        if not REPOSITORY_RE.match(self.repository):
            raise ValueError(
                f"githubRepository {self.repository!r}: expected <owner>/<repo> as on GitHub"
            )


class VaGithubOidcRole(VaComponent):
    """The OIDC provider (unless given) and the preview and deploy roles of one environment."""

    MODULE = "github"

    def __init__(
        self, name: str, args: VaGithubOidcRoleArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args.context, opts=opts)
        ctx, env = args.context, args.context.environment
        provider_arn: pulumi.Input[str]
        if args.provider_arn is None:
            provider_name = ctx.name("github", "oidc")
            self.provider: aws.iam.OpenIdConnectProvider | None = aws.iam.OpenIdConnectProvider(
                f"{name}-provider",
                url=f"https://{deploy_policy.OIDC_HOST}",
                client_id_lists=["sts.amazonaws.com"],
                tags=ctx.tags("github", provider_name),
                opts=self.child_opts(),
            )
            provider_arn = self.provider.arn
        else:
            self.provider = None
            provider_arn = args.provider_arn

        def trust(subjects: list[str]) -> pulumi.Output[str]:
            return pulumi.Output.from_input(provider_arn).apply(
                lambda arn: json.dumps(deploy_policy.trust_policy(arn, subjects))
            )

        preview_name = ctx.name("ghpreview", "role")
        self.preview_role = aws.iam.Role(
            f"{name}-preview-role",
            name=preview_name,
            description=f"GitHub pull requests of {args.repository}: pulumi preview ({env})",
            assume_role_policy=trust(deploy_policy.preview_subjects(args.repository)),
            max_session_duration=3600,
            tags=ctx.tags("ghpreview", preview_name),
            opts=self.child_opts(),
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-preview-read-only",
            role=self.preview_role.name,
            policy_arn=deploy_policy.READ_ONLY_POLICY_ARN,
            opts=self.child_opts(),
        )
        aws.iam.RolePolicy(
            f"{name}-preview-deny",
            name=ctx.name("ghpreview", "policy"),
            role=self.preview_role.id,
            policy=json.dumps(deploy_policy.preview_deny_policy()),
            opts=self.child_opts(),
        )
        deploy_name = ctx.name("ghdeploy", "role")
        self.deploy_role = aws.iam.Role(
            f"{name}-deploy-role",
            name=deploy_name,
            description=f"GitHub deployments of {args.repository}: pulumi up ({env})",
            assume_role_policy=trust(deploy_policy.deploy_subjects(args.repository, env)),
            max_session_duration=3600,
            tags=ctx.tags("ghdeploy", deploy_name),
            opts=self.child_opts(),
        )
        documents = pulumi.Output.from_input(args.account_id).apply(
            lambda account: deploy_policy.deploy_policies(env, args.region, account, ctx.owner)
        )
        self.deploy_policies: dict[str, aws.iam.Policy] = {}
        for group in deploy_policy.DEPLOY_GROUPS:
            self.deploy_policies[group] = self._deploy_policy(name, group, documents)
        self.preview_role_arn: pulumi.Output[str] = self.preview_role.arn
        self.deploy_role_arn: pulumi.Output[str] = self.deploy_role.arn
        self.register_outputs(
            {"previewRoleArn": self.preview_role_arn, "deployRoleArn": self.deploy_role_arn}
        )

    def _deploy_policy(
        self, name: str, group: str, documents: pulumi.Output[dict[str, dict[str, Any]]]
    ) -> aws.iam.Policy:
        """One service group's customer-managed policy, attached to the deploy role."""
        ctx = self.context
        policy_name = ctx.name("ghdeploy", f"{group}-policy")
        policy = aws.iam.Policy(
            f"{name}-deploy-{group}-policy",
            name=policy_name,
            description=f"GitHub deployments ({ctx.environment}): {group} resources of the stack",
            policy=documents.apply(lambda d: json.dumps(d[group])),
            tags=ctx.tags("ghdeploy", policy_name),
            opts=self.child_opts(),
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-deploy-{group}",
            role=self.deploy_role.name,
            policy_arn=policy.arn,
            opts=self.child_opts(),
        )
        return policy
