"""The provider's schema: generated from the Python classes, committed, current, valid against
Pulumi's package metaschema, and saying what the configuration reference says."""

import json
import re
from pathlib import Path

import jsonschema
import pytest

from tests.paths import PROJECT_ROOT
from va_platform.provider.schema import schema_text

SCHEMA_JSON = PROJECT_ROOT / "src/va_platform/provider/schema.json"
METASCHEMA = Path(__file__).parent / "data/pulumi-package-metaschema.json"


@pytest.fixture(scope="module")
def generated() -> str:
    return schema_text()


@pytest.fixture(scope="module")
def schema(generated) -> dict:
    return json.loads(generated)


def metaschema() -> dict:
    """Pulumi's metaschema, its ECMAScript named groups in Python's spelling."""
    text = METASCHEMA.read_text(encoding="utf-8")
    return json.loads(re.sub(r"\(\?<([A-Za-z]\w*)>", r"(?P<\1>", text))


def test_committed_schema_is_what_the_provider_generates(generated):
    """Fails after a change to a component's inputs or outputs until `make schema` is run."""
    assert SCHEMA_JSON.read_text(encoding="utf-8") == generated


def test_schema_validates_against_pulumis_package_metaschema(schema):
    errors = list(jsonschema.Draft202012Validator(metaschema()).iter_errors(schema))
    assert [f"{list(e.path)}: {e.message}" for e in errors] == []


def test_get_schema_over_grpc_is_the_generated_schema(provider, schema):
    assert provider.schema() == schema


def test_resources_are_the_python_type_tokens(schema):
    assert sorted(schema["resources"]) == [
        "va:agent:VaAgent",
        "va:alarms:VaAlarmTopic",
        "va:data:VaBucket",
        "va:data:VaTable",
        "va:kms:VaKey",
        "va:lambda:VaLambda",
        "va:network:VaNetwork",
        "va:secret:VaSecret",
    ]


def test_every_input_has_a_description(schema):
    undescribed = [
        f"{owner}.{name}"
        for owner, spec in [*schema["resources"].items(), *schema["types"].items()]
        for name, prop in {**spec.get("inputProperties", {}), **spec.get("properties", {})}.items()
        if not prop.get("description")
    ]
    assert undescribed == []


def test_no_input_has_a_schema_default(schema):
    """A schema default is sent by every SDK as if the program had set it; an image function
    refuses an explicit runtime or handler. Defaults are in the descriptions only."""
    assert '"default"' not in json.dumps(schema)


def test_lambda_required_inputs_are_those_the_python_args_require(schema):
    required = schema["resources"]["va:lambda:VaLambda"]["requiredInputs"]
    assert sorted(required) == ["alarmTopicArn", "context", "networking", "spec"]


@pytest.mark.parametrize(
    ("owner", "field", "enum"),
    [
        ("va:index:FunctionSpec", "runtime", "va:index:Runtime"),
        ("va:index:FunctionSpec", "architecture", "va:index:Architecture"),
        ("va:index:Trigger", "kind", "va:index:TriggerKind"),
        ("va:index:VaContext", "environment", "va:index:Environment"),
        ("va:index:AgentProfile", "authMode", "va:index:AuthMode"),
    ],
)
def test_closed_set_is_an_enum(schema, owner, field, enum):
    assert schema["types"][owner]["properties"][field]["$ref"] == f"#/types/{enum}"
    assert schema["types"][enum]["enum"]


def test_trigger_kinds_are_the_registry_kinds(schema):
    values = [m["value"] for m in schema["types"]["va:index:TriggerKind"]["enum"]]
    assert values == ["schedule", "queue", "events", "bucket", "http"]


def test_spec_field_description_is_the_models_with_default_and_bounds(schema):
    memory = schema["types"]["va:index:FunctionSpec"]["properties"]["memory"]["description"]
    assert memory == (
        "Memory (and so CPU) of the function. Allowed: 128-10240 MB (Lambda memory). "
        "Default: `256`."
    )


def test_committed_input_reference_is_what_the_schema_generates():
    """docs/provider-reference.md, like docs/library.md: `make schema` writes it."""
    from va_platform.provider.reference import reference_text

    reference = PROJECT_ROOT / "docs/provider-reference.md"
    assert reference.read_text(encoding="utf-8") == reference_text()
