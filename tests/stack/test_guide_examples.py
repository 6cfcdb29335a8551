"""The configuration guide's examples of triggers, releases and settings pass the validation
`pulumi up` runs (FunctionSpec), so the guide cannot drift from the models."""

from __future__ import annotations

import re
import textwrap

import pytest
import yaml

from tests.paths import PROJECT_ROOT
from va_platform.components.lambda_function.spec import FunctionSpec

GUIDE = PROJECT_ROOT / "docs" / "configuration-guide.md"
SECTION = "## Triggers, releases and the settings teams reach for first"


def examples() -> list[str]:
    text = GUIDE.read_text(encoding="utf-8").split(SECTION)[1].split("\n## ")[0]
    return re.findall(r"```yaml\n(.*?)```", text, re.S)


def functions_of(block: str) -> list[dict]:
    data = yaml.safe_load(textwrap.dedent(block))
    return data["va-platform:functions"] if isinstance(data, dict) else data


def test_the_section_has_its_examples() -> None:
    assert len(examples()) == 5


@pytest.mark.parametrize("block", examples(), ids=lambda b: functions_of(b)[0]["purpose"])
def test_each_example_function_is_accepted(block: str) -> None:
    for entry in functions_of(block):
        FunctionSpec.model_validate(entry)


def test_a_broken_example_would_be_caught() -> None:
    """The check is real: the first example with snapStart on python3.11 is refused."""
    entry = functions_of(examples()[0])[0] | {"runtime": "python3.11"}
    with pytest.raises(ValueError, match="snapStart"):
        FunctionSpec.model_validate(entry)
