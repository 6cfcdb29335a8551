"""A loopback server on the Lambda Invoke API path, in front of the real handler.

It plays the part of the runtime interface emulator (``docker compose up``) for the client
tests: the request body is the event, the handler's return value is the response.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

from faalf.invoke import INVOKE_PATH
from faalf.loopback import LoopbackServer


class InvokeEndpoint:
    def __init__(self, handler: Callable[[object], dict[str, Any]]) -> None:
        self.events: list[object] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

            def do_POST(self) -> None:
                if self.path != INVOKE_PATH:
                    self.send_error(404)
                    return
                event = json.loads(self.rfile.read(int(self.headers["content-length"])))
                outer.events.append(event)
                data = json.dumps(handler(event)).encode()
                self.send_response(200)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._http = LoopbackServer(Handler)

    @property
    def url(self) -> str:
        return self._http.url

    def __enter__(self) -> InvokeEndpoint:
        self._http.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()
