"""The component provider: Pulumi's ComponentProvider (pulumi.provider.experimental) over the
components of components.py, with the VA type tokens and the descriptions of the args.

Pulumi's own host (``component_provider_host``) names every component ``<package>:index:<Name>``;
a VA component is ``va:<module>:<Name>`` (``va:lambda:VaLambda``, ``va:data:VaTable``) in
Python, and is the same through the provider, so a TypeScript or YAML program's stack has the
URNs a Python program's has. Types (the args' nested objects and enums) stay in ``index``.
This module is all that relies on the experimental SDK's internals (tested with pulumi 3.272):
the analysis result it keeps (``_component_defs``, ``_type_defs``, their PropertyDefinitions,
which ``construct`` checks the inputs against first) and the ComponentInitError that wraps a
constructor's exception (the plugin's requirements.txt pins that pulumi).
"""

import inspect
import json
import re
import sys
from collections.abc import Sequence
from typing import Any

from pulumi import Inputs, Output, ResourceOptions
from pulumi.errors import InputPropertyError
from pulumi.output import Unknown
from pulumi.provider import main
from pulumi.provider.experimental.analyzer import PropertyDefinition, PropertyType
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.provider import ConstructResult
from pulumi.provider.server import ComponentInitError
from pulumi.runtime import rpc

import va_platform
from va_platform.components.base import VaComponent
from va_platform.provider.components import COMPONENTS, OUTPUT_DESCRIPTIONS
from va_platform.provider.derive import DESCRIPTIONS
from va_platform.provider.inputs import InputsRefusedError

PACKAGE = "va"
# The longest reason a refusal gives: the engine gets it in a gRPC header (16 KB at most), and
# a value quoted in it (a huge purpose) must not turn the refusal into a transport error.
MAX_REASON = 500
DESCRIPTION = (
    "The Virtual Agentics Lambda platform's components (va-platform): VA Lambdas with their "
    "network, IAM roles, secrets, log groups, dead-letter queues and alarms, per the VA Lambda "
    "runtime and configuration standard; the same code as the Python library."
)


def token(component: type[VaComponent]) -> str:
    """The component's type token, as the Python component registers it."""
    return f"{PACKAGE}:{component.MODULE}:{component.__name__}"


class VaComponentProvider(ComponentProvider):
    """Serves ``components`` under their VA tokens; a refused input is one line, no trace."""

    def __init__(
        self,
        components: Sequence[type[VaComponent]] = COMPONENTS,
        version: str = va_platform.__version__,
    ) -> None:
        super().__init__(list(components), PACKAGE, None, version)
        self._by_token = {token(c): c for c in components}
        for component in components:
            # Outputs are what the provider's class declares; the real class's annotated
            # children (aws resources, for type checkers) are no outputs of the package.
            definition = self._component_defs[component.__name__]
            own = set(inspect.get_annotations(component))
            for name in [n for n, py in definition.outputs_mapping.items() if py not in own]:
                del definition.outputs[name]
                del definition.outputs_mapping[name]
        self.schema = json.dumps(self.finished_schema(self.schema_dict()), sort_keys=True)

    def schema_dict(self) -> dict[str, Any]:
        """The package schema GetSchema returns, as data."""
        loaded: dict[str, Any] = json.loads(self.schema or "{}")
        return loaded

    def finished_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        """The analyser's schema with the VA tokens, the package's description and every
        input's description (derive.py: the models' and args' own)."""
        schema["description"] = DESCRIPTION
        schema["keywords"] = ["va", "aws", "lambda", "category/cloud", "kind/component"]
        resources = {}
        for component_token, component in self._by_token.items():
            resource = schema["resources"].pop(f"{PACKAGE}:index:{component.__name__}")
            definition = self._component_defs[component.__name__]
            args_type = inspect.get_annotations(component.__init__)["args"]
            texts = DESCRIPTIONS.get(args_type, {})
            for name, prop in resource.get("inputProperties", {}).items():
                _describe(prop, texts.get(definition.inputs_mapping[name]))
            outputs = OUTPUT_DESCRIPTIONS.get(component.__name__, {})
            for name in list(resource.get("properties", {})):
                if name not in definition.outputs:
                    del resource["properties"][name]
                    continue
                _describe(
                    resource["properties"][name], outputs.get(definition.outputs_mapping[name])
                )
            resource["required"] = [
                r for r in resource.get("required", []) if r in definition.outputs
            ]
            resource["description"] = inspect.cleandoc(resource.get("description", ""))
            resources[component_token] = resource
        schema["resources"] = resources
        schema["types"] = _reachable_types(schema)
        if '"/aws/v' not in json.dumps(schema):
            schema.pop("dependencies", None)
        for type_token, spec in schema.get("types", {}).items():
            if spec.get("description"):
                spec["description"] = inspect.cleandoc(spec["description"])
            type_def = self._type_defs[type_token.rsplit(":", 1)[-1]]
            texts = DESCRIPTIONS.get(type_def.python_type, {})
            for name, prop in spec.get("properties", {}).items():
                _describe(prop, texts.get(type_def.properties_mapping[name]))
        return _without_nulls(schema)

    def construct(
        self,
        name: str,
        resource_type: str,
        inputs: Inputs,
        options: ResourceOptions | None = None,
    ) -> ConstructResult:
        component = self._by_token.get(resource_type)
        if component is None:
            raise ValueError(
                f"unknown resource type {resource_type!r}; this provider serves "
                + ", ".join(sorted(self._by_token))
            )
        try:
            definition = self._component_defs[component.__name__]
            for key in inputs:
                if key not in definition.inputs:
                    raise InputPropertyError(key, f"not an input of {component.__name__}")
            for key, prop in definition.inputs.items():
                self._check(inputs.get(key), prop, key)
            return super().construct(name, f"{PACKAGE}:index:{component.__name__}", inputs, options)
        except InputPropertyError as exc:
            path, reason = exc.property_path, self._with_allowed(exc.reason)
        except ComponentInitError as exc:
            if isinstance(exc.inner, InputsRefusedError):
                path, reason = exc.inner.path, exc.inner.reason
            elif isinstance(exc.inner, ValueError):
                # The library refuses a value it was given (a check after registration): one
                # line too, though some children may already be registered.
                path, reason = "", str(exc.inner)
            else:
                raise
        # The engine shows it as the input's problem: one line, no traceback.
        raise InputPropertyError(_reported_path(path, inputs, component), _short(reason))

    def _check(self, value: Any, prop: PropertyDefinition, path: str) -> None:
        """``value`` has the shape the schema gives ``path``, before any resource exists: the
        SDK's mapping turns a list where an object belongs into ``{}`` ("missing required"), a
        fraction into an int, an unknown integer into a traceback, and the library would split
        a string given for a list. Never quotes the value (it may be a secret)."""
        if value is None:
            return
        if rpc.is_rpc_secret(value):
            if prop.plain:
                raise InputPropertyError(path, "takes no secret: " + _PLAIN)
            value = rpc.unwrap_rpc_secret(value)
        if isinstance(value, Output | Unknown) or value == rpc.UNKNOWN:
            if prop.plain:
                raise InputPropertyError(path, _PLAIN)
            return  # an Input: an output is what it takes
        type_def = self.get_type_definition(prop) if prop.ref else None
        if prop.ref and type_def is None:
            return  # an Archive or Asset
        kind = PropertyType.OBJECT if type_def is not None and not type_def.enum else prop.type
        if type_def is not None and type_def.enum:
            kind = PropertyType.STRING
        expected = _EXPECTED.get(kind)  # type: ignore[arg-type]
        if expected is not None and not expected[1](value):
            raise InputPropertyError(path, f"expected {expected[0]}, got {_kind(value)}")
        if type_def is not None and not type_def.enum:
            for key in value:
                if key not in type_def.properties:
                    raise InputPropertyError(f"{path}.{key}", f"not a field of {type_def.name}")
            for key, field in type_def.properties.items():
                self._check(value.get(key), field, f"{path}.{key}")
        elif kind == PropertyType.ARRAY and prop.items is not None:
            for i, item in enumerate(value):
                self._check(item, prop.items, f"{path}[{i}]")
        elif kind == PropertyType.OBJECT and prop.additional_properties is not None:
            for key, item in value.items():
                self._check(item, prop.additional_properties, f"{path}.{key}")

    def _with_allowed(self, reason: str) -> str:
        """The SDK's message for a value outside an enum, with the values it allows."""
        found = re.search(r"for enum '(\w+)'", reason)
        definition = self._type_defs.get(found.group(1)) if found else None
        if definition is None or not definition.enum:
            return reason
        allowed = ", ".join(str(member.value) for member in definition.enum)
        return f"{reason}; allowed: {allowed}"


_PLAIN = (
    "must be a plain value known when the component is built (it shapes which resources "
    "exist), not another resource's output or a secret; a list takes outputs element by element"
)

_EXPECTED: dict[PropertyType, tuple[str, Any]] = {
    PropertyType.STRING: ("a string", lambda v: isinstance(v, str)),
    PropertyType.BOOLEAN: ("a boolean", lambda v: isinstance(v, bool)),
    PropertyType.NUMBER: (
        "a number",
        lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    ),
    PropertyType.INTEGER: (
        "a whole number",
        lambda v: isinstance(v, int | float) and not isinstance(v, bool) and float(v).is_integer(),
    ),
    PropertyType.ARRAY: ("a list", lambda v: isinstance(v, list)),
    PropertyType.OBJECT: ("an object", lambda v: isinstance(v, dict)),
}


def _kind(value: Any) -> str:
    """What a value is, without the value."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        whole = isinstance(value, int) or value.is_integer()
        return "a number" if whole else "a number with a fraction"
    for kind, (text, fits) in _EXPECTED.items():
        if kind not in (PropertyType.INTEGER, PropertyType.NUMBER) and fits(value):
            return text
    return type(value).__name__


def _reported_path(path: str, inputs: Inputs, component: type[VaComponent]) -> str:
    """The path the engine gets. It prints the value found at the path beside the reason
    (pulumi pkg/resource/deploy/source_eval.go, errorToMessage), a secret's included, and an
    empty path finds every input: a refusal of the whole args names the component instead, and
    a path whose value holds a secret or an output does not resolve."""
    if not path:
        return component.__name__
    value: Any = inputs
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if part.startswith("["):
            index = int(part[1:-1])
            value = value[index] if isinstance(value, list) and index < len(value) else None
        else:
            value = value.get(part) if isinstance(value, dict) else None
    return f"{path} (value not shown)" if _hides(value) else path


def _hides(value: Any) -> bool:
    """Whether the engine's view of ``value`` may hold a secret (an output may be one)."""
    if isinstance(value, Output | Unknown) or rpc.is_rpc_secret(value):
        return True
    if isinstance(value, dict):
        return any(_hides(v) for v in value.values())
    if isinstance(value, list):
        return any(_hides(v) for v in value)
    return False


def _short(reason: str) -> str:
    """One line, at most MAX_REASON characters."""
    line = " ".join(reason.split())
    return line if len(line) <= MAX_REASON else line[: MAX_REASON - 1] + "…"


def _reachable_types(schema: dict[str, Any]) -> dict[str, Any]:
    """The types the resources use, however deep (dropped outputs leave some unused)."""
    types, seen = schema.get("types", {}), set()
    todo = [json.dumps(schema["resources"])]
    while todo:
        text = todo.pop()
        for type_token in types:
            if type_token not in seen and f'"#/types/{type_token}"' in text:
                seen.add(type_token)
                todo.append(json.dumps(types[type_token]))
    return {k: v for k, v in types.items() if k in seen}


def _without_nulls(value: Any) -> Any:
    """The analyser writes ``"description": null`` for an enum member without one; the
    metaschema wants a string or nothing."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _describe(prop: dict[str, Any], text: str | None) -> None:
    if text:
        prop["description"] = text


def serve(args: Sequence[str] | None = None) -> None:
    """Run the provider as the engine starts a plugin: ``<engine address>`` first; prints the
    port it serves on, then serves until stopped."""
    main(VaComponentProvider(), list(sys.argv[1:] if args is None else args))
