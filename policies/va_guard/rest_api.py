"""API Gateway REST APIs (v1) in front of a function: no method without authorization (part of
va-stack).

A REST API's method (``apigateway.Method``) says who may call it (``authorization``); its
integration (``apigateway.Integration``, a separate resource) says what it calls. A method with
``authorization: NONE`` whose integration invokes a Lambda function lets anyone with the URL run
the function (and its bill); an API key (``apiKeyRequired``) identifies a client, it does not
authorise one. Judging it needs both resources, so it is a stack rule: the integration finds its
method through the engine's propertyDependencies (``httpMethod = method.http_method``), or by
the same REST API, resource and HTTP method.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .framework import Finding, Resource, unchecked, violation
from .props import UNKNOWN
from .tables import FUNCTION_TYPE

METHOD_TYPE = "aws:apigateway/method:Method"
INTEGRATION_TYPE = "aws:apigateway/integration:Integration"
ALIAS_TYPE = "aws:lambda/alias:Alias"
# AWS_PROXY integrations are Lambda proxy integrations; AWS ones call a service, Lambda among them.
LAMBDA_INTEGRATION_TYPES = ("AWS_PROXY", "AWS")
LAMBDA_URI_MARK = ":lambda:path/"
KEYS = ("restApi", "resourceId", "httpMethod")


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
