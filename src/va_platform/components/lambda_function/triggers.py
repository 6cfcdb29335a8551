"""What can start a VA Lambda besides a direct invoke (``triggers:``): a schedule, a queue, an
EventBridge rule, objects created in a bucket of the stack, or an HTTPS function URL.

Each trigger is data first (validated with the function's spec, before any resource exists) and
then a few resources the VaLambda creates beside the function, each with exactly the permission
it needs: a schedule gets its own role that may invoke only this function (its ``live`` alias
when published) and send failed deliveries to the function's DLQ; a queue trigger reads one queue
(the function's own work queue, encrypted and redriven to a DLQ of its own, or an existing
queue's ARN) and the function's role gets exactly the receive/delete actions on it; an events
rule may invoke it through a ``lambda.Permission`` naming that rule's ARN and the account; so may
S3 for the one bucket a bucket trigger names (the notification itself is the bucket's: S3 keeps
one per bucket, so the stack gathers every function's into it, and refuses filters S3 would find
ambiguous); a function URL takes only SigV4-signed calls (``AWS_IAM``), never anonymous ones.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import combinations
from typing import Annotated, Any, ClassVar, Final, Literal
from urllib.parse import quote_plus

from pydantic import AfterValidator, Field, model_validator

from va_platform import standard
from va_platform.components.model import ArnInput, InRange, VaModel, is_known

# EventBridge Scheduler's expression forms (rate(5 minutes), cron(0 8 * * ? *), at(...)).
RATE_RE = re.compile(r"^rate\(\d+ (minute|minutes|hour|hours|day|days)\)$")
CRON_RE = re.compile(r"^cron\((\S+ ){5}\S+\)$")
BUS_NAME_RE = re.compile(r"^[A-Za-z0-9._-]{1,256}$")
ORIGIN_RE = re.compile(r"^https://[A-Za-z0-9.-]+(:\d{1,5})?$")
QUEUE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$")
# AWS: a standard queue's batch size above 10 needs a batching window of at least 1 s.
MAX_BATCH_WITHOUT_WINDOW = 10
# S3's object-created event types; the wildcard covers the others.
OBJECT_CREATED: Final = "s3:ObjectCreated:*"
ObjectCreatedEvent = Literal[
    "s3:ObjectCreated:*",
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
]
KEY_FILTER_MAX_CHARS = 1024  # S3: an object key is at most 1,024 bytes
# S3 matches key filters against the URL-encoded key: its safe characters as they are (letters,
# digits, !-_.'() and /; '*' is refused as a wildcard), a space as '+', others as %XX.
KEY_FILTER_RE = re.compile(r"^(?:[A-Za-z0-9!_.'()/+-]|%[0-9A-Fa-f]{2})*$")


class ScheduleTrigger(VaModel):
    """Runs the function on a schedule (EventBridge Scheduler)."""

    kind: Literal["schedule"] = Field(description="`schedule`.")
    expression: str = Field(
        description="`rate(<n> minutes|hours|days)` or `cron(<6 fields>)`, as EventBridge "
        "Scheduler reads it."
    )
    timezone: str = Field(default="UTC", description="IANA time zone a cron expression runs in.")
    flexible_window_minutes: Annotated[int, AfterValidator(InRange(0, 1440, "minutes"))] = Field(
        default=0,
        description="Let the scheduler start up to this many minutes late (spreads load); 0: "
        "exactly on time.",
    )
    retries: Annotated[int, AfterValidator(InRange(0, 185, "retries"))] = Field(
        default=2, description="Delivery retries before the event goes to the function's DLQ."
    )

    @model_validator(mode="after")
    def _expression(self) -> ScheduleTrigger:
        if not (RATE_RE.match(self.expression) or CRON_RE.match(self.expression)):
            raise ValueError(
                f"schedule expression {self.expression!r} is not rate(<n> minutes|hours|days) "
                "or cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>)"
            )
        return self


class QueueTrigger(VaModel):
    """Feeds the function batches from an SQS queue (an event source mapping)."""

    kind: Literal["queue"] = Field(description="`queue`.")
    queue_arn: ArnInput | None = Field(
        default=None,
        description="An existing queue's ARN; unset: the function gets its own encrypted work "
        "queue va-<env>-<purpose>-queue, redriven to va-<env>-<purpose>-queue-dlq.",
    )
    batch_size: Annotated[int, AfterValidator(InRange(1, 10000, "messages"))] = Field(
        default=10, description="Messages per invocation at most."
    )
    batching_window_s: Annotated[int, AfterValidator(InRange(0, 300, "seconds"))] = Field(
        default=0, description="Seconds to gather a batch; needed (>= 1) above 10 messages."
    )
    max_concurrency: Annotated[int, AfterValidator(InRange(2, 1000, "invocations"))] | None = Field(
        default=None, description="Invocations this queue may run at once; unset: no cap."
    )
    max_receives: Annotated[int, AfterValidator(InRange(1, 1000, "receives"))] = Field(
        default=3, description="Receives of a message before its own queue moves it to the DLQ."
    )

    @model_validator(mode="after")
    def _batching(self) -> QueueTrigger:
        if self.batch_size > MAX_BATCH_WITHOUT_WINDOW and self.batching_window_s < 1:
            raise ValueError(
                f"batchSize {self.batch_size} needs batchingWindowS of at least 1 (AWS allows "
                f"more than {MAX_BATCH_WITHOUT_WINDOW} messages only with a batching window)"
            )
        if is_known(self.queue_arn) and not QUEUE_ARN_RE.match(self.queue_arn):
            raise ValueError(
                f"queueArn {self.queue_arn!r} is not an SQS queue ARN "
                "(arn:aws:sqs:<region>:<account>:<name>)"
            )
        return self

    @property
    def owns_queue(self) -> bool:
        return self.queue_arn is None


class EventsTrigger(VaModel):
    """Runs the function for events matching a pattern on an EventBridge bus."""

    kind: Literal["events"] = Field(description="`events`.")
    pattern: dict[str, Any] = Field(
        description="The EventBridge event pattern (e.g. `{source: [aws.s3]}`); must not be empty."
    )
    bus: str = Field(default="default", description="Name of the event bus the rule watches.")
    retries: Annotated[int, AfterValidator(InRange(0, 185, "retries"))] = Field(
        default=2, description="Delivery retries before the event goes to the function's DLQ."
    )

    @model_validator(mode="after")
    def _pattern(self) -> EventsTrigger:
        if not self.pattern:
            raise ValueError("events pattern is empty: it would match every event on the bus")
        if not BUS_NAME_RE.match(self.bus):
            raise ValueError(f"bus {self.bus!r} is not an event bus name (letters, digits, ._-)")
        return self


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
    def _issuer(self) -> JwtAuthorizer:
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
    def _origins(self) -> HttpTrigger:
        bad = [o for o in self.allow_origins if o != "*" and not ORIGIN_RE.match(o)]
        if bad:
            raise ValueError(f"allowOrigins {', '.join(bad)}: origins are https://<host>[:port]")
        if "*" in self.allow_origins and len(self.allow_origins) > 1:
            raise ValueError("allowOrigins: '*' already allows every origin; list it alone")
        if self.allow_credentials and not self.allow_origins:
            raise ValueError("allowCredentials is a CORS setting: list allowOrigins too")
        if self.allow_credentials and "*" in self.allow_origins + self.allow_headers:
            raise ValueError(
                "allowCredentials with '*' in allowOrigins or allowHeaders: browsers refuse "
                "credentials on a wildcard answer (and it would let any site call with the "
                "user's cookies); name the origins and headers"
            )
        return self

    @model_validator(mode="after")
    def _via(self) -> HttpTrigger:
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


class BucketTrigger(VaModel):
    """Runs the function for each object created in a bucket of the stack (an S3 notification)."""

    kind: Literal["bucket"] = Field(description="`bucket`.")
    bucket: Annotated[str, AfterValidator(standard.validate_purpose)] = Field(
        default="content",
        description="The stack's bucket, by purpose: `content` (va-<env>-content-bucket). The "
        "artifacts bucket holds the stack's own code and is refused.",
    )
    prefix: str = Field(
        default="",
        max_length=KEY_FILTER_MAX_CHARS,
        description="Only keys that start with this (e.g. `uploads/`), URL-encoded as S3 "
        "compares it (`year%3D2024/` for `year=2024/`, a space as `+`); empty: every key.",
    )
    suffix: str = Field(
        default="",
        max_length=KEY_FILTER_MAX_CHARS,
        description="Only keys that end with this (e.g. `.json`), URL-encoded as the prefix; "
        "empty: every key.",
    )
    events: tuple[ObjectCreatedEvent, ...] = Field(
        default=(OBJECT_CREATED,),
        description="Object-created event types: `s3:ObjectCreated:*` (every way), or some of "
        "`:Put`, `:Post`, `:Copy`, `:CompleteMultipartUpload` (at least one).",
    )

    @model_validator(mode="after")
    def _filters(self) -> BucketTrigger:
        for key, value in (("prefix", self.prefix), ("suffix", self.suffix)):
            if "*" in value or "?" in value:
                raise ValueError(
                    f"{key} {value!r}: S3 key filters are literal text, not wildcards (a "
                    f"{key} of '*.json' matches no key); write e.g. "
                    f"{'uploads/' if key == 'prefix' else '.json'!r}"
                )
            if not KEY_FILTER_RE.match(value):
                encoded = quote_plus(value, safe="/!'()").replace("~", "%7E")
                raise ValueError(
                    f"{key} {value!r}: S3 compares key filters with the URL-encoded key, so this "
                    f"one never matches; write it URL-encoded, {encoded!r} (a space as '+', "
                    "characters other than letters, digits, !-_.'() and / as %XX)"
                )
        if not self.events:
            raise ValueError(f"events: list at least one, e.g. {OBJECT_CREATED}")
        if len(set(self.events)) != len(self.events):
            raise ValueError(f"events {', '.join(self.events)}: each event type may appear once")
        if OBJECT_CREATED in self.events and len(self.events) > 1:
            raise ValueError(
                f"events: {OBJECT_CREATED} already covers {', '.join(self.events[1:])}; "
                "list either the wildcard or the types you want"
            )
        return self

    def overlaps(self, other: BucketTrigger) -> bool:
        """Whether S3 would find the two ambiguous on one bucket ("Configuration is ambiguously
        defined"): a common event type, and one object key that both filters match (one prefix
        starts the other and one suffix ends the other)."""
        return (
            self.bucket == other.bucket
            and (self.prefix.startswith(other.prefix) or other.prefix.startswith(self.prefix))
            and (self.suffix.endswith(other.suffix) or other.suffix.endswith(self.suffix))
            and any(_events_overlap(a, b) for a in self.events for b in other.events)
        )

    def described(self) -> str:
        keys = " ".join(
            f"{k} {v!r}" for k, v in (("prefix", self.prefix), ("suffix", self.suffix)) if v
        )
        return f"{', '.join(self.events)} of {keys or 'every key'}"


def _events_overlap(a: str, b: str) -> bool:
    return a == b or OBJECT_CREATED in (a, b)


def overlapping_bucket_triggers(owned: Sequence[tuple[str, BucketTrigger]]) -> list[str]:
    """One message per pair of ``(function, trigger)`` that S3 would refuse together on one
    bucket, naming both functions; empty when every key and event goes to one function."""
    return [
        f"bucket {a.bucket}: {first}'s trigger ({a.described()}) and {second}'s "
        f"({b.described()}) match the same objects; S3 refuses overlapping filters on one bucket "
        "('Configuration is ambiguously defined'): give them prefixes or suffixes no key "
        "matches both of, or different event types"
        for (first, a), (second, b) in combinations(owned, 2)
        if a.overlaps(b)
    ]


# Lambda keeps a function's resource policy under 20 KB; each permission (an HTTP API route, an
# events rule, a bucket) is a statement of about 420 characters: some 45 fit, 40 leave room for
# long paths and names.
MAX_INVOKE_PERMISSIONS = 40


def _invoke_permissions(triggers: Sequence[AnyTrigger]) -> int:
    """Statements the function's resource policy gets: one per route, rule and bucket."""
    routes = sum(
        len(t.routes) + t.default_route
        for t in triggers
        if isinstance(t, HttpTrigger) and t.via == "api"
    )
    rules = sum(isinstance(t, EventsTrigger) for t in triggers)
    buckets = len({t.bucket for t in triggers if isinstance(t, BucketTrigger)})
    return routes + rules + buckets


AnyTrigger = ScheduleTrigger | QueueTrigger | EventsTrigger | BucketTrigger | HttpTrigger
Trigger = Annotated[AnyTrigger, Field(discriminator="kind")]


def check_triggers(triggers: tuple[AnyTrigger, ...], owner: str = "this function") -> None:
    """Refuse combinations that cannot work, before any resource is registered."""
    for via, what in (("url", "one function URL"), ("api", "one HTTP API")):
        if sum(isinstance(t, HttpTrigger) and t.via == via for t in triggers) > 1:
            raise ValueError(
                f"triggers: a function has {what}; list one http trigger with via: {via}"
            )
    own = [t for t in triggers if isinstance(t, QueueTrigger) and t.owns_queue]
    if len(own) > 1:
        raise ValueError("triggers: a function has one work queue; list one queue trigger "
                         "without queueArn")  # fmt: skip
    arns = [t.queue_arn for t in triggers if isinstance(t, QueueTrigger) and is_known(t.queue_arn)]
    repeated = sorted({a for a in arns if arns.count(a) > 1})
    if repeated:
        raise ValueError(f"triggers: queue {', '.join(repeated)} is listed more than once")
    permissions = _invoke_permissions(triggers)
    if permissions > MAX_INVOKE_PERMISSIONS:
        raise ValueError(
            f"triggers: {permissions} HTTP API routes, events rules and buckets, each a statement "
            "of the function's resource policy, which Lambda keeps under 20 KB (at most "
            f"{MAX_INVOKE_PERMISSIONS} here); serve paths with a greedy route (e.g. "
            "'ANY /items/{proxy+}') or split the function"
        )
    buckets = [(owner, t) for t in triggers if isinstance(t, BucketTrigger)]
    overlapping = overlapping_bucket_triggers(buckets)
    if overlapping:
        raise ValueError("triggers: " + "; ".join(overlapping))
