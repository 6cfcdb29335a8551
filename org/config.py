"""What org/ is told (its stack config) and what it reads from the repository, checked first.

A wrong repository would hand this organization's tokens to someone else's workflows, so the
value is checked before any resource is declared, and a bad one ends the run with one line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
POLICY_PACK_FILE = REPOSITORY_ROOT / "policies" / "PulumiPolicy.yaml"
# GitHub's rules: an owner of 1-39 letters, digits or hyphens; a repository name of letters,
# digits, '.', '_' and '-'.
REPOSITORY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$")
ORGANIZATION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class OrgConfigError(ValueError):
    """A config value org/ cannot work with; the message is the whole report."""


@dataclass(frozen=True)
class OrgConfig:
    organization: str  # the Pulumi organization (the one this stack lives in)
    repository: str  # owner/repo on GitHub
    pack_version: str  # the va-guard version the stacks must pass

    def __post_init__(self) -> None:
        if not REPOSITORY_RE.match(self.repository):
            raise OrgConfigError(
                f"va-org:githubRepository = {self.repository!r}: expected <owner>/<repo> as on "
                "GitHub, e.g. virtualagentics/va-platform "
                "(pulumi config set githubRepository <owner>/<repo>)"
            )
        if not ORGANIZATION_RE.match(self.organization):
            raise OrgConfigError(
                f"Pulumi organization {self.organization!r}: run org/ in a stack of the "
                "organization it manages (pulumi stack init <org>/org)"
            )


def pack_version(path: Path = POLICY_PACK_FILE) -> str:
    """The version the pack in this repository publishes as (``policy-v<version>`` tags it)."""
    data = yaml.safe_load(path.read_text()) or {}
    version = data.get("version")
    if not isinstance(version, str) or not version:
        raise OrgConfigError(f"{path}: no version to enforce (expected `version: <x.y.z>`)")
    return version
