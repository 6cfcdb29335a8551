"""The distribution another team installs: what the wheel holds and what it declares.

Built once per session from the working tree with pip (as ``pip install <checkout>`` builds it).
The install into a fresh virtualenv outside the repository, and the examples run from their own
virtualenvs, are checked by ``examples/check.sh`` in CI (a test would pay for the install twice).
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from email.parser import Parser

import pytest

import va_platform
from tests.paths import PROJECT_ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--disable-pip-version-check",
         "-w", str(out), str(PROJECT_ROOT)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (path,) = out.glob("va_platform-*.whl")
    return zipfile.ZipFile(path)


def metadata(wheel: zipfile.ZipFile) -> dict[str, list[str]]:
    name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    message = Parser().parsestr(wheel.read(name).decode())
    return {key: message.get_all(key) or [] for key in ("Name", "Version", "Requires-Dist")}


def test_wheel_installs_only_the_va_platform_package(wheel: zipfile.ZipFile) -> None:
    """No generic top-level module (components, stack, policies, preflight) is installed."""
    tops = {n.split("/")[0] for n in wheel.namelist() if ".dist-info" not in n.split("/")[0]}
    assert tops == {"va_platform"}


def test_wheel_carries_the_iam_catalogue(wheel: zipfile.ZipFile) -> None:
    """The standard checks statements against AWS's catalogue: its data ships in the wheel."""
    assert "va_platform/iam_catalogue.json" in wheel.namelist()


def test_wheel_version_is_the_library_version(wheel: zipfile.ZipFile) -> None:
    assert metadata(wheel)["Version"] == [va_platform.__version__]


@pytest.mark.parametrize("dependency", ["pulumi", "pulumi-aws", "pydantic"])
def test_wheel_declares_a_compatible_range_for(wheel: zipfile.ZipFile, dependency: str) -> None:
    """A range (>= and <), never an exact pin: a team's own pins must be able to win."""
    (requirement,) = [
        r for r in metadata(wheel)["Requires-Dist"] if r.split(">")[0].split("<")[0] == dependency
    ]
    assert ">=" in requirement
    assert "<" in requirement.replace("<=", "")
    assert "==" not in requirement


def test_changelog_names_the_library_version() -> None:
    changelog = (PROJECT_ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## [{va_platform.__version__}]" in changelog
