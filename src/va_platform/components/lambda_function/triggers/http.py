"""``kind: http``: an HTTPS endpoint, the function's own URL (``via: url``) or routes of an API
Gateway HTTP API of its own (``via: api``). A function URL takes only SigV4-signed calls
(``AWS_IAM``), never anonymous ones; API routes are signed or JWT-authorized, and the function
admits exactly those routes."""

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

import pulumi
import pulumi_aws as aws
from pydantic import AfterValidator, Field, model_validator

from va_platform.components.lambda_function.triggers.base import (
    PlanLines,
    TriggerKind,
    account_of,
    qualifier,
)
from va_platform.components.model import InRange, VaModel

if TYPE_CHECKING:
    from va_platform.components.lambda_function.component import VaLambda

# A CORS origin: https://<host>[:port].
ORIGIN_RE = re.compile(r"^https://[A-Za-z0-9.-]+(:\d{1,5})?$")

# An HTTP API route key: "<METHOD> <path>", the path's segments literal, {param} or a last
# greedy {param+}.
ROUTE_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "ANY")
LITERAL_SEGMENT_RE = re.compile(r"^[A-Za-z0-9._~-]+$")
PARAM_SEGMENT_RE = re.compile(r"^\{[A-Za-z_][A-Za-z0-9_]*\}$")
GREEDY_SEGMENT_RE = re.compile(r"^\{[A-Za-z_][A-Za-z0-9_]*\+\}$")
DEFAULT_ROUTE = "$default"
ISSUER_RE = re.compile(r"^https://[A-Za-z0-9.-]+(:\d{1,5})?(/[A-Za-z0-9._~%/-]*)?$")
# AWS's ceilings for an HTTP API stage's route throttling; API Gateway stops waiting for an
# integration after 30 s.
MAX_THROTTLE_BURST = 5000
MAX_THROTTLE_RATE = 10000
API_TIMEOUT_MAX_S = 30


def parse_route(key: str) -> tuple[str, str]:
    """``"POST /drafts/{id}"`` -> ``("POST", "/drafts/{id}")``, or ValueError saying what is
    wrong with the key."""
    method, _, path = key.partition(" ")
    if key == DEFAULT_ROUTE:
        raise ValueError(
            f"route {key!r}: the catch-all route sends every unmatched request to the function; "
            "set defaultRoute: true to ask for it"
        )
    if method not in ROUTE_METHODS or not path.startswith("/"):
        raise ValueError(
            f"route {key!r} is not '<METHOD> /<path>' with METHOD one of "
            f"{', '.join(ROUTE_METHODS)} (e.g. 'POST /drafts')"
        )
    if path == "/":
        return method, path
    segments = path[1:].split("/")
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if GREEDY_SEGMENT_RE.match(segment) and not last:
            raise ValueError(f"route {key!r}: a greedy {segment} must be the last segment")
        if not (
            LITERAL_SEGMENT_RE.match(segment)
            or PARAM_SEGMENT_RE.match(segment)
            or GREEDY_SEGMENT_RE.match(segment)
        ):
            raise ValueError(
                f"route {key!r}: segment {segment!r} is not literal text (letters, digits, "
                "._~-), a {param} or a last {param+}; no empty segments or trailing '/'"
            )
    return method, path


def _route_shape(key: str) -> tuple[str, str]:
    """What API Gateway tells routes apart by: method and path, parameter names aside."""
    method, path = parse_route(key)
    return method, re.sub(r"\{[^}]*?(\+?)\}", r"{\1}", path)


class JwtAuthorizer(VaModel):
    """Callers present a JWT from this issuer, for one of these audiences (API Gateway checks the
    signature against the issuer's published keys)."""

    issuer: str = Field(
        description="The token issuer, an https URL (e.g. https://cognito-idp.<region>."
        "amazonaws.com/<pool id>)."
    )
    audiences: tuple[str, ...] = Field(
        min_length=1, description="Accepted `aud` (or client id) values; at least one."
    )
    scopes: tuple[str, ...] = Field(
        default=(), description="Scopes a token must carry on every route; none: any scope."
    )

    @model_validator(mode="after")
    def _issuer(self) -> "JwtAuthorizer":
        if not ISSUER_RE.match(self.issuer):
            raise ValueError(f"jwt.issuer {self.issuer!r}: an issuer is an https:// URL")
        if any(not a.strip() for a in self.audiences):
            raise ValueError("jwt.audiences: an audience may not be empty")
        return self


class HttpTrigger(VaModel):
    """An HTTPS endpoint: the function's own URL (`via: url`), or routes of an API Gateway HTTP
    API of its own (`via: api`). Signed requests only (AWS_IAM), or a JWT on API routes."""

    kind: Literal["http"] = Field(description="`http`.")
    via: Literal["url", "api"] = Field(
        default="url",
        description="`url`: a Lambda function URL. `api`: an HTTP API va-<env>-<purpose>-api "
        "with the listed routes, access logs and throttling.",
    )
    routes: tuple[str, ...] = Field(
        default=(),
        description="With via: api, the route keys, `<METHOD> /<path>` (GET, POST, PUT, PATCH, "
        "DELETE, ANY; segments literal, `{param}`, or a last `{param+}`).",
    )
    default_route: bool = Field(
        default=False,
        description="With via: api, also the catch-all `$default` route (every request no "
        "route matches).",
    )
    jwt: JwtAuthorizer | None = Field(
        default=None,
        description="With via: api, a JWT authorizer on every route instead of AWS_IAM.",
    )
    throttle_burst: Annotated[int, AfterValidator(InRange(1, MAX_THROTTLE_BURST, "requests"))] = (
        Field(
            default=100,
            description="With via: api, requests a route may take at once (0 "
            "would refuse every request).",
        )
    )
    throttle_rate: Annotated[
        int, AfterValidator(InRange(1, MAX_THROTTLE_RATE, "requests per second"))
    ] = Field(default=50, description="With via: api, steady requests per second per route.")
    allow_origins: tuple[str, ...] = Field(
        default=(), description="CORS origins allowed to call it from a browser; none: no CORS."
    )
    allow_methods: tuple[Literal["GET", "POST", "PUT", "PATCH", "DELETE", "*"], ...] = Field(
        default=("POST",), description="CORS methods."
    )
    allow_headers: tuple[str, ...] = Field(
        default=(), description="CORS request headers a browser may send (e.g. authorization)."
    )
    allow_credentials: bool = Field(
        default=False, description="CORS: let browsers send cookies and authorization headers."
    )
    max_age_s: Annotated[int, AfterValidator(InRange(0, 86400, "seconds"))] = Field(
        default=0, description="How long browsers may cache a CORS preflight answer."
    )

    API_ONLY: ClassVar[tuple[str, ...]] = (
        "routes", "default_route", "jwt", "throttle_burst", "throttle_rate",
    )  # fmt: skip

    @model_validator(mode="after")
    def _origins(self) -> "HttpTrigger":
        bad = [o for o in self.allow_origins if o != "*" and not ORIGIN_RE.match(o)]
        if bad:
            raise ValueError(f"allowOrigins {', '.join(bad)}: origins are https://<host>[:port]")
        if "*" in self.allow_origins and len(self.allow_origins) > 1:
            raise ValueError("allowOrigins: '*' already allows every origin; list it alone")
        cors_only = [
            HttpTrigger.model_fields[f].alias or f
            for f in ("allow_methods", "allow_headers", "allow_credentials", "max_age_s")
            if f in self.model_fields_set
        ]
        if cors_only and not self.allow_origins:
            raise ValueError(
                f"{', '.join(cors_only)}: CORS settings apply only with allowOrigins, so "
                "list allowOrigins too (or leave them out)"
            )
        if self.allow_credentials and "*" in self.allow_origins + self.allow_headers:
            raise ValueError(
                "allowCredentials with '*' in allowOrigins or allowHeaders: browsers refuse "
                "credentials on a wildcard answer (and it would let any site call with the "
                "user's cookies); name the origins and headers"
            )
        return self

    @model_validator(mode="after")
    def _via(self) -> "HttpTrigger":
        if self.via == "url":
            # Field names, as the stack file spells them.
            given = [
                HttpTrigger.model_fields[f].alias or f
                for f in self.API_ONLY
                if f in self.model_fields_set
            ]
            if given:
                raise ValueError(f"{', '.join(given)} apply to via: api only (this is via: url)")
            return self
        if not self.routes and not self.default_route:
            raise ValueError("via: api needs routes (e.g. ['POST /drafts']) or defaultRoute: true")
        if (
            self.jwt is not None
            and self.allow_origins
            and "*" not in self.allow_headers
            and "authorization" not in {h.lower() for h in self.allow_headers}
        ):
            raise ValueError(
                "a JWT API with CORS: allowHeaders needs authorization (browsers send the token "
                "in that header, and the CORS preflight refuses a header it does not list)"
            )
        shapes = [_route_shape(key) for key in self.routes]
        repeated = sorted(
            {key for key, shape in zip(self.routes, shapes, strict=True) if shapes.count(shape) > 1}
        )
        if repeated:
            raise ValueError(
                f"routes {', '.join(repeated)}: the same method and path more than once "
                "(parameter names do not tell routes apart)"
            )
        return self

    @property
    def authorization(self) -> str:
        return "JWT" if self.jwt is not None else "AWS_IAM"


# An HTTP API's access log line: who called which route, how it ended, and why it failed.
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "requestTime": "$context.requestTime",
        "sourceIp": "$context.identity.sourceIp",
        "caller": "$context.identity.userArn",
        "userAgent": "$context.identity.userAgent",
        "routeKey": "$context.routeKey",
        "status": "$context.status",
        "protocol": "$context.protocol",
        "responseLength": "$context.responseLength",
        "integrationLatency": "$context.integrationLatency",
        "integrationError": "$context.integrationErrorMessage",
        "authorizerError": "$context.authorizer.error",
    }
)


def route_source(route_key: str) -> str:
    """What follows an HTTP API's execution ARN in the source ARN API Gateway invokes a route's
    integration with: ``/<stage>/<method>/<path>``, any stage, ANY as ``*``."""
    if route_key == DEFAULT_ROUTE:
        return f"/*/{DEFAULT_ROUTE}"
    method, path = parse_route(route_key)
    return f"/*/{'*' if method == 'ANY' else method}{path}"


@dataclass(frozen=True)
class HttpApi:
    """What a ``via: api`` trigger made."""

    api: aws.apigatewayv2.Api
    routes: list[aws.apigatewayv2.Route]
    stage: aws.apigatewayv2.Stage
    log_group: aws.cloudwatch.LogGroup


def _cors(http: HttpTrigger) -> dict[str, Any] | None:
    """A function URL's and an HTTP API's CORS settings (the same fields); None: no CORS."""
    if not http.allow_origins:
        return None
    return {
        "allow_origins": list(http.allow_origins),
        "allow_methods": list(http.allow_methods),
        "allow_headers": list(http.allow_headers) or None,
        "allow_credentials": http.allow_credentials or None,
        "max_age": http.max_age_s or None,
    }


def _throttle(settings: Mapping[str, Any], shown: Any) -> str | None:
    burst, rate = settings.get("throttlingBurstLimit"), settings.get("throttlingRateLimit")
    if burst is None and rate is None:
        return None

    def number(n: Any) -> Any:
        return f"{n:g}" if isinstance(n, int | float) else shown(n)

    return f"burst {number(burst)}, {number(rate)}/s"


PLAN: Mapping[str, PlanLines] = {
    "aws:lambda/functionUrl:FunctionUrl": lambda i, shown: {"auth": i.get("authorizationType")},
    "aws:apigatewayv2/api:Api": lambda i, shown: {
        "protocol": i.get("protocolType"),
        "cors origins": (i.get("corsConfiguration") or {}).get("allowOrigins"),
    },
    "aws:apigatewayv2/route:Route": lambda i, shown: {
        "route": i.get("routeKey"),
        "auth": i.get("authorizationType"),
    },
    "aws:apigatewayv2/authorizer:Authorizer": lambda i, shown: {
        "type": i.get("authorizerType"),
        "issuer": (i.get("jwtConfiguration") or {}).get("issuer"),
    },
    "aws:apigatewayv2/stage:Stage": lambda i, shown: {
        "throttle": _throttle(i.get("defaultRouteSettings") or {}, shown),
        "access logs": shown((i.get("accessLogSettings") or {}).get("destinationArn")),
    },
}


class HttpKind(TriggerKind[HttpTrigger]):
    """`via: url`: a function URL (AWS_IAM). `via: api`: an HTTP API `va-<env>-<purpose>-api`,
    its routes (AWS_IAM or a JWT authorizer) with a permission each, and a `$default` stage
    with JSON access logs (`va-<env>-<purpose>-api-logs`) and throttling."""

    model = HttpTrigger
    attributes = ("function_url", "http_api")
    plan: ClassVar[Mapping[str, PlanLines]] = PLAN
    permission_unit = "HTTP API routes"

    def check(self, triggers: Sequence[HttpTrigger], owner: str) -> None:
        for via, what in (("url", "one function URL"), ("api", "one HTTP API")):
            if sum(t.via == via for t in triggers) > 1:
                raise ValueError(
                    f"triggers: a function has {what}; list one http trigger with via: {via}"
                )

    def invoke_permissions(self, triggers: Sequence[HttpTrigger]) -> int:
        return sum(len(t.routes) + t.default_route for t in triggers if t.via == "api")

    def build(self, fn: "VaLambda", triggers: Sequence[HttpTrigger]) -> dict[str, Any]:
        url = next((t for t in triggers if t.via == "url"), None)
        api = next((t for t in triggers if t.via == "api"), None)
        return {
            "function_url": self._function_url(fn, url) if url else None,
            "http_api": self._http_api(fn, api) if api else None,
        }

    def _function_url(self, fn: "VaLambda", http: HttpTrigger) -> aws.lambda_.FunctionUrl:
        """Signed (AWS_IAM) calls only: a caller needs lambda:InvokeFunctionUrl on it."""
        cors = _cors(http)
        return aws.lambda_.FunctionUrl(
            f"{fn._name}-url",
            function_name=fn.function.name,
            qualifier=qualifier(fn),
            authorization_type="AWS_IAM",
            cors=aws.lambda_.FunctionUrlCorsArgs(**cors) if cors else None,
            opts=fn.child_opts(),
        )

    def _http_api(self, fn: "VaLambda", http: HttpTrigger) -> HttpApi:
        """An HTTP API of the function's own (``via: api``): each route signed (AWS_IAM) or
        JWT-authorized, proxied to the function (its alias) with payload 2.0; the function admits
        exactly those routes (one permission per route: sourceArn ``<api>/*/<method>/<path>``);
        the $default stage deploys itself, logs each request as JSON to its own log group and
        throttles every route."""
        spec = fn._args.spec
        api_name = fn._physical("api")
        api = aws.apigatewayv2.Api(
            f"{fn._name}-api",
            name=api_name,
            protocol_type="HTTP",
            description=f"HTTP routes of {fn.function_name}",
            cors_configuration=(
                aws.apigatewayv2.ApiCorsConfigurationArgs(**cors) if (cors := _cors(http)) else None
            ),
            tags=fn._tags(api_name),
            opts=fn.child_opts(),
        )
        authorizer = None
        if http.jwt is not None:
            authorizer = aws.apigatewayv2.Authorizer(
                f"{fn._name}-api-authorizer",
                api_id=api.id,
                name=fn._physical("api-authorizer"),
                authorizer_type="JWT",
                identity_sources=["$request.header.Authorization"],
                jwt_configuration={
                    "issuer": http.jwt.issuer,
                    "audiences": list(http.jwt.audiences),
                },
                opts=fn.child_opts(),
            )
        integration = aws.apigatewayv2.Integration(
            f"{fn._name}-api-integration",
            api_id=api.id,
            integration_type="AWS_PROXY",
            integration_method="POST",
            integration_uri=fn.invoke_arn,
            payload_format_version="2.0",
            timeout_milliseconds=min(spec.timeout, API_TIMEOUT_MAX_S) * 1000,
            opts=fn.child_opts(),
        )
        account = account_of(fn)
        keys = [*http.routes, *([DEFAULT_ROUTE] if http.default_route else [])]
        routes = []
        for i, key in enumerate(keys):
            routes.append(
                aws.apigatewayv2.Route(
                    f"{fn._name}-api-route-{i + 1}",
                    api_id=api.id,
                    route_key=key,
                    target=pulumi.Output.concat("integrations/", integration.id),
                    authorization_type=http.authorization,
                    authorizer_id=authorizer.id if authorizer else None,
                    authorization_scopes=list(http.jwt.scopes) if http.jwt else None,
                    opts=fn.child_opts(),
                )
            )
            aws.lambda_.Permission(
                f"{fn._name}-api-route-{i + 1}-permission",
                function=fn.function.name,
                qualifier=qualifier(fn),
                action="lambda:InvokeFunction",
                principal="apigateway.amazonaws.com",
                source_arn=pulumi.Output.concat(api.execution_arn, route_source(key)),
                source_account=account,
                opts=fn.child_opts(),
            )
        log_name = fn._physical("api-logs")
        logs = aws.cloudwatch.LogGroup(
            f"{fn._name}-api-logs",
            name=log_name,
            retention_in_days=spec.log_retention_days or fn._args.log_retention_days,
            kms_key_id=fn._kms_key_arn,
            tags=fn._tags(log_name),
            opts=fn.child_opts(),
        )
        stage = aws.apigatewayv2.Stage(
            f"{fn._name}-api-stage",
            api_id=api.id,
            name="$default",
            auto_deploy=True,
            access_log_settings={"destination_arn": logs.arn, "format": ACCESS_LOG_FORMAT},
            default_route_settings={
                "throttling_burst_limit": http.throttle_burst,
                "throttling_rate_limit": http.throttle_rate,
            },
            tags=fn._tags(fn._physical("api-stage")),
            opts=fn.child_opts(),
        )
        return HttpApi(api=api, routes=routes, stage=stage, log_group=logs)


HTTP = HttpKind()
