"""The folders show the architecture: each one imports only what its role allows.

Imports point one way - ``__main__`` -> ``stack`` -> ``components`` -> the shared standard
(``policies/va_guard/standard.py``). Nothing imports ``stack`` or the program back, the pack
depends on nothing of the program (it is published and applied org-wide on its own), the
preflight runs the program by path, org/ (the Pulumi Cloud side) is a program of its own, and
the agent image and the deployable functions are self-contained (they are what ships into Lambda).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIRST_PARTY = (
    "__main__",
    "stack",
    "components",
    "functions",
    "policies",
    "preflight",
    "org",
    "tests",
)

# folder -> the first-party modules (prefixes) it may import
ALLOWED: dict[str, tuple[str, ...]] = {
    "stack": ("stack", "components", "policies.va_guard.standard"),
    "components": ("components", "policies.va_guard.standard"),
    "functions": (),
    "policies": ("policies", "va_guard"),
    "preflight": ("preflight",),
    "agent_image": (),
    "bench": ("components", "stack", "preflight", "policies", "tests"),
    # The Pulumi Cloud side: its own program; of the main one, at most the shared standard.
    "org": ("org", "policies.va_guard.standard"),
}


def first_party_imports(path: Path) -> list[str]:
    """Dotted names of the first-party modules a file imports (relative ones resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = path.relative_to(ROOT).parent.parts
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
                names = [f"{module}.{alias.name}" for alias in node.names]
            else:
                names = [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found += [n for n in names if n.split(".")[0] in (*FIRST_PARTY, "va_guard")]
    return found


def allowed(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def folder_files(folder: str) -> list[Path]:
    return sorted(p for p in (ROOT / folder).rglob("*.py") if "venv" not in p.parts)


@pytest.mark.parametrize("folder", sorted(ALLOWED))
def test_folder_imports_only_what_its_role_allows(folder: str) -> None:
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in folder_files(folder)
        for name in first_party_imports(path)
        if not allowed(name, ALLOWED[folder])
    ]
    assert wrong == []


def test_first_party_imports_sees_a_forbidden_import(tmp_path: Path) -> None:
    """The checker itself: a component importing the stack config is caught."""
    probe = ROOT / "components" / "_layout_probe.py"
    probe.write_text("from stack.config import StackConfig\nfrom . import base\n")
    try:
        names = first_party_imports(probe)
    finally:
        probe.unlink()
    assert [n for n in names if not allowed(n, ALLOWED["components"])] == [
        "stack.config.StackConfig"
    ]
