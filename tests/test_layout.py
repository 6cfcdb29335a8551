"""The folders show the architecture: each one imports only what its role allows.

Imports point one way - ``__main__`` -> ``stack`` -> the installed library ``va_platform`` ->
its shared standard (``va_platform.standard``). The library imports nothing of this repository
(other teams install it); the program uses it through its public API only, as they do; the pack
depends on nothing of the program or the library (it is published and applied org-wide on its
own, with a verbatim copy of the standard); org/ (the Pulumi Cloud side) is a program of its own
(it reads the exemptions it grants the pack with the pack's own reader);
the agent image and the deployable functions are self-contained (they are what ships into Lambda).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

import va_platform.components
import va_platform.packaging

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ROOT / "src" / "va_platform"
FIRST_PARTY = (
    "__main__",
    "stack",
    "va_platform",
    "components",
    "functions",
    "policies",
    "preflight",
    "org",
    "tests",
    "examples",
)

# folder -> the first-party modules (prefixes) it may import
ALLOWED: dict[str, tuple[str, ...]] = {
    "stack": ("stack", "va_platform"),
    "src/va_platform": ("va_platform",),
    "functions": (),
    "policies": ("policies", "va_guard"),
    "agent_image": (),
    "examples": ("va_platform",),
    "bench": ("va_platform", "stack", "policies", "tests"),
    # The Pulumi Cloud side: its own program; of the library, at most the shared standard; of
    # the pack, the reader of the exemptions org/ grants it (stdlib only), so org/ refuses
    # exactly what the pack would.
    "org": ("org", "va_platform.standard", "policies.va_guard.exemptions"),
}

# What a program may import from the library: the names each public module exports.
PUBLIC = {
    "va_platform.components": set(va_platform.components.__all__),
    "va_platform.packaging": set(va_platform.packaging.__all__),
    "va_platform": {"standard", "__version__"},
}


def first_party_imports(path: Path) -> list[str]:
    """Dotted names of the first-party modules a file imports (relative ones resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    relative = path.relative_to(LIBRARY.parent if path.is_relative_to(LIBRARY) else ROOT)
    package = relative.parent.parts
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
    return sorted(p for p in (ROOT / folder).rglob("*.py") if "venv" not in str(p))


def public(name: str) -> bool:
    module, _, attribute = name.rpartition(".")
    return attribute in PUBLIC.get(module, set())


def program_files() -> list[Path]:
    return [ROOT / "__main__.py", *folder_files("stack"), *folder_files("examples")]


@pytest.mark.parametrize("folder", sorted(ALLOWED))
def test_folder_imports_only_what_its_role_allows(folder: str) -> None:
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in folder_files(folder)
        for name in first_party_imports(path)
        if not allowed(name, ALLOWED[folder])
    ]
    assert wrong == []


def test_programs_use_only_the_public_api_of_the_library() -> None:
    """This repository's program and the examples import the library as a team would."""
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in program_files()
        for name in first_party_imports(path)
        if name.startswith("va_platform") and not public(name)
    ]
    assert wrong == []


def test_public_api_check_sees_an_internal_import() -> None:
    """The checker itself: a submodule's name is not public, the package's export is."""
    assert not public("va_platform.components.lambda_function.spec.FunctionSpec")
    assert public("va_platform.components.FunctionSpec")


def test_first_party_imports_sees_a_forbidden_import() -> None:
    """The checker itself: a component importing the stack config is caught."""
    probe = LIBRARY / "components" / "_layout_probe.py"
    probe.write_text("from stack.config import StackConfig\nfrom . import base\n")
    try:
        names = first_party_imports(probe)
    finally:
        probe.unlink()
    assert [n for n in names if not allowed(n, ALLOWED["src/va_platform"])] == [
        "stack.config.StackConfig"
    ]


# A citation of a document the repository does not hold: the specification's seed documents,
# or the issue tracker's items, which the code's readers (other teams, the pack's users) cannot
# open. Comments and docstrings say what they mean instead; tests may name the issue they check.
OUTSIDE_CITATION = re.compile(r"\bseed \d{3}\b|\bissues? \d+\b", re.IGNORECASE)
SHIPPED = ("src/va_platform", "policies", "stack", "org", "agent_image", "functions", "examples")


def outside_citations(source: str) -> list[str]:
    """The comments and docstrings of ``source`` that cite a document outside the repository."""
    texts = [t.string for t in tokenize.generate_tokens(io.StringIO(source).readline)
             if t.type == tokenize.COMMENT]  # fmt: skip
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            texts.append(ast.get_docstring(node, clean=False) or "")
    return [text.strip() for text in texts if OUTSIDE_CITATION.search(text)]


def test_no_comment_of_the_shipped_code_cites_a_document_outside_the_repository() -> None:
    files = [ROOT / "__main__.py", *(f for folder in SHIPPED for f in folder_files(folder))]
    found = {
        str(f.relative_to(ROOT)): cited
        for f in files
        if (cited := outside_citations(f.read_text(encoding="utf-8")))
    }
    assert found == {}


def test_the_citation_check_sees_a_seed_document_and_an_issue() -> None:
    source = '"""Module (issue 22)."""\n# metrics to alarm on (seed 000 §7)\nX = "seed 001"\n'
    assert outside_citations(source) == [
        "# metrics to alarm on (seed 000 §7)",
        "Module (issue 22).",
    ]
