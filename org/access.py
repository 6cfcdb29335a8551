"""VaCiAccess: which of this repository's workflows get which Pulumi token, by OIDC only.

Pulumi Cloud trusts GitHub's issuer and exchanges a job's id-token for a short-lived token
according to the issuer's authorization policies, matched on the token's claims (``aud`` this
organization, ``sub`` one exact subject of one repository):

| subject (``sub``)                          | token                       | may                   |
|--------------------------------------------|-----------------------------|-----------------------|
| ``repo:<owner>/<repo>:pull_request``       | team ``va-ci-preview``      | read (preview) stacks |
| ``repo:<owner>/<repo>:ref:refs/heads/main``| team ``va-ci-dev``          | update dev            |
| ``repo:<owner>/<repo>:environment:prod``   | team ``va-ci-prod``         | update prod           |
| ``repo:<owner>/<repo>:environment:policy-publish`` | organization, admin | publish the pack  |

Team tokens carry exactly their team's stack permissions, which is what keeps a pull request
from updating anything ("Stack Read ... allows for running previews"; Write runs updates).
Team tokens need Pulumi's Enterprise edition or above. Publishing a policy pack takes an
organization admin, so that token is bound to a GitHub environment whose rules admit only
``policy-v*`` tags, not to a ref anyone with push rights can create.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_pulumiservice as ps

from org.base import VaCloudComponent

GITHUB_ISSUER_URL = "https://token.actions.githubusercontent.com"
# Longer than any job's timeout (60 min), so a token never expires in the middle of an update.
MAX_TOKEN_SECONDS = 7200
PUBLISH_ENVIRONMENT = "policy-publish"

READ = ps.TeamStackPermissionScope.READ
EDIT = ps.TeamStackPermissionScope.EDIT


@dataclass(frozen=True)
class TeamGrant:
    """One GitHub subject, the Pulumi team whose token it gets, and that team's stack rights."""

    subject: str
    team: str
    permissions: Mapping[str, ps.TeamStackPermissionScope]
    description: str


def team_grants(repository: str) -> tuple[TeamGrant, ...]:
    """What each workflow of ``repository`` may do in Pulumi Cloud (the table above)."""
    return (
        TeamGrant(
            f"repo:{repository}:pull_request",
            "va-ci-preview",
            {"dev": READ, "prod": READ},
            f"Pull requests of {repository}: pulumi preview, never update",
        ),
        TeamGrant(
            f"repo:{repository}:ref:refs/heads/main",
            "va-ci-dev",
            {"dev": EDIT},
            f"{repository} on main: pulumi up of dev",
        ),
        TeamGrant(
            f"repo:{repository}:environment:prod",
            "va-ci-prod",
            {"prod": EDIT},
            f"{repository}'s prod environment (required reviewers): pulumi up of prod",
        ),
    )


def publish_subject(repository: str) -> str:
    return f"repo:{repository}:environment:{PUBLISH_ENVIRONMENT}"


def audience(organization: str) -> str:
    """The ``aud`` pulumi/auth-actions asks GitHub for: this Pulumi organization."""
    return f"urn:pulumi:org:{organization}"


@dataclass(frozen=True)
class VaCiAccessArgs:
    organization: str
    repository: str
    project: str
    # Stack name -> its name as an output of the Stack resource (the permission waits for it).
    stacks: Mapping[str, pulumi.Input[str]]
    grants: tuple[TeamGrant, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.grants:
            object.__setattr__(self, "grants", team_grants(self.repository))
        unknown = {s for g in self.grants for s in g.permissions} - set(self.stacks)
        if unknown:
            raise ValueError(f"grants name stacks org/ does not declare: {sorted(unknown)}")


class VaCiAccess(VaCloudComponent):
    """The CI teams with their stack permissions, and GitHub's issuer with one policy each."""

    def __init__(
        self, name: str, args: VaCiAccessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, opts)
        self.teams: dict[str, ps.Team] = {}
        self.permissions: list[ps.TeamStackPermission] = []
        policies: list[ps.AuthPolicyDefinitionArgs] = []
        for grant in args.grants:
            team = ps.Team(
                f"{name}-{grant.team}",
                organization_name=args.organization,
                team_type="pulumi",
                name=grant.team,
                display_name=grant.team,
                description=grant.description,
                opts=self.child_opts(),
            )
            self.teams[grant.team] = team
            for stack, level in grant.permissions.items():
                self.permissions.append(
                    ps.TeamStackPermission(
                        f"{name}-{grant.team}-{stack}",
                        organization=args.organization,
                        project=args.project,
                        stack=args.stacks[stack],
                        team=team.name.apply(lambda n: n or ""),
                        permission=level,
                        opts=self.child_opts(),
                    )
                )
            policies.append(
                ps.AuthPolicyDefinitionArgs(
                    decision=ps.AuthPolicyDecision.ALLOW,
                    token_type=ps.AuthPolicyTokenType.TEAM,
                    team_name=team.name,
                    rules={"aud": audience(args.organization), "sub": grant.subject},
                )
            )
        policies.append(
            ps.AuthPolicyDefinitionArgs(
                decision=ps.AuthPolicyDecision.ALLOW,
                token_type=ps.AuthPolicyTokenType.ORGANIZATION,
                authorized_permissions=[ps.AuthPolicyPermissionLevel.ADMIN],
                rules={
                    "aud": audience(args.organization),
                    "sub": publish_subject(args.repository),
                },
            )
        )
        self.issuer = ps.OidcIssuer(
            f"{name}-github",
            name=f"github-{args.repository.replace('/', '-')}",
            organization=args.organization,
            url=GITHUB_ISSUER_URL,
            max_expiration_seconds=MAX_TOKEN_SECONDS,
            policies=policies,
            opts=self.child_opts(depends_on=self.permissions),
        )
        self.register_outputs(
            {"issuer": self.issuer.id, "teams": sorted(self.teams), "repository": args.repository}
        )
