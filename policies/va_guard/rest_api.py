"""API Gateway REST APIs (v1) in front of a function: no method without authorization (part of
va-stack).

A REST API's method (``apigateway.Method``) says who may call it (``authorization``); its
integration (``apigateway.Integration``, a separate resource) says what it calls. A method with
``authorization: NONE`` whose integration invokes a Lambda function lets anyone with the URL run
the function (and its bill); an API key (``apiKeyRequired``) identifies a client, it does not
authorise one. Judging it needs both resources, so it is a stack rule: the integration finds its
method through the engine's propertyDependencies (``httpMethod = method.http_method``), or by
the same REST API, resource and HTTP method.

A REST API may instead be defined whole by an OpenAPI document (``RestApi.body``, JSON or YAML,
Swagger 2 or OpenAPI 3): then each operation whose ``x-amazon-apigateway-integration`` invokes a
function must carry a security requirement naming an API Gateway authorizer (a security scheme
with ``x-amazon-apigateway-authtype`` or ``x-amazon-apigateway-authorizer``: a Lambda
authorizer, Cognito, ``awsSigv4``), its own or the document's, or ``x-amazon-apigateway-auth:
{type: AWS_IAM}``. No security, ``security: []``, an empty requirement (``{}``: anonymous
allowed) or a requirement naming only an API key is the same as ``authorization: NONE``. A body
built from outputs (a function's invoke ARN) is unknown in a first preview: unchecked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from .framework import Finding, Resource, unchecked, violation
from .props import UNKNOWN, contains_unknown, is_list, is_mapping, plain
from .tables import FUNCTION_TYPE

try:  # PyYAML comes with the pulumi SDK (its own dependency), as the pack's lock holds it.
    import yaml
except ImportError:  # pragma: no cover - a YAML body is then unchecked, never a crash
    yaml = None

METHOD_TYPE = "aws:apigateway/method:Method"
INTEGRATION_TYPE = "aws:apigateway/integration:Integration"
ALIAS_TYPE = "aws:lambda/alias:Alias"
# AWS_PROXY integrations are Lambda proxy integrations; AWS ones call a service, Lambda among them.
LAMBDA_INTEGRATION_TYPES = ("AWS_PROXY", "AWS")
LAMBDA_URI_MARK = ":lambda:path/"
KEYS = ("restApi", "resourceId", "httpMethod")
REST_API_TYPE = "aws:apigateway/restApi:RestApi"
# The operations of an OpenAPI path item, and API Gateway's own for any method.
OPERATIONS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
ANY_METHOD = "x-amazon-apigateway-any-method"
INTEGRATION_KEY = "x-amazon-apigateway-integration"
# A message names this many of an API's open routes.
ROUTES_SHOWN = 10
AUTHORIZATION_FIX = (
    "give each operation a security requirement naming an API Gateway authorizer (a "
    "securitySchemes entry with x-amazon-apigateway-authtype and "
    "x-amazon-apigateway-authorizer: a Lambda authorizer or Cognito user pools), or "
    "x-amazon-apigateway-auth: {type: AWS_IAM}; or a top-level security the operations inherit"
)


def _function_behind(integration: Resource, by_urn: Mapping[str, Resource]) -> str | None:
    """The function an integration invokes, for a message; None when it invokes none."""
    kind = integration.get("type")
    if kind is not UNKNOWN and kind not in LAMBDA_INTEGRATION_TYPES:
        return None
    uri = integration.get("uri")
    if isinstance(uri, str) and LAMBDA_URI_MARK in uri:
        return uri.split("functions/", 1)[-1].split("/invocations", 1)[0]
    functions = [
        by_urn[u].name
        for u in integration.dependencies.get("uri", ())
        if u in by_urn and by_urn[u].type in (FUNCTION_TYPE, ALIAS_TYPE)
    ]
    if functions:
        return functions[0]
    if kind == "AWS_PROXY" and uri is UNKNOWN:
        return "a function (its ARN is not known yet)"
    return None


def _key(r: Resource, prop: str) -> Any:
    """A property's value when known, else the resources it came from."""
    value = r.get(prop)
    return value if value is not UNKNOWN else frozenset(r.dependencies.get(prop, ()))


def _method_of(integration: Resource, methods: list[Resource]) -> Resource | None:
    for urn in integration.dependencies.get("httpMethod", ()):
        for m in methods:
            if m.urn == urn:
                return m
    wanted = [_key(integration, k) for k in KEYS]
    for m in methods:
        if all(_same(a, _key(m, k)) for a, k in zip(wanted, KEYS, strict=True)):
            return m
    return None


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, frozenset) or isinstance(b, frozenset):
        return isinstance(a, frozenset) and isinstance(b, frozenset) and bool(a & b)
    return isinstance(a, str) and a == b


def problems(
    integration: Resource, methods: list[Resource], by_urn: Mapping[str, Resource]
) -> Iterator[Finding]:
    """The method in front of ``integration``, judged when the integration invokes a function."""
    function = _function_behind(integration, by_urn)
    if function is None:
        return
    method = _method_of(integration, methods)
    if method is None:
        return  # a method of another stack, or of an OpenAPI body: not in view here
    auth = method.get("authorization")
    verb = method.get("httpMethod")
    if auth is UNKNOWN:
        yield unchecked(f"the authorization of method {method.name} (authorization)", method.urn)
    elif auth in (None, "", "NONE"):
        yield violation(
            f"REST API method {verb if isinstance(verb, str) else '?'} ({method.name}) has "
            f"authorization NONE and invokes {function}: anyone with the URL runs the function "
            "(an API key identifies a client, it authorises none); set the method's "
            "authorization to AWS_IAM, CUSTOM (a Lambda authorizer, authorizerId) or "
            "COGNITO_USER_POOLS",
            method.urn,
        )


# --- REST APIs defined by an OpenAPI body ------------------------------------------------------


def _document(body: Any) -> Any:
    """The OpenAPI document of a body (a JSON or YAML string; an object, though the provider
    wants a string), or None when it is neither."""
    if is_mapping(body):
        return plain(body)
    if not isinstance(body, str):
        return None
    try:
        return json.loads(body)
    except ValueError:
        pass
    if yaml is None:
        return None
    try:
        return yaml.safe_load(body)
    except Exception:  # noqa: BLE001 - any malformed body (YAMLError, deep nesting) is unreadable
        return None


def _lower(value: Any) -> str:
    return value.lower() if isinstance(value, str) else ""


def _operation_function(operation: Any) -> str | None:
    """The function an operation's integration invokes ("function <name>"), for a message;
    None when it invokes none (a mock, an HTTP backend, another AWS service)."""
    integration = operation.get(INTEGRATION_KEY)
    if not is_mapping(integration):
        return None
    kind, uri = _lower(integration.get("type")), integration.get("uri")
    if kind not in ("aws_proxy", "aws"):
        return None
    if uri is UNKNOWN and kind == "aws_proxy":
        return "a function (its ARN is not known yet)"
    if not isinstance(uri, str) or LAMBDA_URI_MARK not in uri:
        return None
    arn = uri.split("functions/", 1)[-1].split("/invocations", 1)[0]
    return f"function {arn.split(':function:', 1)[-1].split(':', 1)[0] or arn}"


def _schemes(document: Any) -> Mapping[str, Any]:
    """Security schemes by name: OpenAPI 3's components.securitySchemes, Swagger 2's
    securityDefinitions."""
    components: Any = document.get("components")
    found: dict[str, Any] = {}
    schemes: Any
    for schemes in (
        components.get("securitySchemes") if is_mapping(components) else None,
        document.get("securityDefinitions"),
    ):
        if is_mapping(schemes):
            found.update(schemes)
    return found


def _authorizer(scheme: Any) -> bool:
    """A scheme API Gateway enforces as an authorizer; an API key (no extension) identifies a
    client, it authorises none, and plain OpenAPI types (oauth2, ...) are ignored on import."""
    return is_mapping(scheme) and bool(
        scheme.get("x-amazon-apigateway-authtype") or scheme.get("x-amazon-apigateway-authorizer")
    )


def _authorised(operation: Any, top: Any, schemes: Mapping[str, Any]) -> bool:
    auth = operation.get("x-amazon-apigateway-auth")
    if is_mapping(auth) and _lower(auth.get("type")) == "aws_iam":
        return True
    security = operation.get("security", top)  # an operation's own, even [], replaces the top
    if not is_list(security) or not security:
        return False
    # Alternatives: a caller meets any one, so each must name an authorizer ({} = anonymous).
    return all(
        is_mapping(requirement) and any(_authorizer(schemes.get(name)) for name in requirement)
        for requirement in security
    )


def _quoted(items: list[str]) -> str:
    shown = items[:ROUTES_SHOWN]
    more = len(items) - len(shown)
    text = ", ".join(shown) if len(shown) < 2 else f"{', '.join(shown[:-1])} and {shown[-1]}"
    return text + (f" (and {more} more)" if more else "")


def body_problems(api: Resource) -> Iterator[Finding]:
    """The routes of a REST API's OpenAPI body that invoke a function with no authorization."""
    body = api.get("body")
    if body is None or body == "":
        return
    if body is UNKNOWN:
        yield unchecked("who may call the REST API's routes (body)", api.urn)
        return
    document = _document(body)
    if contains_unknown(document):  # an object body holding values not known yet
        yield unchecked("who may call the REST API's routes (body)", api.urn)
        return
    paths: Any = document.get("paths") if is_mapping(document) else None
    if not is_mapping(paths):
        yield Finding(
            "could not check who may call the REST API's routes: its body is neither JSON nor "
            "YAML of an OpenAPI document with paths (API Gateway would refuse it)",
            "unchecked",
            api.urn,
        )
        return
    schemes, top = _schemes(document), document.get("security")
    open_routes: list[str] = []
    functions: list[str] = []
    for path, item in paths.items():
        if not is_mapping(item):
            continue
        for verb, operation in item.items():
            if _lower(verb) not in (*OPERATIONS, ANY_METHOD) or not is_mapping(operation):
                continue
            function = _operation_function(operation)
            if function is None or _authorised(operation, top, schemes):
                continue
            open_routes.append(f"{'ANY' if _lower(verb) == ANY_METHOD else verb.upper()} {path}")
            if function not in functions:
                functions.append(function)
    if open_routes:
        routes = _quoted(open_routes)
        has, invoke = ("has", "invokes") if len(open_routes) == 1 else ("have", "invoke")
        yield violation(
            f"REST API {api.name}'s OpenAPI body: {routes} {has} no authorization (no security "
            f"requirement naming an authorizer, no x-amazon-apigateway-auth) and {invoke} "
            f"{_quoted(functions)}: anyone with the URL runs the function (an API key "
            f"identifies a client, it authorises none); {AUTHORIZATION_FIX}",
            api.urn,
        )
