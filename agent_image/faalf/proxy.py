"""The only door to the model: a key-injecting, metering, refusing forwarder on 127.0.0.1.

Claude Code's Bash tool runs as the same user with Claude's environment, and Lambda cannot run
the bubblewrap that ``CLAUDE_CODE_SUBPROCESS_ENV_SCRUB`` needs. So the CLI never holds the real
key: it gets a per-invocation token as ``ANTHROPIC_API_KEY`` and this proxy (inside the handler
process) as ``ANTHROPIC_BASE_URL``; the proxy swaps the token for the real key on the way out
(the pattern of Anthropic's secure-deployment guidance).

The agent can read that token and call the proxy itself, so every guardrail that matters is
enforced here, not in the CLI's flags: only ``POST /v1/messages`` and
``/v1/messages/count_tokens`` (no batches, files or admin APIs, whose work would outlive the
invocation), only the invocation's allowed models, ``max_tokens`` capped and never above what
the remaining budget can pay for, and every response metered (``usage`` of JSON responses, of
streamed ``message_start`` and ``message_delta`` events) at the model's price. Once the
invocation's budget is spent, requests are refused. The token dies with its invocation, and a
stream still running then is cut.

Every cost is handed to the session's ``on_spend`` (the handler writes it as the cost metric)
as soon as the proxy learns it, before the bytes that told it go on to the agent: what the
agent has seen of a response is already recorded, even if it kills the handler next.

Responses are streamed through chunk by chunk: Claude Code reads server-sent events. Each
connection from the CLI keeps one upstream connection alive, so a session pays the TLS handshake
to the API once, not once per request.
"""

from __future__ import annotations

import functools
import hmac
import http.client
import json
import math
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from faalf import bedrock, children
from faalf.loopback import LoopbackServer
from faalf.pricing import Price, UnpricedError, check_request, grows_its_input, price_of

# Headers that belong to one hop, plus the credentials we replace.
HOP_HEADERS = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
     "transfer-encoding", "upgrade", "host", "content-length", "accept-encoding"}
)  # fmt: skip
CREDENTIAL_HEADERS = frozenset({"x-api-key", "authorization"})
MESSAGES = "/v1/messages"
METERED_PATHS = frozenset({MESSAGES})
ALLOWED_PATHS = frozenset({MESSAGES, "/v1/messages/count_tokens"})
CHILD_PATH = "/faalf/v1/invoke"  # the handler's endpoint for faalf-invoke inside the agent
UPSTREAM_TIMEOUT_S = 600
CHUNK = 64 * 1024
MAX_BODY = 32 * 1024 * 1024
MAX_JSON_RESPONSE = 16 * 1024 * 1024
# How long a request waits for admission while others' input is not known yet (their
# message_start, normally a second or two away); then it is refused with a 429 (the CLI retries).
ADMIT_WAIT_S = 120
MIN_CHILD_USD = 0.01  # the least a child agent is started with


class DuplicateKeyError(ValueError):
    """A JSON object names a key twice (parsers disagree on which value wins)."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise DuplicateKeyError(f"the body names {key!r} twice")
        found[key] = value
    return found


class RefusedError(Exception):
    """A request the proxy does not forward: an HTTP status and an Anthropic-style error."""

    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind

    def payload(self) -> bytes:
        error = {"type": self.kind, "message": f"FAALF proxy: {self}"}
        return json.dumps({"type": "error", "error": error}).encode()


def _no_metric(usd: float) -> None:
    """A session nobody reports the spend of (the default of a bare ``Session``)."""


@dataclass(eq=False)
class Charge:
    """One metered request: the worst-case output held against the budget until it settles,
    the worst-case input held until the input is known, and the cost recorded for it so far
    (spent, and handed to ``on_spend``)."""

    reservation: float
    recorded: float = 0.0
    settled: bool = False
    input_reserved: float = 0.0  # > 0 while its input is not known
    input_grows: bool = False  # a server tool adds to its input until the response ends


@dataclass
class Session:
    """One invocation's door: its token, its allow-list, its budget and what it has spent.

    ``spent_usd`` is the sum of what was handed to ``on_spend``: the cost metric and the
    reported cost are one count. A request still in flight when the session closes is charged
    its reservation then (it may complete upstream later: counted at its worst case, not at 0).

    **The input of a request is known only once its response starts** (``message_start``, or a
    JSON response's end), and the API bills it whatever ``max_tokens`` says: requests sent
    together with ``max_tokens`` 1 would each bill their whole prompt. So each request also
    reserves the most its input can cost (its context window at the dearest input rate,
    ``Price.input_cost_at_most``) until its input is known. A request whose worst case the
    budget left cannot pay for is admitted only while no other request's input is unknown, and
    waits for those otherwise: the budget is overrun by one request's input at most.
    """

    token: str
    models: frozenset[str]
    budget_usd: float
    max_output_tokens: int
    depth: int = 0
    max_depth: int = 0
    function: str = ""
    on_spend: Callable[[float], None] = field(default=_no_metric, repr=False)
    # Whether a child's cost proof is believed (``children``): else each child costs its grant.
    child_proofs: bool = False
    spent_usd: float = 0.0
    reserved_usd: float = 0.0
    children_usd: float = 0.0
    requests: int = 0
    refused: int = 0
    open: bool = True
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _in_flight: set[Charge] = field(default_factory=set, repr=False)
    _children: set[Charge] = field(default_factory=set, repr=False)
    _unknown_input: set[Charge] = field(default_factory=set, repr=False)
    unpriced: list[str] = field(default_factory=list)  # why, for each response charged so

    def __post_init__(self) -> None:
        # Signalled whenever a request's input becomes known, a charge settles or the session
        # closes: what a request waiting for admission waits on.
        self._changed = threading.Condition(self._lock)

    def admit(
        self,
        model: str,
        max_tokens: int,
        price: Price,
        input_tokens: int = 0,
        *,
        input_grows: bool = False,
        wait_s: float = ADMIT_WAIT_S,
    ) -> tuple[int, Charge]:
        """``max_tokens`` as capped, and its charge: the output cost reserved for it until it
        is metered, and the cost of up to ``input_tokens`` input tokens until its input is
        known (all that is left of the budget if its input grows as it runs).

        Reserving the worst case of requests in flight keeps parallel requests from each
        spending the same remaining budget. A request the budget left cannot pay the worst case
        of waits (up to ``wait_s``) while another request's input is not known yet, and is then
        admitted alone: it may overrun the budget by its own input, never by others' too.
        """
        per_token = price.output_per_token(input_tokens)
        worst_input = math.inf if input_grows else price.input_cost_at_most(input_tokens)
        deadline = time.monotonic() + wait_s
        with self._changed:
            while True:
                if not self.open:  # its token was found just before the invocation ended
                    raise RefusedError(401, "authentication_error", "this invocation has ended")
                left = self.left_usd()
                if left - worst_input >= per_token:  # its worst case fits beside the others'
                    affordable = math.floor((left - worst_input) / per_token)
                    break
                if not self._unknown_input:  # alone: no other input unknown
                    # Spent when not even one output token is left to pay for (the spend is
                    # summed in small increments: a float residue of the budget is no budget).
                    affordable = math.floor(left / per_token)
                    if affordable < 1:
                        self.refused += 1
                        raise RefusedError(
                            403,
                            "permission_error",
                            f"this invocation's budget of ${self.budget_usd:g} is spent",
                        )
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self.refused += 1
                    raise RefusedError(
                        429,
                        "rate_limit_error",
                        "other requests of this invocation hold its budget until their input "
                        "is known; retry",
                    )
                self._changed.wait(remaining)
            capped = min(max_tokens, self.max_output_tokens, affordable)
            charge = Charge(capped * per_token, input_grows=input_grows)
            charge.input_reserved = (
                max(left - charge.reservation, 0.0) if input_grows else worst_input
            )
            self.reserved_usd += charge.reservation + charge.input_reserved
            self._in_flight.add(charge)
            if charge.input_reserved > 0:
                self._unknown_input.add(charge)
            self.requests += 1
            return capped, charge

    def input_known(self, charge: Charge) -> None:
        """``charge``'s input is known now (recorded): its input reservation is released,
        unless a server tool may still add to the input."""
        with self._changed:
            if not charge.input_grows:
                self._release_input(charge)

    def _release_input(self, charge: Charge) -> None:
        if charge in self._unknown_input:
            self._unknown_input.discard(charge)
            self.reserved_usd = max(0.0, self.reserved_usd - charge.input_reserved)
            charge.input_reserved = 0.0
            self._changed.notify_all()

    def left_usd(self) -> float:
        return self.budget_usd - self.spent_usd - self.reserved_usd - self.children_usd

    def record(self, charge: Charge, cost: float) -> None:
        """What ``charge`` is known to cost so far: any increase is spent and reported now.

        Its reservation is held until it settles, so for that moment the budget may count
        output tokens twice: a request may be refused a moment early, never late.
        """
        with self._lock:
            increase = self._raise(charge, cost)
        self._report(increase)

    def settle(self, charge: Charge, cost: float) -> None:
        """The request ended, costing ``cost``: its reservation is released."""
        with self._lock:
            increase = self._raise(charge, cost)
            self._release(charge)
        self._report(increase)

    def close(self) -> None:
        """The invocation ended: each request still in flight is charged its reservation (its
        input's too, if that was not known yet: it went upstream, where it is billed)."""
        with self._lock:
            self.open = False
            increase = 0.0
            for charge in list(self._in_flight):
                worst = charge.recorded + charge.reservation + charge.input_reserved
                increase += self._raise(charge, worst)
                self._release(charge)
            # A child still running may spend all it was granted: a parent's proof counts it so.
            for child in list(self._children):
                child.settled = True
                self.reserved_usd = max(0.0, self.reserved_usd - child.reservation)
                self.children_usd += child.reservation
            self._children.clear()
            self._changed.notify_all()  # requests waiting for admission: refused now
        self._report(increase)

    def _report(self, increase: float) -> None:
        """Outside the lock: writing the metric may wait on the log pipe."""
        if increase > 0:
            self.on_spend(increase)

    def _raise(self, charge: Charge, cost: float) -> float:
        """Never lower: what was reported stays reported (a cost can only be added to)."""
        increase = max(0.0, cost - charge.recorded)
        charge.recorded += increase
        self.spent_usd += increase
        return increase

    def _release(self, charge: Charge) -> None:
        if not charge.settled:
            charge.settled = True
            self.reserved_usd = max(0.0, self.reserved_usd - charge.reservation)
            self._in_flight.discard(charge)
            self._release_input(charge)
            self._changed.notify_all()

    def admit_child(self) -> Charge:
        """The budget a child gets: all that is left, reserved until the child answers (or,
        if it has not when the invocation ends, charged in full)."""
        deadline = time.monotonic() + ADMIT_WAIT_S
        with self._changed:
            if self.depth + 1 > self.max_depth:
                raise RefusedError(
                    403,
                    "permission_error",
                    f"recursion limit: a child at depth {self.depth + 1} would exceed "
                    f"{self.max_depth}; do the subtask yourself",
                )
            # Requests whose input is not known yet hold their worst case: what they leave is
            # known once they start.
            while self.open and self._unknown_input and self.left_usd() < MIN_CHILD_USD:
                if not self._changed.wait(max(deadline - time.monotonic(), 0.0)):
                    break
            if not self.open:
                raise RefusedError(401, "authentication_error", "this invocation has ended")
            left = self.left_usd()
            if left < MIN_CHILD_USD:
                raise RefusedError(403, "permission_error", "no budget left for a child agent")
            charge = Charge(left)
            self.reserved_usd += left
            self._children.add(charge)
            return charge

    def settle_child(self, charge: Charge, cost: float) -> None:
        """The child answered, costing ``cost`` (its proven cost, or its whole grant)."""
        with self._lock:
            if charge.settled:
                return  # charged in full when the invocation ended
            charge.settled = True
            self._children.discard(charge)
            self.reserved_usd = max(0.0, self.reserved_usd - charge.reservation)
            self.children_usd += cost

    def note_unpriced(self, why: str) -> None:
        """A response whose usage could not be priced (charged the rest of the budget)."""
        with self._lock:
            self.unpriced.append(why)

    def refuse(self, refusal: RefusedError) -> RefusedError:
        with self._lock:
            self.refused += 1
        return refusal


class UsageMeter:
    """The ``usage`` of one response, read as it streams by (SSE) or at its end (JSON)."""

    def __init__(self, content_type: str) -> None:
        self.event_stream = bedrock.EVENT_STREAM in content_type
        self.streaming = "text/event-stream" in content_type or self.event_stream
        self._frames = bytearray()
        self.usage: dict[str, Any] | None = None
        self.complete = False
        self._pending = b""
        self._body: list[bytes] = []
        self._size = 0

    def feed(self, chunk: bytes) -> None:
        if self.event_stream:
            self._frames += chunk
            for payload in bedrock.frames(self._frames):
                event = bedrock.chunk_event(payload)
                if event is not None and (b'"usage"' in event or b"message_stop" in event):
                    self._event(event)
            return
        if not self.streaming:
            self._size += len(chunk)
            if self._size <= MAX_JSON_RESPONSE:
                self._body.append(chunk)
            return
        lines = (self._pending + chunk).split(b"\n")
        self._pending = lines.pop()
        for line in lines:
            if line.startswith(b"data:") and (b'"usage"' in line or b"message_stop" in line):
                self._event(line[5:])

    def _event(self, data: bytes) -> None:
        try:
            event = json.loads(data)
        except ValueError:
            return
        kind = event.get("type") if isinstance(event, dict) else None
        if kind == "message_start":
            usage = (event.get("message") or {}).get("usage")
            self.usage = dict(usage) if isinstance(usage, dict) else {}
        elif kind == "message_delta" and isinstance(event.get("usage"), dict):
            # Delta usage fields are cumulative: the latest value of each field wins.
            self.usage = (self.usage or {}) | {
                k: v for k, v in event["usage"].items() if v is not None
            }
        elif kind == "message_stop":
            self.complete = True

    def finish(self) -> None:
        if self.event_stream:
            return
        if self.streaming:
            self.feed(b"\n")
            return
        try:
            body = json.loads(b"".join(self._body))
        except ValueError:
            return
        if isinstance(body, dict) and isinstance(body.get("usage"), dict):
            self.usage = body["usage"]
            self.complete = True

    def known_cost(self, price: Price) -> float:
        """What the usage seen so far costs (a stream's input, from ``message_start``, say)."""
        return price.cost(self.usage or {})

    def cost(self, price: Price, max_tokens: int) -> float:
        """The metered cost; a response cut before its end is charged its full ``max_tokens``."""
        usage = dict(self.usage or {})
        if not self.complete:
            usage["output_tokens"] = max(max_tokens, usage.get("output_tokens") or 0)
        return price.cost(usage)


class Meter:
    """One forwarded request's metering: its usage read as it passes, recorded to its session.

    Only a metered request (a charge) answered 200 is billed; errors and ``count_tokens`` are
    free, and a request that never reached the upstream costs nothing.
    """

    def __init__(
        self, session: Session, charge: Charge | None, price: Price, max_tokens: int
    ) -> None:
        self.session = session
        self.charge = charge
        self.price = price
        self.max_tokens = max_tokens
        self.usage = UsageMeter("")
        self.billed = False
        self.unpriced: str | None = None  # why its usage could not be priced, once it could not

    def start(self, status: int, content_type: str) -> None:
        self.usage = UsageMeter(content_type)
        self.billed = self.charge is not None and status == 200

    def feed(self, chunk: bytes) -> None:
        self.usage.feed(chunk)
        if self.billed and self.charge is not None:
            self.session.record(
                self.charge, self._priced(lambda: self.usage.known_cost(self.price))
            )
            if self.usage.usage is not None and self.charge.input_reserved > 0:
                self.session.input_known(self.charge)  # recorded just above

    def finish(self) -> None:
        self.usage.finish()

    def settle(self) -> None:
        if self.charge is not None:
            cost = (
                self._priced(lambda: self.usage.cost(self.price, self.max_tokens))
                if self.billed
                else 0.0
            )
            if self.billed and self.usage.usage is None:
                # Cut before its input was known: billed upstream all the same, at its worst.
                cost += self.charge.input_reserved
            self.session.settle(self.charge, cost)

    def _priced(self, cost: Callable[[], float]) -> float:
        """The usage's list price; usage the proxy cannot price is charged all that is left of
        the invocation's budget (never less than list price), and the stream is then cut."""
        assert self.charge is not None
        if self.unpriced is None:
            try:
                return cost()
            except UnpricedError as exc:
                self.unpriced = str(exc)
                self.session.note_unpriced(self.unpriced)
        return self.charge.recorded + self.charge.reservation + max(self.session.left_usd(), 0.0)

    def settle_unsent(self) -> None:
        if self.charge is not None:
            self.session.settle(self.charge, 0.0)


class KeyProxy:
    """One per container; ``session()`` opens a door for the duration of one invocation."""

    def __init__(
        self,
        upstream: str,
        api_key: Callable[[], str] | None,
        invoker: Callable[[], children.Invoker] | None = None,
        signer: bedrock.Signer | None = None,
    ) -> None:
        """An Anthropic API proxy with ``api_key``; a Bedrock one with ``signer`` instead."""
        parsed = urllib.parse.urlsplit(upstream)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"upstream {upstream!r} is not an http(s) URL")
        self.upstream = parsed
        self.api_key = api_key
        self.signer = signer
        self._invoker_factory = invoker or children.lambda_invoker
        self._invoker: children.Invoker | None = None
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()
        self._http = LoopbackServer(functools.partial(ProxyHandler, proxy=self)).start()

    @property
    def url(self) -> str:
        return self._http.url

    @contextmanager
    def session(
        self,
        models: Iterable[str],
        budget_usd: float,
        max_output_tokens: int,
        *,
        on_spend: Callable[[float], None],
        depth: int = 0,
        max_depth: int = 0,
        function: str = "",
        child_proofs: bool = False,
    ) -> Iterator[Session]:
        """A door for one invocation; each cost it meters is handed to ``on_spend`` at once.
        ``child_proofs``: whether a child's cost proof can be believed (``children``)."""
        token = "faalf-session-" + secrets.token_urlsafe(24)
        session = Session(
            token, frozenset(models), budget_usd, max_output_tokens, depth, max_depth, function,
            on_spend, child_proofs,
        )  # fmt: skip
        with self._lock:
            self._sessions[token] = session
        try:
            yield session
        finally:
            with self._lock:
                self._sessions.pop(token, None)
            session.close()

    def close(self) -> None:
        self._http.close()

    def find(self, presented: str) -> Session | None:
        with self._lock:
            sessions = list(self._sessions.items())
        for token, session in sessions:
            if hmac.compare_digest(presented.encode(), token.encode()):
                return session
        return None

    def invoke_child(self, function: str, event: dict[str, Any]) -> dict[str, Any]:
        if self._invoker is None:
            self._invoker = self._invoker_factory()
        return self._invoker(function, event)

    def connection(self) -> http.client.HTTPConnection:
        host, port = self.upstream.hostname or "", self.upstream.port
        if self.upstream.scheme == "https":
            return http.client.HTTPSConnection(host, port, timeout=UPSTREAM_TIMEOUT_S)
        return http.client.HTTPConnection(host, port, timeout=UPSTREAM_TIMEOUT_S)


class ProxyHandler(BaseHTTPRequestHandler):
    """One CLI connection: each request is checked, forwarded with the key, relayed, metered."""

    protocol_version = "HTTP/1.1"
    upstream_conn: http.client.HTTPConnection | None = None

    def __init__(self, *args: Any, proxy: KeyProxy, **kwargs: Any) -> None:
        self.proxy = proxy  # before super().__init__, which handles the request at once
        super().__init__(*args, **kwargs)

    def log_message(self, format: str, *args: object) -> None:
        """Silence the stdlib's access log: the handler's logs are structured JSON."""

    def finish(self) -> None:
        if self.upstream_conn is not None:
            self.upstream_conn.close()
        super().finish()

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def _serve(self) -> None:
        body = self._body()
        if body is None:
            self._reply(413, RefusedError(413, "request_too_large", "request body too large"))
            return
        presented = self.headers.get("x-api-key") or self.headers.get(
            "authorization", ""
        ).removeprefix("Bearer ")
        if self.path.startswith(bedrock.TOKEN_PREFIX):  # Bedrock mode: /s/<token>/model/...
            presented, _, rest = self.path.removeprefix(bedrock.TOKEN_PREFIX).partition("/")
            self.path = "/" + rest
        session = self.proxy.find(presented)
        if session is None:
            refusal = RefusedError(
                401, "authentication_error", "no FAALF invocation is running with this token"
            )
            self._reply(401, refusal)
            return
        if urllib.parse.urlsplit(self.path).path == CHILD_PATH and self.command == "POST":
            self._child(session, body)
            return
        try:
            body, price, max_tokens, charge = self._check(session, body)
        except RefusedError as refusal:
            self._reply(refusal.status, session.refuse(refusal))
            return
        self._forward(session, body, Meter(session, charge, price, max_tokens))

    def _child(self, session: Session, body: bytes) -> None:
        """A child agent for ``faalf-invoke``: the answer is the child's Lambda response."""
        try:
            asked = json.loads(body)
            grant = session.admit_child()
        except ValueError:
            self._reply(400, RefusedError(400, "invalid_request_error", "the body is not JSON"))
            return
        except RefusedError as refusal:
            self._reply(refusal.status, session.refuse(refusal))
            return
        cost, budget, nonce = 0.0, grant.reservation, children.new_cost_nonce()
        try:
            event = children.child_request(asked, session.depth, budget, nonce)
            # The key: from the nonce and the API key, which no agent holds (Bedrock: from the
            # nonce alone, believed only where the fence keeps agents off the Runtime API).
            # Derived first: a key that cannot be read fails before the child runs.
            key = children.cost_key(nonce, self.proxy.api_key() if self.proxy.api_key else None)
            response = self.proxy.invoke_child(session.function, event)
            cost = children.cost_of(response, budget, key) if session.child_proofs else budget
        except ValueError as exc:
            self._reply(400, RefusedError(400, "invalid_request_error", str(exc)))
            return
        except Exception as exc:  # noqa: BLE001 - botocore's errors, reported to the agent
            cost = budget  # it may have run (and spent) before the error reached us
            response = {"statusCode": 502, "body": {"error": f"child invoke failed: {exc}"}}
        finally:
            session.settle_child(grant, cost)
        payload = json.dumps(response).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _check(self, session: Session, body: bytes) -> tuple[bytes, Price, int, Charge | None]:
        """The body to forward, the model's price, its ``max_tokens`` and its charge (none for
        an unmetered request)."""
        target = urllib.parse.urlsplit(self.path)
        path = target.path
        # Forward what was checked: no fragment (or anything else urlsplit set aside) rides on.
        self.path = path + (f"?{target.query}" if target.query else "")
        bedrock_route = bedrock.route(path) if self.proxy.signer is not None else None
        allowed = bedrock_route is not None or (self.proxy.signer is None and path in ALLOWED_PATHS)
        if self.command != "POST" or not allowed:
            raise RefusedError(404, "not_found_error", f"{self.command} {path} is not allowed here")
        try:
            request = json.loads(body, object_pairs_hook=_unique_keys)
        except DuplicateKeyError as exc:
            # The upstream may read the first value where we read the last: refuse, never guess.
            raise RefusedError(400, "invalid_request_error", str(exc)) from None
        except ValueError:
            raise RefusedError(400, "invalid_request_error", "the body is not JSON") from None
        if not isinstance(request, dict):
            raise RefusedError(400, "invalid_request_error", "the body is not a JSON object")
        model = bedrock_route[0] if bedrock_route else request.get("model")
        if not isinstance(model, str) or model not in session.models:
            allowed_models = ", ".join(sorted(session.models))
            raise RefusedError(
                403, "permission_error", f"model {model!r} is not allowed ({allowed_models})"
            )
        price = price_of(model)
        # What the proxy could not price is refused before it costs anything: an unknown beta
        # (a header here; in the body for Bedrock), a server tool billed outside usage, ...
        betas = [
            b.strip() for v in self.headers.get_all("anthropic-beta") or [] for b in v.split(",")
        ]
        body_betas = request.get("anthropic_beta")
        if isinstance(body_betas, list):
            betas += [str(b) for b in body_betas]
        elif body_betas is not None:
            betas.append(str(body_betas))
        try:
            check_request(request, betas)
        except UnpricedError as exc:
            raise RefusedError(400, "invalid_request_error", str(exc)) from None
        if bedrock_route:
            self.path = bedrock.upstream_path(*bedrock_route)
            metered = bedrock_route[1] in bedrock.METERED_ACTIONS
        else:
            metered = path in METERED_PATHS
        if not metered:
            return body, price, 0, None
        asked = request.get("max_tokens")
        if isinstance(asked, bool) or not isinstance(asked, int) or asked < 1:
            raise RefusedError(400, "invalid_request_error", "max_tokens: a positive integer")
        capped, charge = session.admit(
            model,
            asked,
            price,
            price.input_tokens_at_most(betas),
            input_grows=grows_its_input(request),
        )
        if capped != asked:
            request["max_tokens"] = capped
            body = json.dumps(request).encode()
        return body, price, capped, charge

    def _body(self) -> bytes | None:
        if "chunked" not in self.headers.get("transfer-encoding", "").lower():
            length = int(self.headers.get("content-length") or 0)
            if length > MAX_BODY:
                self.close_connection = True
                return None
            return self.rfile.read(length) if length else b""
        parts, size = [], 0
        while chunk := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
            size += chunk
            if size > MAX_BODY:
                self.close_connection = True
                return None
            parts.append(self.rfile.read(chunk))
            self.rfile.readline()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # trailers
        return b"".join(parts)

    def _forward(self, session: Session, body: bytes, meter: Meter) -> None:
        """Forward, relay and meter. The cost is settled before the response's last byte goes
        out, so once the CLI has a whole response, the session's spend includes it."""
        path = self.proxy.upstream.path.rstrip("/") + self.path
        if self.proxy.signer is not None:
            # Only what is signed goes to Bedrock: the CLI's own headers stay here.
            url = urllib.parse.urlunsplit(self.proxy.upstream._replace(path=path, query=""))
            accept = self.headers.get("accept", "application/json")
            headers = self.proxy.signer.headers(url, body, accept)
        else:
            headers = {
                k: v
                for k, v in self.headers.items()
                if k.lower() not in HOP_HEADERS | CREDENTIAL_HEADERS
            }
            assert self.proxy.api_key is not None
            headers["x-api-key"] = self.proxy.api_key()
        headers["host"] = self.proxy.upstream.netloc
        headers["accept-encoding"] = "identity"  # the meter reads the response as it passes
        try:
            upstream = self._send_upstream(path, body, headers)
        except (OSError, http.client.HTTPException):
            meter.settle_unsent()
            self._reply(502, RefusedError(502, "api_error", "could not reach the upstream API"))
            return
        meter.start(upstream.status, upstream.getheader("content-type") or "")
        try:
            self._relay(upstream, meter, session)
        except (OSError, http.client.HTTPException):
            # Headers are out: all that is left is to end the connection, so the CLI sees a cut
            # stream (and retries) rather than a spliced one.
            meter.settle()
            self.close_connection = True
            if self.upstream_conn is not None:
                self.upstream_conn.close()
                self.upstream_conn = None
            return
        meter.finish()
        meter.settle()
        if upstream.will_close and self.upstream_conn is not None:
            self.upstream_conn.close()
            self.upstream_conn = None
        try:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def _send_upstream(
        self, path: str, body: bytes, headers: dict[str, str]
    ) -> http.client.HTTPResponse:
        """On the kept-alive connection; once more on a fresh one if it went stale."""
        reused = self.upstream_conn is not None
        try:
            return self._request(path, body, headers)
        except (OSError, http.client.HTTPException):
            if not reused:
                raise
        return self._request(path, body, headers)

    def _request(self, path: str, body: bytes, headers: dict[str, str]) -> http.client.HTTPResponse:
        if self.upstream_conn is None:
            self.upstream_conn = self.proxy.connection()
        try:
            self.upstream_conn.request(self.command, path, body=body, headers=headers)
            return self.upstream_conn.getresponse()
        except (OSError, http.client.HTTPException):
            self.upstream_conn.close()
            self.upstream_conn = None
            raise

    def _relay(self, upstream: http.client.HTTPResponse, meter: Meter, session: Session) -> None:
        self.send_response(upstream.status, upstream.reason)
        for key, value in upstream.getheaders():
            if key.lower() not in HOP_HEADERS:
                self.send_header(key, value)
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        while chunk := upstream.read1(CHUNK):
            meter.feed(chunk)  # records what the chunk tells, before the agent gets it
            if not session.open:
                raise ConnectionAbortedError("the invocation ended: its stream is cut")
            if meter.unpriced is not None:
                raise ConnectionAbortedError(f"unpriced usage: {meter.unpriced}")
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.flush()

    def _reply(self, status: int, refusal: RefusedError) -> None:
        payload = refusal.payload()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
