"""What org/'s components share: the ``va:<module>:<Name>`` token and children's options."""

from __future__ import annotations

from typing import Any

import pulumi


class VaCloudComponent(pulumi.ComponentResource):
    """A ComponentResource typed ``va:cloud:<Name>`` whose children are parented to it.

    Children take ``parent=self`` and nothing of the caller's ``opts`` (the main program's
    components do the same, components/base.py; org/ imports nothing of the program).
    """

    MODULE = "cloud"

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"va:{self.MODULE}:{type(self).__name__}", name, None, opts)

    def child_opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kwargs)
