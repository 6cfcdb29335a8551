"""The key-injecting forwarder Claude Code talks to instead of the Anthropic API.

Claude Code's Bash tool runs as the same user with Claude's environment, and Lambda cannot run
the bubblewrap that ``CLAUDE_CODE_SUBPROCESS_ENV_SCRUB`` needs. So the CLI never holds the real
key: it gets a per-invocation token as ``ANTHROPIC_API_KEY`` and this proxy (127.0.0.1, inside the
handler process) as ``ANTHROPIC_BASE_URL``; the proxy swaps the token for the real key on the way
out (the pattern of Anthropic's secure-deployment guidance). The token is valid only while its
invocation runs, so nothing the agent leaves behind can spend through the proxy later.

Responses are streamed through chunk by chunk: Claude Code reads server-sent events. Each
connection from the CLI keeps one upstream connection alive, so a session pays the TLS handshake
to the API once, not once per request.
"""

from __future__ import annotations

import hmac
import http.client
import secrets
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler

from faalf.loopback import LoopbackServer

# Headers that belong to one hop, plus the credentials we replace.
HOP_HEADERS = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
     "transfer-encoding", "upgrade", "host", "content-length"}
)  # fmt: skip
CREDENTIAL_HEADERS = frozenset({"x-api-key", "authorization"})
UPSTREAM_TIMEOUT_S = 600
CHUNK = 64 * 1024


class KeyProxy:
    """One per container; ``session()`` opens a token for the duration of one invocation."""

    def __init__(self, upstream: str, api_key: Callable[[], str]) -> None:
        parsed = urllib.parse.urlsplit(upstream)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"upstream {upstream!r} is not an http(s) URL")
        self.upstream = parsed
        self._api_key = api_key
        self._tokens: set[str] = set()
        self._lock = threading.Lock()
        self._http = LoopbackServer(self._handler_class()).start()

    @property
    def url(self) -> str:
        return self._http.url

    @contextmanager
    def session(self) -> Iterator[str]:
        token = "faalf-session-" + secrets.token_urlsafe(24)
        with self._lock:
            self._tokens.add(token)
        try:
            yield token
        finally:
            with self._lock:
                self._tokens.discard(token)

    def close(self) -> None:
        self._http.close()

    def _authorised(self, presented: str) -> bool:
        with self._lock:
            tokens = list(self._tokens)
        return any(hmac.compare_digest(presented, t) for t in tokens)

    def _connection(self) -> http.client.HTTPConnection:
        host, port = self.upstream.hostname or "", self.upstream.port
        if self.upstream.scheme == "https":
            return http.client.HTTPSConnection(host, port, timeout=UPSTREAM_TIMEOUT_S)
        return http.client.HTTPConnection(host, port, timeout=UPSTREAM_TIMEOUT_S)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self._forward()

            def do_GET(self) -> None:
                self._forward()

            def log_message(self, format: str, *args: object) -> None:
                """Silence the stdlib's access log: the handler's logs are structured JSON."""

            upstream_conn: http.client.HTTPConnection | None = None

            def finish(self) -> None:
                if self.upstream_conn is not None:
                    self.upstream_conn.close()
                super().finish()

            def _body(self) -> bytes:
                if "chunked" not in self.headers.get("transfer-encoding", "").lower():
                    length = int(self.headers.get("content-length") or 0)
                    return self.rfile.read(length) if length else b""
                parts = []
                while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                    parts.append(self.rfile.read(size))
                    self.rfile.readline()
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)

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

            def _request(
                self, path: str, body: bytes, headers: dict[str, str]
            ) -> http.client.HTTPResponse:
                if self.upstream_conn is None:
                    self.upstream_conn = proxy._connection()
                try:
                    self.upstream_conn.request(self.command, path, body=body, headers=headers)
                    return self.upstream_conn.getresponse()
                except (OSError, http.client.HTTPException):
                    self.upstream_conn.close()
                    self.upstream_conn = None
                    raise

            def _forward(self) -> None:
                presented = self.headers.get("x-api-key") or self.headers.get(
                    "authorization", ""
                ).removeprefix("Bearer ")
                body = self._body()
                if not proxy._authorised(presented):
                    self._reply(
                        401,
                        b'{"type":"error","error":{"type":"authentication_error",'
                        b'"message":"no FAALF invocation is running with this token"}}',
                    )
                    return
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in HOP_HEADERS | CREDENTIAL_HEADERS
                }
                headers["x-api-key"] = proxy._api_key()
                headers["host"] = proxy.upstream.netloc
                path = proxy.upstream.path.rstrip("/") + self.path
                try:
                    upstream = self._send_upstream(path, body, headers)
                except (OSError, http.client.HTTPException):
                    self._reply(
                        502,
                        b'{"type":"error","error":{"type":"api_error",'
                        b'"message":"FAALF proxy could not reach the upstream API"}}',
                    )
                    return
                try:
                    self._relay(upstream)
                except (OSError, http.client.HTTPException):
                    # Headers are out: all that is left is to end the connection, so the CLI
                    # sees a cut stream (and retries) rather than a spliced one.
                    self.close_connection = True
                    if self.upstream_conn is not None:
                        self.upstream_conn.close()
                        self.upstream_conn = None
                    return
                if upstream.will_close and self.upstream_conn is not None:
                    self.upstream_conn.close()
                    self.upstream_conn = None

            def _relay(self, upstream: http.client.HTTPResponse) -> None:
                self.send_response(upstream.status, upstream.reason)
                for key, value in upstream.getheaders():
                    if key.lower() not in HOP_HEADERS:
                        self.send_header(key, value)
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                while chunk := upstream.read1(CHUNK):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

            def _reply(self, status: int, payload: bytes) -> None:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler
