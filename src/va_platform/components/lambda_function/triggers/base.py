"""What a trigger kind is: one way to start a function besides a direct invoke, as one unit.

A kind owns everything about itself, in its own module of this package:

- its config model (``kind: <name>`` in ``triggers:``), and the checks across one function's
  triggers of that kind (``check``), with the spec, before any resource exists;
- the arguments it needs from the caller (``check_args``: one line naming both when missing);
- its sources (``sources``: resources the function's role must name, made before the role, such
  as the function's own work queue) and the role statements naming them (``statements``), whose
  Sids it lists in ``sids`` (reserved: a function's own ``statements`` may not take them);
- what the workload boundary must allow for it beyond the environment's own names
  (``declared``: an existing queue of another stack, say);
- the resources it makes beside the function (``build``), returned under the names VaLambda
  keeps them as attributes (``attributes`` lists them, ``sources``' included);
- the statements it adds to the function's resource policy (``invoke_permissions``);
- the lines a reviewer reads of its resources in a plan (``plan``, by resource type).

The registry (``triggers/__init__.py``) lists the kinds; FunctionSpec (its ``triggers`` union
and checks), VaLambdaArgs, VaLambda, the reserved Sids, the workload boundary, the plan review
and the configuration reference iterate it.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import pulumi

from va_platform.components.model import VaModel

if TYPE_CHECKING:
    from va_platform.components.lambda_function.component import VaLambda, VaLambdaArgs
    from va_platform.components.lambda_function.iam import IamStatement

# What a reviewer reads of one resource: ``(inputs, shown) -> {setting: value}``; ``shown``
# renders a value that may be unknown in a preview (preflight.review.comparable).
PlanLines = Callable[[Mapping[str, Any], Callable[[Any], Any]], dict[str, Any]]

T = TypeVar("T", bound=VaModel)


class TriggerKind(Generic[T]):
    """One kind of trigger (see the module's docstring); every step defaults to nothing."""

    model: type[T]
    # Sids of the statements ``statements`` may add to the function's execution role.
    sids: ClassVar[frozenset[str]] = frozenset()
    # The VaLambda attributes ``sources`` and ``build`` return, always (empty without triggers).
    attributes: ClassVar[tuple[str, ...]] = ()
    # Resource type -> its plan lines, for the types only this kind makes.
    plan: ClassVar[Mapping[str, PlanLines]] = {}
    # What one statement of the function's resource policy is per ``invoke_permissions``.
    permission_unit: ClassVar[str] = ""

    def __repr__(self) -> str:
        """Stable (no address): the library reference prints the registry."""
        return f"{type(self).__name__}()"

    @property
    def name(self) -> str:
        """The ``kind:`` that selects it: its model's ``kind`` literal."""
        (value,) = typing.get_args(self.model.model_fields["kind"].annotation)
        return str(value)

    def of(self, triggers: Sequence[object]) -> list[T]:
        """This kind's triggers among a function's, in their order."""
        return [t for t in triggers if isinstance(t, self.model)]

    def check(self, triggers: Sequence[T], owner: str) -> None:
        """Refuse a combination of this kind's triggers that cannot work on one function."""

    def invoke_permissions(self, triggers: Sequence[T]) -> int:
        """Statements these triggers add to the function's resource policy."""
        return 0

    def check_args(self, triggers: Sequence[T], args: VaLambdaArgs) -> None:
        """Refuse triggers that need an argument of VaLambdaArgs the caller did not give."""

    def declared(self, triggers: Sequence[T]) -> list[dict[str, Any]]:
        """Allow statements the workload boundary needs for these triggers beyond the
        environment's own names (the caller prefixes each Sid with the function's purpose)."""
        return []

    def sources(self, fn: VaLambda, triggers: Sequence[T]) -> dict[str, Any]:
        """Resources made before the function's role, whose ARNs its statements name."""
        return {}

    def statements(self, fn: VaLambda, triggers: Sequence[T]) -> list[IamStatement]:
        """Statements for the function's execution role (Sids among ``sids``)."""
        return []

    def build(self, fn: VaLambda, triggers: Sequence[T]) -> dict[str, Any]:
        """The resources beside the function (made once it, its alias and its async settings
        exist), by the attribute names VaLambda keeps them under."""
        return {}


def account_of(fn: VaLambda) -> pulumi.Output[str]:
    """The function's account (an Output), read from its DLQ's ARN: what ``sourceAccount`` of a
    permission names."""
    return fn.dlq.arn.apply(lambda arn: arn.split(":")[4])


def qualifier(fn: VaLambda) -> pulumi.Output[str] | None:
    """What a permission or a URL is on: the ``live`` alias when published, else None."""
    return fn.alias.name if fn.alias else None
