"""A commit that changes nothing deployed changes nothing: artifacts and the agent image are named
after the last commit that changed what goes into them, not after HEAD.

Each test runs the real program from a copy of the project in a real git repository, commits a
change, runs it again and compares every resource's inputs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.output import Unknown

from tests.gitrepo import commit, project_copy
from va_platform.preflight.runner import run_program, stack_config


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    return project_copy(tmp_path_factory.mktemp("project"))


def comparable(value: Any) -> Any:
    """Inputs by value: an asset by its path, an unknown (preview) as one marker."""
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [comparable(v) for v in value]
    if isinstance(value, pulumi.asset.FileAsset | pulumi.asset.FileArchive):
        return ("file", str(value.path))
    if isinstance(value, Unknown):
        return "unknown"
    return value


def inputs(repo: Path, stack: str) -> dict[str, Any]:
    run = run_program(stack, config=stack_config(stack), program=repo / "__main__.py")
    assert run.error is None, run.error
    return {r.urn: comparable(r.inputs) for r in run.resources}


def changed(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    assert before.keys() == after.keys()
    return {urn.rsplit("::", 1)[-1] for urn in before if before[urn] != after[urn]}


@pytest.fixture
def edit(repo: Path):
    """Append a line to a file of the copy and commit it; undone (by a new commit) afterwards."""
    edited: list[tuple[Path, str]] = []

    def apply(rel: str, line: str) -> None:
        path = repo / rel
        edited.append((path, path.read_text()))
        path.write_text(path.read_text() + line)
        commit(repo, f"edit {rel}")

    yield apply
    for path, text in edited:
        path.write_text(text)
    commit(repo, "undo")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_docs_only_commit_changes_no_resource(repo, edit, stack):
    before = inputs(repo, stack)
    edit("README.md", "\nOne more line of docs.\n")
    assert changed(before, inputs(repo, stack)) == set()


def test_function_code_commit_changes_its_artifact_and_function_only(repo, edit):
    before = inputs(repo, "dev")
    edit("functions/contentgen/handler.py", "\n# a code change\n")
    assert changed(before, inputs(repo, "dev")) == {
        "fn-contentgen-artifact",
        "fn-contentgen-function",
    }


def test_agent_code_commit_changes_the_image_and_agent_functions_only(repo, edit):
    before = inputs(repo, "dev")
    edit("agent_image/faalf/settings.py", "\n# a code change\n")
    assert changed(before, inputs(repo, "dev")) == {
        "agent-image-image",
        "agent-agent-function",
        "agent-costreview-function",
    }
