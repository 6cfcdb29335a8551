"""docs/configuration.md is generated from the models, so it says what the program accepts."""

from __future__ import annotations

from pathlib import Path

from stack.reference import all_models, render

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_committed_reference_is_what_the_models_generate():
    """Fails after a model change until `make docs` is run and the file committed."""
    assert REFERENCE.read_text(encoding="utf-8") == render()


def test_every_config_key_has_a_description():
    missing = [
        f"{model.__name__}.{name}"
        for model in all_models()
        for name, info in model.model_fields.items()
        if not info.description
    ]
    assert missing == []


def test_reference_reaches_every_nested_model():
    names = {model.__name__ for model in all_models()}
    assert {"FunctionSpec", "SecretRef", "AgentProfile", "ProfileStatement"} <= names


def test_reference_prints_a_keys_bounds_from_its_validator():
    memory = next(
        line for line in render().splitlines() if line.startswith("| `memory` | integer | `256`")
    )
    assert "128-10240 MB" in memory


def test_reference_prints_the_allowed_values_of_a_listed_key():
    row = next(
        line
        for line in render().splitlines()
        if line.startswith("| `logRetentionDays` | integer | `30`")
    )
    assert "1, 3, 5, 7, 14, 30" in row
