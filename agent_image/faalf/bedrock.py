"""Bedrock through the same door: the proxy signs the CLI's Bedrock requests with SigV4.

Claude Code sends Bedrock requests to a gateway of ours (``ANTHROPIC_BEDROCK_BASE_URL`` with
``CLAUDE_CODE_SKIP_BEDROCK_AUTH=1``): unsigned, and to ``/model/<id>/invoke`` or
``/model/<id>/invoke-with-response-stream``. The proxy checks them as it checks Anthropic API
requests (the model is in the path), signs them with the handler's credentials (the function
role, which alone may ``bedrock:InvokeModel*``) and meters the answers, whose streamed events
travel base64-encoded inside AWS event-stream frames. The agent needs no Bedrock permission,
and holds none. The CLI sends no credentials in this mode, so the invocation's token is the
first segment of the gateway URL's path (``/s/<token>``).
"""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from collections.abc import Iterator
from typing import Any

TOKEN_PREFIX = "/s/"
ROUTE = re.compile(r"/model/([^/]+)/(invoke|invoke-with-response-stream|count-tokens)")
METERED_ACTIONS = frozenset({"invoke", "invoke-with-response-stream"})
EVENT_STREAM = "application/vnd.amazon.eventstream"


def route(path: str) -> tuple[str, str] | None:
    """(model id, action) of an allowed Bedrock path, else None."""
    match = ROUTE.fullmatch(path)
    return (urllib.parse.unquote(match[1]), match[2]) if match else None


def upstream_path(model: str, action: str) -> str:
    """The path as botocore's bedrock-runtime client sends it (the model id percent-encoded)."""
    return f"/model/{urllib.parse.quote(model, safe='')}/{action}"


class Signer:
    """SigV4 for ``bedrock`` in ``region``, with the handler's own (refreshable) credentials."""

    def __init__(self, region: str) -> None:
        import botocore.session  # only in Bedrock mode

        self.region = region
        self._session = botocore.session.get_session()

    def headers(self, url: str, body: bytes, accept: str) -> dict[str, str]:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        credentials = self._session.get_credentials()
        if credentials is None:
            raise OSError("the handler has no AWS credentials to sign Bedrock requests with")
        request = AWSRequest(
            method="POST",
            url=url,
            data=body,
            headers={"content-type": "application/json", "accept": accept},
        )
        SigV4Auth(credentials.get_frozen_credentials(), "bedrock", self.region).add_auth(request)
        return dict(request.headers.items())


def frames(buffer: bytearray) -> Iterator[dict[str, Any]]:
    """The JSON payloads of the complete event-stream frames at the start of ``buffer``
    (consumed from it). Frame: total length, headers length, prelude CRC, headers, payload, CRC;
    the CRCs are the CLI's to check, not the meter's."""
    while len(buffer) >= 12:
        total = int.from_bytes(buffer[0:4], "big")
        if total < 16 or len(buffer) < total:
            return
        headers = int.from_bytes(buffer[4:8], "big")
        payload = bytes(buffer[12 + headers : total - 4])
        del buffer[:total]
        try:
            parsed = json.loads(payload)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            yield parsed


def chunk_event(payload: dict[str, Any]) -> bytes | None:
    """The Anthropic event inside a Bedrock ``chunk`` payload (``{"bytes": base64(json)}``)."""
    data = payload.get("bytes")
    if not isinstance(data, str):
        return None
    try:
        return base64.b64decode(data)
    except ValueError:
        return None
