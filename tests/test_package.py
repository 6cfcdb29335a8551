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


# --- optional extras: the core imports without them; a feature without its extra is one line ---

# Run in a fresh interpreter where pulumi-docker and pulumi-policy cannot be imported, as in a
# virtualenv that installed `va-platform` without extras.
WITHOUT_EXTRAS = """
import importlib.abc, sys
class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("pulumi_docker", "pulumi_policy"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, NotInstalled())
"""


def without_extras(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_EXTRAS + code],
        capture_output=True, text=True, timeout=120, cwd=PROJECT_ROOT / "examples",
    )  # fmt: skip


def test_the_core_imports_without_the_image_and_preflight_extras() -> None:
    done = without_extras(
        "import va_platform.components, va_platform.packaging, va_platform.standard\n"
        "import va_platform.preflight.runner\n"
        "assert not {'pulumi_docker', 'pulumi_policy'} & set(sys.modules)\n"
    )
    assert done.returncode == 0, done.stderr


def test_an_agent_image_without_the_image_extra_is_one_line_naming_it(tmp_path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    done = without_extras(
        "from pathlib import Path\n"
        "from va_platform.components import VaAgentImage, VaAgentImageArgs, VaContext\n"
        "ctx = VaContext(environment='dev', owner='team')\n"
        "try:\n"
        f"    VaAgentImage('img', VaAgentImageArgs(ctx, Path({str(tmp_path)!r}), 'v1'))\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, '|', exc)\n"
    )
    assert done.stdout == (
        "MissingExtraError | VaAgentImage (builds and pushes the image) needs pulumi-docker, "
        "which is not installed: pip install 'va-platform[image]'\n"
    ), done.stderr


def test_the_preflight_without_its_extra_is_one_line_naming_it() -> None:
    done = without_extras(
        "from va_platform.preflight.analyzer import PolicyPackProcess\n"
        "from pathlib import Path\n"
        "try:\n"
        "    PolicyPackProcess(Path('../policies'))\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, '|', exc)\n"
    )
    assert done.stdout == (
        "PackError | the preflight's va-guard check needs pulumi-policy, which is not installed: "
        "pip install 'va-platform[preflight]'\n"
    ), done.stderr


def test_the_wheel_declares_the_image_and_preflight_extras(wheel: zipfile.ZipFile) -> None:
    requires = metadata(wheel)["Requires-Dist"]
    assert any(r.startswith("pulumi-docker") and 'extra == "image"' in r for r in requires)
    assert any(r.startswith("pulumi-policy") and 'extra == "preflight"' in r for r in requires)
