"""The component provider: Pulumi's ComponentProvider (pulumi.provider.experimental) over the
components of components.py, with the VA type tokens and the descriptions of the args.

Pulumi's own host (``component_provider_host``) names every component ``<package>:index:<Name>``;
a VA component is ``va:<module>:<Name>`` (``va:lambda:VaLambda``, ``va:data:VaTable``) in
Python, and is the same through the provider, so a TypeScript or YAML program's stack has the
URNs a Python program's has. Types (the args' nested objects and enums) stay in ``index``.
This module is all that relies on the experimental SDK's internals (tested with pulumi 3.272):
the analysis result it keeps (``_component_defs``, ``_type_defs``) and the ComponentInitError
that wraps a constructor's exception.
"""

import inspect
import json
import re
import sys
from collections.abc import Sequence
from typing import Any

from pulumi import Inputs, ResourceOptions
from pulumi.errors import InputPropertyError
from pulumi.provider import main
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.provider import ConstructResult
from pulumi.provider.server import ComponentInitError

import va_platform
from va_platform.components.base import VaComponent
from va_platform.provider.components import COMPONENTS, OUTPUT_DESCRIPTIONS
from va_platform.provider.derive import DESCRIPTIONS
from va_platform.provider.inputs import InputsRefusedError

PACKAGE = "va"
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
            return super().construct(name, f"{PACKAGE}:index:{component.__name__}", inputs, options)
        except InputPropertyError as exc:
            raise InputPropertyError(exc.property_path, self._with_allowed(exc.reason)) from None
        except ComponentInitError as exc:
            if isinstance(exc.inner, InputsRefusedError):
                # The engine shows it as the input's problem: one line, no traceback.
                raise InputPropertyError(exc.inner.path, exc.inner.reason) from None
            raise

    def _with_allowed(self, reason: str) -> str:
        """The SDK's message for a value outside an enum, with the values it allows."""
        found = re.search(r"for enum '(\w+)'", reason)
        definition = self._type_defs.get(found.group(1)) if found else None
        if definition is None or not definition.enum:
            return reason
        allowed = ", ".join(str(member.value) for member in definition.enum)
        return f"{reason}; allowed: {allowed}"


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
