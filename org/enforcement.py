"""VaGuardEnforcement: the policy group that runs va-guard on the platform's stacks.

"Policy packs applied org-wide", as code: a preventative group (a mandatory violation blocks
the preview or update) with the pack at the version this repository publishes, on every stack
of the platform. The pack's own levels apply (mandatory unless a policy says advisory); the
group passes no config that could lower them. A new pack version is enforced by ``pulumi up``
in org/ after its tag has published it: a deliberate step, reviewed like any other change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_pulumiservice as ps

from org.base import VaCloudComponent

PACK_NAME = "va-guard"
PREVENTATIVE = "preventative"  # blocks operations; "audit" would only report


@dataclass(frozen=True)
class VaGuardEnforcementArgs:
    organization: str
    pack_version: str
    project: str
    stacks: Mapping[str, pulumi.Input[str]]


class VaGuardEnforcement(VaCloudComponent):
    def __init__(
        self, name: str, args: VaGuardEnforcementArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, opts)
        self.group = ps.PolicyGroup(
            f"{name}-group",
            name=f"{PACK_NAME}-{args.project}",
            organization_name=args.organization,
            entity_type="stacks",
            mode=PREVENTATIVE,
            policy_packs=[
                ps.PolicyGroupPolicyPackReferenceInputArgs(
                    name=PACK_NAME, version_tag=args.pack_version
                )
            ],
            stacks=[
                ps.PolicyGroupStackReferenceArgs(name=stack, routing_project=args.project)
                for stack in args.stacks.values()
            ],
            opts=self.child_opts(),
        )
        self.register_outputs({"policyGroup": self.group.name, "packVersion": args.pack_version})
