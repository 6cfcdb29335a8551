"""What every VA component shares: its type token form and how its children are optioned."""

from typing import Any

import pulumi

from va_platform.components.context import VaContext


class VaComponent(pulumi.ComponentResource):
    """A ComponentResource whose type token is ``va:<module>:<Name>`` and whose children are
    always parented to it.

    Children take ``parent=self`` and nothing of the caller's ``opts``: providers, protect and
    the like flow down through the parent, and a caller's ``depends_on`` or ``aliases`` meant for
    the component must not leak onto every child.
    """

    MODULE = ""

    def __init__(
        self,
        name: str,
        context: VaContext,
        props: dict[str, Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        if not self.MODULE:
            raise TypeError(f"{type(self).__name__} must set MODULE for its type token")
        super().__init__(f"va:{self.MODULE}:{type(self).__name__}", name, props, opts)
        self.context = context

    def child_opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kwargs)
