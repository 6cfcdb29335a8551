"""The key proxy: swaps the per-invocation token for the real key, streams, and expires tokens."""

from __future__ import annotations

import http.client
import json
import urllib.parse
from collections.abc import Iterator

import pytest

from faalf.pricing import HIGHEST, price_of
from faalf.proxy import KeyProxy, UsageMeter
from tests.agent.standin import StandIn, say

KEY = "sk-ant-real-key-for-proxy-tests"
MODELS = ("claude-haiku-4-5", "m")


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
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    body = json.dumps({"model": "claude-haiku-4-5", "max_tokens": 100, "messages": [],
                       "tools": [{"name": "x"}]})  # fmt: skip
    conn.request("POST", "/v1/messages?beta=true", body=body,
                 headers={"x-api-key": token, "content-type": "application/json"})  # fmt: skip
    response = conn.getresponse()
    text = response.read().decode()
    conn.close()
    return response.status, text


def test_request_with_a_live_token_is_forwarded_with_the_real_key(proxy, upstream):
    with proxy.session(MODELS, 1.0, 32000) as session:
        status, text = post(proxy, session.token)

    assert status == 200
    assert "message_stop" in text  # the SSE stream came through whole
    assert upstream.requests[0].headers["x-api-key"] == KEY


def test_token_is_refused_once_its_invocation_ended(proxy, upstream):
    with proxy.session(MODELS, 1.0, 32000) as session:
        token = session.token

    status, _ = post(proxy, token)

    assert status == 401
    assert upstream.requests == []


def test_the_real_key_itself_is_not_accepted_as_a_token(proxy, upstream):
    with proxy.session(MODELS, 1.0, 32000):
        status, _ = post(proxy, KEY)

    assert status == 401


def test_unreachable_upstream_is_a_502_without_the_key(upstream):
    proxy = KeyProxy("http://127.0.0.1:9", lambda: KEY)
    try:
        with proxy.session(MODELS, 1.0, 32000) as session:
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
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    body = json.dumps({"model": "m", "max_tokens": 100, "messages": [], "tools": [{"name": "x"}]})
    with proxy.session(MODELS, 1.0, 32000) as session:
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
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    payload = {"model": "m", "max_tokens": 100, "messages": [{"role": "user", "content": "x" * 5000}],
               "tools": [{}]}  # fmt: skip
    data = json.dumps(payload).encode()
    with proxy.session(MODELS, 1.0, 32000) as session:
        token = session.token
        conn.request("POST", "/v1/messages", body=iter([data[:1000], data[1000:]]),
                     headers={"x-api-key": token}, encode_chunked=True)  # fmt: skip
        conn.getresponse().read()
    conn.close()

    assert upstream.requests[0].body == payload


def test_streamed_usage_is_metered_from_message_start_and_message_delta(proxy, upstream):
    with proxy.session(MODELS, 1.0, 32000) as session:
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
