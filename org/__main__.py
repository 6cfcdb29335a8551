"""org/: the Pulumi Cloud side of the VA platform (``pulumi up`` here, as an organization admin).

Config is checked first; a bad value ends the run with one line and nothing declared.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The CLI runs this file from org/; its modules are the `org` package, imported from the
# repository root as the tests import them.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pulumi

from org.access import VaCiAccess, VaCiAccessArgs
from org.config import ROLLOUT_KEY, OrgConfig, OrgConfigError, Rollout, load_exemptions
from org.enforcement import VaGuardEnforcement, VaGuardEnforcementArgs
from org.stacks import VaPlatformStacks, VaPlatformStacksArgs
from org.trust import VaTrustPerimeter, VaTrustPerimeterArgs


def read_config() -> tuple[OrgConfig, Rollout, tuple[dict, ...]]:
    """The stack config, the va-guard rollout and the exemptions register, checked."""
    config = pulumi.Config()
    try:
        rollout_value = config.get_object(ROLLOUT_KEY.split(":", 1)[1])
        return (
            OrgConfig(
                organization=pulumi.get_organization() or "",
                repository=config.get("githubRepository") or "",
            ),
            Rollout.of(rollout_value),
            load_exemptions(),
        )
    except OrgConfigError as exc:
        raise pulumi.RunError(str(exc)) from None


config, rollout, exemptions = read_config()
stacks = VaPlatformStacks("platform", VaPlatformStacksArgs(config.organization))
access = VaCiAccess(
    "ci",
    VaCiAccessArgs(config.organization, config.repository, stacks.project, stacks.names),
)
enforcement = VaGuardEnforcement(
    "va-guard", VaGuardEnforcementArgs(config.organization, rollout, exemptions)
)

# The organisation-level trust perimeter (an RCP, ADR 0005): with the management account's
# credentials, when its organisation id and targets are configured.
organization_id = pulumi.Config().get("awsOrganizationId")
trust_targets = pulumi.Config().get_object("awsTrustTargets") or []
if organization_id and trust_targets:
    trust = VaTrustPerimeter(
        "trust-perimeter",
        VaTrustPerimeterArgs(organization_id, config.repository, [str(t) for t in trust_targets]),
    )
    pulumi.export("trustPerimeterPolicy", trust.policy.id)

pulumi.export("oidcIssuer", access.issuer.id)
pulumi.export("ciTeams", sorted(access.teams))
pulumi.export("policyGroup", enforcement.preventative.name)
pulumi.export("vaGuardVersion", rollout.preventative)
pulumi.export("vaGuardAuditVersion", rollout.audit)
