"""docs/library.md is generated from the library's code, so it says what the library offers: every
public name with its docstring, and each args class's fields with their types, defaults and
descriptions (python -m va_platform.reference; `make docs`)."""

from __future__ import annotations

import tomllib

import pytest

import va_platform.components
import va_platform.packaging
from tests.paths import PROJECT_ROOT
from va_platform import reference

LIBRARY_MD = PROJECT_ROOT / "docs" / "library.md"
PUBLIC = [*va_platform.components.__all__, *va_platform.packaging.__all__]


@pytest.fixture(scope="module")
def text() -> str:
    return reference.render()


def row(text: str, section: str, field: str) -> str:
    """The table row of ``field`` in the section headed ``section``."""
    part = text.split(f"\n### {section}\n", 1)[1].split("\n### ", 1)[0]
    return next(line for line in part.splitlines() if line.startswith(f"| `{field}`"))


def test_committed_library_reference_is_what_the_code_generates(text):
    """Fails after a change to a public name, a docstring or an args class until `make docs`
    is run and docs/library.md committed."""
    assert LIBRARY_MD.read_text(encoding="utf-8") == text


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_name_has_a_section(text, name):
    assert f"\n### {name}\n" in text


def test_every_public_name_has_a_docstring():
    assert reference.undocumented_names() == []


def test_every_field_of_every_args_class_and_spec_has_a_description():
    assert reference.undocumented_fields() == []


def test_an_input_is_shown_readably(text):
    """pulumi.Input[str] is Union[str, Awaitable[str], Output[str]] once resolved: printed as
    written, Input[str], which the reference's header explains."""
    cells = row(text, "VaLambdaArgs", "alarm_topic_arn")
    assert "Input[str]" in cells
    assert "Awaitable" not in text
    assert "typing." not in text
    assert "Input[str]" in text.split("\n## ", 1)[0]


def test_a_dataclass_fields_comment_is_its_description(text):
    assert "customer-managed key" in row(text, "VaLambdaArgs", "kms_key_arn")


def test_a_required_field_and_a_default_are_shown(text):
    assert "**required**" in row(text, "VaLambdaArgs", "spec")
    assert "`30`" in row(text, "VaLambdaArgs", "log_retention_days")


def test_a_spec_field_shows_its_config_key_bounds_and_link(text):
    assert "`kmsKeyArn`" in row(text, "FunctionSpec", "kms_key_arn")
    assert "128-10240 MB" in row(text, "FunctionSpec", "memory")
    assert "[ExistingSecret](#existingsecret)" in row(text, "FunctionSpec", "existing_secrets")


def test_a_component_shows_its_type_token_and_arguments(text):
    part = text.split("\n### VaLambda\n", 1)[1].split("\n### ", 1)[0]
    assert "`va:lambda:VaLambda`" in part
    assert "[VaLambdaArgs](#valambdaargs)" in part


def test_nested_models_a_spec_holds_are_documented_too(text):
    """FunctionSpec's nested models are not exported (they are passed as dicts) but described."""
    assert "\n### RuntimeManagement\n" in text


def test_make_docs_regenerates_the_library_reference():
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    assert "-m va_platform.reference > docs/library.md" in makefile


def test_the_distributions_readme_is_the_library_reference():
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["readme"] == "docs/library.md"
    assert LIBRARY_MD.is_file()
