"""The key proxy: swaps the per-invocation token for the real key, streams, and expires tokens."""

from __future__ import annotations

import http.client
import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from faalf.loopback import LoopbackServer
from faalf.pricing import HIGHEST, price_of
from faalf.proxy import KeyProxy, Meter, RefusedError, Session, UsageMeter
from tests.agent.standin import StandIn, say

KEY = "sk-ant-real-key-for-proxy-tests"
MODELS = ("claude-haiku-4-5", "m")
HAIKU = price_of("claude-haiku-4-5")
STANDIN_COST = (100 * 1 + 20 * 5) / 1e6  # what the stand-in's usage costs at Haiku's price


def ignore_metric(usd: float) -> None:
    """The cost metric, where a test does not look at it."""


@pytest.fixture
def upstream() -> Iterator[StandIn]:
    with StandIn([say("hi")]) as api:
        yield api


@pytest.fixture
def proxy(upstream: StandIn) -> Iterator[KeyProxy]:
    proxy = KeyProxy(upstream.url, lambda: KEY)
    yield proxy
    proxy.close()


def post(proxy: KeyProxy, token: str) -> tuple[int, str]:
    url = urllib.parse.urlsplit(proxy.url)
    conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
    body = json.dumps({"model": "claude-haiku-4-5", "max_tokens": 100, "messages": [],
                       "tools": [{"name": "x"}]})  # fmt: skip
    conn.request("POST", "/v1/messages?beta=true", body=body,
                 headers={"x-api-key": token, "content-type": "application/json"})  # fmt: skip
    response = conn.getresponse()
    text = response.read().decode()
    conn.close()
    return response.status, text


def test_request_with_a_live_token_is_forwarded_with_the_real_key(proxy, upstream):
    with proxy.session(MODELS, 1.0, 32000, on_spend=ignore_metric) as session:
        status, text = post(proxy, session.token)

    assert status == 200
    assert "message_stop" in text  # the SSE stream came through whole
    assert upstream.requests[0].headers["x-api-key"] == KEY


def test_token_is_refused_once_its_invocation_ended(proxy, upstream):
    with proxy.session(MODELS, 1.0, 32000, on_spend=ignore_metric) as session:
        token = session.token

    status, _ = post(proxy, token)

    assert status == 401
    assert upstream.requests == []


def test_the_real_key_itself_is_not_accepted_as_a_token(proxy, upstream):
    with proxy.session(MODELS, 1.0, 32000, on_spend=ignore_metric):
        status, _ = post(proxy, KEY)

    assert status == 401


def test_unreachable_upstream_is_a_502_without_the_key(upstream):
    proxy = KeyProxy("http://127.0.0.1:9", lambda: KEY)
    try:
        with proxy.session(MODELS, 1.0, 32000, on_spend=ignore_metric) as session:
            status, text = post(proxy, session.token)
    finally:
        proxy.close()

    assert status == 502
    assert KEY not in text


def test_upstream_must_be_an_http_url():
    with pytest.raises(ValueError, match="not an http"):
        KeyProxy("ftp://example.com", lambda: KEY)


def test_one_cli_connection_keeps_one_upstream_connection(proxy, upstream):
    url = urllib.parse.urlsplit(proxy.url)
    conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
    body = json.dumps({"model": "m", "max_tokens": 100, "messages": [], "tools": [{"name": "x"}]})
    with proxy.session(MODELS, 1.0, 32000, on_spend=ignore_metric) as session:
        token = session.token
        for _ in range(3):
            conn.request("POST", "/v1/messages", body=body, headers={"x-api-key": token})
            response = conn.getresponse()
            response.read()
            assert response.status == 200
    conn.close()

    assert len(upstream.requests) == 3
    assert upstream.connections == 1


def test_chunked_request_body_is_forwarded_whole(proxy, upstream):
    url = urllib.parse.urlsplit(proxy.url)
    conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
    payload = {"model": "m", "max_tokens": 100, "messages": [{"role": "user", "content": "x" * 5000}],
               "tools": [{}]}  # fmt: skip
    data = json.dumps(payload).encode()
    with proxy.session(MODELS, 1.0, 32000, on_spend=ignore_metric) as session:
        token = session.token
        conn.request("POST", "/v1/messages", body=iter([data[:1000], data[1000:]]),
                     headers={"x-api-key": token}, encode_chunked=True)  # fmt: skip
        conn.getresponse().read()
    conn.close()

    assert upstream.requests[0].body == payload


def test_streamed_usage_is_metered_from_message_start_and_message_delta(proxy, upstream):
    with proxy.session(MODELS, 1.0, 32000, on_spend=ignore_metric) as session:
        post(proxy, session.token)

    # The stand-in streams input 100 (message_start) and output 20 (message_delta): Haiku 4.5.
    assert session.spent_usd == pytest.approx((100 * 1 + 20 * 5) / 1e6)


def test_json_response_usage_is_metered():
    meter = UsageMeter("application/json")
    meter.feed(b'{"usage": {"input_tokens": 1000, ')
    meter.feed(b'"output_tokens": 1000, "cache_read_input_tokens": 1000}}')
    meter.finish()

    assert meter.cost(price_of("claude-sonnet-4-5-20250929"), 4096) == pytest.approx(0.0183)


def test_a_stream_cut_before_its_end_is_charged_its_full_max_tokens():
    meter = UsageMeter("text/event-stream")
    meter.feed(b'event: message_start\ndata: {"type": "message_start", "message": ')
    meter.feed(b'{"usage": {"input_tokens": 10, "output_tokens": 1}}}\n\n')
    meter.finish()

    assert meter.cost(price_of("claude-haiku-4-5"), 1000) == pytest.approx((10 + 5 * 1000) / 1e6)


def test_unknown_model_is_priced_as_the_most_expensive():
    assert price_of("claude-mystery-9") == HIGHEST


# --- The cost metric: every cost emitted as the proxy learns it, once -------------------------


def test_every_metered_cost_is_emitted_and_the_emitted_costs_add_up_to_the_spend(proxy, upstream):
    emitted: list[float] = []
    with proxy.session(MODELS, 1.0, 32000, on_spend=emitted.append) as session:
        post(proxy, session.token)
        post(proxy, session.token)

    assert sum(emitted) == pytest.approx(session.spent_usd) == pytest.approx(2 * STANDIN_COST)


class HeldStream(BaseHTTPRequestHandler):
    """An upstream that sends ``message_start`` (its input usage) and then waits for ``go``."""

    protocol_version = "HTTP/1.1"
    go = threading.Event()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["content-length"]))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for event in ({"type": "message_start", "message": {"usage": {"input_tokens": 1000}}},
                      {"type": "message_delta", "usage": {"output_tokens": 10}},
                      {"type": "message_stop"}):  # fmt: skip
            chunk = f"data: {json.dumps(event)}\n\n".encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.flush()
            self.go.wait(10)
        self.wfile.write(b"0\r\n\r\n")


def test_input_cost_is_emitted_before_the_stream_reaches_the_client():
    emitted: list[float] = []
    HeldStream.go.clear()
    upstream = LoopbackServer(HeldStream).start()
    proxy = KeyProxy(upstream.url, lambda: KEY)
    try:
        with proxy.session(MODELS, 1.0, 32000, on_spend=emitted.append) as session:
            url = urllib.parse.urlsplit(proxy.url)
            conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
            body = json.dumps({"model": "claude-haiku-4-5", "max_tokens": 100, "messages": []})
            conn.request("POST", "/v1/messages", body=body, headers={"x-api-key": session.token})
            first = conn.getresponse().read1()  # message_start, while the upstream waits
            emitted_when_read = sum(emitted)
            HeldStream.go.set()
            conn.close()
    finally:
        HeldStream.go.set()
        proxy.close()
        upstream.close()

    assert b"message_start" in first
    assert emitted_when_read >= 1000 * 1 / 1e6


def test_a_cost_recorded_again_is_not_emitted_again():
    emitted: list[float] = []
    session = Session("t", frozenset(MODELS), 1.0, 32000, on_spend=emitted.append)
    _, charge = session.admit("claude-haiku-4-5", 100, HAIKU)
    session.record(charge, 1e-4)
    session.record(charge, 1e-4)
    session.settle(charge, 1e-4)

    assert emitted == [1e-4]


def test_request_in_flight_at_the_end_is_emitted_at_its_reservation_and_not_again():
    emitted: list[float] = []
    session = Session("t", frozenset(MODELS), 1.0, 32000, on_spend=emitted.append)
    _, charge = session.admit("claude-haiku-4-5", 1000, HAIKU)
    session.record(charge, 1e-4)  # its input, from message_start
    session.close()  # the invocation ends with the request still upstream
    session.settle(charge, 1e-4 + 1000 * 5 / 1e6)  # later, the cut stream: its full max_tokens

    assert emitted == pytest.approx([1e-4, 1000 * 5 / 1e6])
    assert session.spent_usd == pytest.approx(sum(emitted))


def test_a_float_residue_of_the_budget_is_no_budget():
    session = Session("t", frozenset(MODELS), 0.0007, 32000)
    for _ in range(10):  # ten requests at $0.00007: in floats, their sum is 2e-19 short
        _, charge = session.admit("claude-haiku-4-5", 1, HAIKU)
        session.settle(charge, 0.00007)

    with pytest.raises(RefusedError, match="is spent"):
        session.admit("claude-haiku-4-5", 1, HAIKU)


# --- Input reserved at admission (review 2, finding G) ----------------------------------------

CONTEXT = 200_000
WORST_HAIKU_INPUT = CONTEXT * 1 * 2 * 1.1 / 1e6  # 1-hour cache writes, US inference: $0.44


def admit_in_thread(session: Session) -> tuple[threading.Thread, list[object]]:
    """``session.admit`` of a Haiku request with a full context, from another thread (as the
    proxy's connection threads call it): what it returned or raised, once it did."""
    outcome: list[object] = []

    def admit() -> None:
        try:
            outcome.append(session.admit("claude-haiku-4-5", 1, HAIKU, CONTEXT))
        except RefusedError as refusal:
            outcome.append(refusal)

    thread = threading.Thread(target=admit)
    thread.start()
    return thread, outcome


def test_a_request_the_budget_cannot_pay_the_input_of_waits_for_the_others_input():
    session = Session("t", frozenset(MODELS), 0.05, 32000)
    _, first = session.admit("claude-haiku-4-5", 1, HAIKU, CONTEXT)  # alone: admitted
    thread, outcome = admit_in_thread(session)
    thread.join(0.3)

    assert outcome == []  # waiting: the first one's input may be anything up to its context
    session.record(first, 150_000 / 1e6)  # its message_start: $0.15 of input
    session.input_known(first)
    thread.join(10)

    assert isinstance(outcome[0], RefusedError)
    assert outcome[0].status == 403  # spent: by one prompt, not by eight


def test_requests_whose_worst_input_the_budget_can_pay_run_side_by_side():
    session = Session("t", frozenset(MODELS), 1.0, 32000)
    session.admit("claude-haiku-4-5", 1, HAIKU, CONTEXT)
    capped, _ = session.admit("claude-haiku-4-5", 1, HAIKU, CONTEXT, wait_s=0)

    assert capped == 1
    assert session.reserved_usd == pytest.approx(2 * (WORST_HAIKU_INPUT + 5 / 1e6))


def test_once_its_input_is_known_only_the_output_stays_reserved():
    session = Session("t", frozenset(MODELS), 1.0, 32000)
    _, charge = session.admit("claude-haiku-4-5", 100, HAIKU, CONTEXT)
    session.record(charge, 1e-4)
    session.input_known(charge)

    assert session.reserved_usd == pytest.approx(100 * 5 / 1e6)


def test_a_request_in_flight_at_the_end_with_its_input_unknown_is_charged_its_worst_input():
    emitted: list[float] = []
    session = Session("t", frozenset(MODELS), 1.0, 32000, on_spend=emitted.append)
    session.admit("claude-haiku-4-5", 100, HAIKU, CONTEXT)
    session.close()

    assert sum(emitted) == pytest.approx(WORST_HAIKU_INPUT + 100 * 5 / 1e6)


def test_a_request_with_web_search_holds_the_others_until_it_ends():
    session = Session("t", frozenset(MODELS), 5.0, 32000)
    _, searching = session.admit("claude-haiku-4-5", 1, HAIKU, CONTEXT, input_grows=True)
    session.record(searching, 1e-4)
    session.input_known(searching)  # its message_start: more input comes with each search
    thread, outcome = admit_in_thread(session)
    thread.join(0.3)

    assert outcome == []
    session.settle(searching, 0.2)
    thread.join(10)

    assert isinstance(outcome[0], tuple)


def test_a_waiting_request_is_refused_when_the_invocation_ends():
    session = Session("t", frozenset(MODELS), 0.05, 32000)
    session.admit("claude-haiku-4-5", 1, HAIKU, CONTEXT)
    thread, outcome = admit_in_thread(session)
    session.close()
    thread.join(10)

    assert isinstance(outcome[0], RefusedError)
    assert outcome[0].status == 401


def test_a_stream_cut_before_message_start_is_charged_its_worst_input(proxy):
    """The upstream answers 200 and the connection drops before any event: billed upstream,
    at what the proxy cannot know, so at the worst case."""
    session_costs: list[float] = []
    with proxy.session(MODELS, 1.0, 32000, on_spend=session_costs.append) as session:
        _, charge = session.admit("claude-haiku-4-5", 10, HAIKU, CONTEXT)
        meter = Meter(session, charge, HAIKU, 10)
        meter.start(200, "text/event-stream")
        meter.settle()

    assert sum(session_costs) == pytest.approx(WORST_HAIKU_INPUT + 10 * 5 / 1e6)
