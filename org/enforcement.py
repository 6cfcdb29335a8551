"""VaGuardEnforcement: va-guard on every stack of the organisation, with a rollout.

"Policy packs applied org-wide", as code. Pulumi Cloud gives each organisation default policy
groups and adds every stack it creates to the default preventative one, so a pack there judges
every stack, those created after this program ran included; membership is Pulumi Cloud's, not
ours (org/ leaves the groups' stacks and accounts alone: ignore_changes).

- **preventative** (the default preventative group): va-guard at the pinned version
  ``rollout.preventative``; a mandatory violation blocks the preview or update.
- **audit** (the default audit group): the next version, ``rollout.audit``: Pulumi Cloud runs
  it on every stack's state and reports its findings, blocking nothing. Once they are reviewed
  it is added to ``audited`` and may become preventative (``config.Rollout`` refuses a
  preventative version that never ran as audit).

The groups' config carries only the exemptions the organisation granted (``org/exemptions.yaml``),
each under the policies it names, to versions that scope them (0.2.0 on); nothing lowers a
policy's level. A new version is enforced by ``pulumi up`` here after its tag published it: a
reviewed change like any other.

The default groups exist before this program: it adopts them (``import``) and never deletes
them (``retain_on_delete``; Pulumi Cloud refuses to delete a default group).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_pulumiservice as ps

from org.base import VaCloudComponent
from org.config import Rollout, pack_config

PACK_NAME = "va-guard"
PREVENTATIVE = "preventative"  # blocks operations on a mandatory violation
AUDIT = "audit"  # reports on every stack's state, blocks nothing
# What Pulumi Cloud keeps of a default group (every new stack joins it): never ours to set.
MEMBERSHIP = ["stacks", "accounts"]


@dataclass(frozen=True)
class VaGuardEnforcementArgs:
    organization: str
    rollout: Rollout
    exemptions: tuple[Mapping[str, Any], ...] = ()


class VaGuardEnforcement(VaCloudComponent):
    """The organisation's default preventative and audit groups, each with its va-guard."""

    def __init__(
        self, name: str, args: VaGuardEnforcementArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, opts)
        rollout = args.rollout
        self.preventative = self._group(
            f"{name}-{PREVENTATIVE}", args, rollout.preventative_group, PREVENTATIVE,
            rollout.preventative,
        )  # fmt: skip
        self.audit = self._group(f"{name}-{AUDIT}", args, rollout.audit_group, AUDIT, rollout.audit)
        self.register_outputs(
            {
                "preventative": {
                    "group": rollout.preventative_group,
                    "version": rollout.preventative,
                },
                "audit": {"group": rollout.audit_group, "version": rollout.audit},
            }
        )

    def _group(
        self,
        resource_name: str,
        args: VaGuardEnforcementArgs,
        group: str,
        mode: str,
        version: str | None,
    ) -> ps.PolicyGroup:
        """One of the organisation's default groups, adopted, with va-guard at ``version``
        (none when None)."""
        packs = []
        if version is not None:
            packs.append(
                ps.PolicyGroupPolicyPackReferenceInputArgs(
                    name=PACK_NAME,
                    version_tag=version,
                    config=pack_config(args.exemptions, version),
                )
            )
        return ps.PolicyGroup(
            resource_name,
            name=group,
            organization_name=args.organization,
            entity_type="stacks",
            mode=mode,
            policy_packs=packs,
            opts=self.child_opts(
                import_=f"{args.organization}/{group}",
                ignore_changes=MEMBERSHIP,
                protect=True,
                retain_on_delete=True,
            ),
        )
