"""VaPlatformStacks: the platform's stacks, so access and policy can be declared before they run.

Creating them here orders the one-time setup: ``pulumi up`` in org/ first (stacks, tokens,
policy), then the stacks' own first ``pulumi up``. They are protected: removing one from org/
must not delete a stack and its history.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_pulumiservice as ps

from org.base import VaCloudComponent

PLATFORM_PROJECT = "va-platform"
PLATFORM_STACKS = ("dev", "prod")


@dataclass(frozen=True)
class VaPlatformStacksArgs:
    organization: str
    project: str = PLATFORM_PROJECT
    stacks: tuple[str, ...] = PLATFORM_STACKS


class VaPlatformStacks(VaCloudComponent):
    """One ``pulumiservice`` Stack per platform stack; ``names`` carry the dependency on them."""

    def __init__(
        self, name: str, args: VaPlatformStacksArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, opts)
        self.project = args.project
        self.stacks: dict[str, ps.Stack] = {
            stack: ps.Stack(
                f"{name}-{stack}",
                organization_name=args.organization,
                project_name=args.project,
                stack_name=stack,
                opts=self.child_opts(protect=True),
            )
            for stack in args.stacks
        }
        # Stack names as outputs of the Stack resources: whatever takes them waits for the stack.
        self.names: dict[str, pulumi.Output[str]] = {
            stack: resource.stack_name for stack, resource in self.stacks.items()
        }
        self.register_outputs({"stacks": [f"{args.project}/{s}" for s in args.stacks]})
