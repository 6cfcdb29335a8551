"""A local stand-in for the Anthropic Messages API: the only part of the e2e tests that is fake.

It answers ``POST /v1/messages`` with server-sent events the way the real API streams them, and
Bedrock's ``POST /model/<id>/invoke-with-response-stream`` with the same events base64-encoded
in AWS event-stream frames, as Bedrock does. Main
agent requests (those that carry ``tools``) follow a script of turns, one turn per request: a
``Write`` or ``Bash`` tool call, or a final text. Side requests without tools (the CLI asks for a
session title, for instance) get a short text. Every request is recorded for assertions.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import urllib.parse
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Self

from faalf.loopback import LoopbackServer


@dataclass(frozen=True)
class Turn:
    """One assistant reply: a tool call (``tool`` + ``input``) or a final ``text``."""

    text: str | None = None
    tool: str | None = None
    input: dict[str, Any] = field(default_factory=dict)
    hang: bool = False


def write(path: str, content: str) -> Turn:
    return Turn(tool="Write", input={"file_path": path, "content": content})


def bash(command: str) -> Turn:
    return Turn(tool="Bash", input={"command": command, "description": "run a command"})


def say(text: str) -> Turn:
    return Turn(text=text)


HANG = Turn(hang=True)
BEDROCK_PATH = re.compile(r"/model/([^/]+)/invoke-with-response-stream")


def event_stream_frame(payload: bytes, headers: dict[str, str]) -> bytes:
    """One AWS event-stream message: prelude (lengths, CRC), string headers, payload, CRC."""
    encoded = b"".join(
        len(k).to_bytes(1, "big") + k.encode() + b"\x07" + len(v).to_bytes(2, "big") + v.encode()
        for k, v in headers.items()
    )
    prelude = (16 + len(encoded) + len(payload)).to_bytes(4, "big") + len(encoded).to_bytes(
        4, "big"
    )
    message = prelude + zlib.crc32(prelude).to_bytes(4, "big") + encoded + payload
    return message + zlib.crc32(message).to_bytes(4, "big")


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def is_main(self) -> bool:
        return bool(self.body.get("tools"))

    @property
    def model(self) -> str:
        """The body's model, or Bedrock's (in the path)."""
        match = BEDROCK_PATH.fullmatch(self.path)
        return urllib.parse.unquote(match[1]) if match else str(self.body.get("model"))


class StandIn:
    """Start with ``with StandIn([turns]) as api:``; ``api.url`` is the base URL."""

    def __init__(self, turns: list[Turn]) -> None:
        self.turns = turns
        self.requests: list[Recorded] = []
        # The usage to report for a request whose first message is this text (the default:
        # 100 input tokens, 20 output tokens), as ``message_start`` and ``message_delta`` split it.
        self.usage_for: dict[str, dict[str, Any]] = {}
        self.connections = 0
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._http = LoopbackServer(self._handler())

    @property
    def url(self) -> str:
        return self._http.url

    @property
    def main_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.is_main]

    def tool_results(self) -> Iterator[str]:
        """The text of every tool_result the CLI sent back (what the agent's tools produced)."""
        for req in self.main_requests:
            for message in req.body.get("messages", []):
                content = message.get("content")
                if not isinstance(content, list):
                    continue
                for block in content:
                    if block.get("type") == "tool_result":
                        inner = block.get("content")
                        if isinstance(inner, list):
                            yield "".join(b.get("text", "") for b in inner)
                        else:
                            yield str(inner)

    def play(self, turns: list[Turn]) -> StandIn:
        """A new script for the next invocation; what was recorded so far is forgotten."""
        with self._lock:
            self.turns = turns
            self.requests = []
        return self

    def __enter__(self) -> Self:
        self._http.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        self._http.close()

    def _next_turn(self, recorded: Recorded) -> Turn:
        with self._lock:
            self.requests.append(recorded)
            if not recorded.is_main:
                return say("FAALF task")
            index = len(self.main_requests) - 1
        return self.turns[index] if index < len(self.turns) else say("done")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                with standin._lock:
                    standin.connections += 1

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: pytest shows failures, not access logs."""

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                bedrock = BEDROCK_PATH.fullmatch(self.path)
                self.bedrock = bedrock is not None
                if bedrock is None and (
                    not self.path.startswith("/v1/messages") or "count_tokens" in self.path
                ):
                    self._json(404, {"type": "error", "error": {"type": "not_found_error"}})
                    return
                body = json.loads(raw or b"{}")
                turn = standin._next_turn(Recorded(self.path, dict(self.headers), body))
                if turn.hang:
                    standin._release.wait()
                    return
                first = (body.get("messages") or [{}])[0].get("content")
                usage = standin.usage_for.get(first) if isinstance(first, str) else None
                self._stream(
                    turn, bedrock[1] if bedrock else body.get("model", "claude-haiku-4-5"), usage
                )

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _event(self, name: str, data: dict[str, Any]) -> None:
                if self.bedrock:
                    inner = base64.b64encode(json.dumps(data).encode()).decode()
                    chunk = event_stream_frame(json.dumps({"bytes": inner}).encode(), {
                        ":event-type": "chunk", ":content-type": "application/json",
                        ":message-type": "event"})  # fmt: skip
                else:
                    chunk = f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()

            def _stream(self, turn: Turn, model: str, usage: dict[str, Any] | None) -> None:
                start_usage = {"input_tokens": 100, "output_tokens": 1}
                final_usage: dict[str, Any] = {"output_tokens": 20}
                if usage is not None:
                    start_usage = usage | {"output_tokens": 1}
                    final_usage = {"output_tokens": usage.get("output_tokens", 20)}
                self.send_response(200)
                self.send_header("content-type", "application/vnd.amazon.eventstream"
                                 if self.bedrock else "text/event-stream")  # fmt: skip
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                self._event("message_start", {"type": "message_start", "message": {
                    "id": "msg_standin", "type": "message", "role": "assistant",
                    "model": model, "content": [], "stop_reason": None, "stop_sequence": None,
                    "usage": start_usage}})  # fmt: skip
                if turn.tool:
                    block = {"type": "tool_use", "id": f"toolu_{id(turn)}", "name": turn.tool,
                             "input": {}}  # fmt: skip
                    delta = {"type": "input_json_delta", "partial_json": json.dumps(turn.input)}
                    stop = "tool_use"
                else:
                    block = {"type": "text", "text": ""}
                    delta = {"type": "text_delta", "text": turn.text or ""}
                    stop = "end_turn"
                self._event("content_block_start",
                            {"type": "content_block_start", "index": 0, "content_block": block})  # fmt: skip
                self._event("content_block_delta",
                            {"type": "content_block_delta", "index": 0, "delta": delta})  # fmt: skip
                self._event("content_block_stop", {"type": "content_block_stop", "index": 0})
                self._event("message_delta", {"type": "message_delta",
                            "delta": {"stop_reason": stop, "stop_sequence": None},
                            "usage": final_usage})  # fmt: skip
                self._event("message_stop", {"type": "message_stop"})
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

        return Handler
