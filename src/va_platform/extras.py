"""The library's optional parts and what each needs: the core (components, standard, packaging)
installs with pulumi, pulumi-aws, pydantic, PyYAML and rich only.

- ``va-platform[image]``: VaAgentImage builds and pushes a container image (pulumi-docker);
- ``va-platform[preflight]``: the preflight judges a stack with the va-guard pack, which runs on
  pulumi-policy in the preflight's own interpreter.

A feature used without its extra stops with one line naming the extra to install.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import pulumi

# module -> (extra, distribution)
EXTRAS: dict[str, tuple[str, str]] = {
    "pulumi_docker": ("image", "pulumi-docker"),
    "pulumi_policy": ("preflight", "pulumi-policy"),
}


class MissingExtraError(pulumi.RunError, ImportError):
    """A feature was used without the extra it needs (one line; Pulumi prints no traceback)."""


def installed(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            return False
        raise
    return True


def missing(module: str, feature: str) -> str:
    """The one line: what needs what, and the pip command that installs it."""
    extra, distribution = EXTRAS[module]
    return (
        f"{feature} needs {distribution}, which is not installed: "
        f"pip install 'va-platform[{extra}]'"
    )


def require(module: str, feature: str) -> ModuleType:
    """``module``, imported for ``feature``, or MissingExtraError naming its extra."""
    if not installed(module):
        raise MissingExtraError(missing(module, feature))
    return importlib.import_module(module)
