"""Child agents, started only by the handler: the agent asks, the handler decides and invokes.

The agent has no credentials to invoke Lambda (see ``identity``). ``faalf-invoke`` inside it
posts the child's request to the handler's loopback endpoint with the invocation's token; the
handler sets the child's depth to its own + 1 (whatever the agent claims), refuses past
``FAALF_MAX_DEPTH``, gives the child at most what is left of its own budget (reserved until the
child answers, so parallel children cannot spend it twice), and invokes its own function with
the function role's credentials.

**What a child costs its parent** comes from a channel the child's agent cannot forge. The
child's answer is the agent's to write if it reaches the Lambda Runtime API (it could answer
``cost_usd: 0`` after spending its whole grant), and so is anything in the child's event, which
that agent can fetch there too. So ``cost_usd`` is never believed, and the event carries no key:
the parent's handler sends each child a fresh random nonce (``cost_nonce``, 32 bytes), and the
key is derived from it with a secret only handlers hold, the Anthropic API key (which no agent
ever gets: ``proxy``), ``HMAC-SHA256(api key, "faalf-child-cost-key/v1:" + nonce)``. The child's
handler answers with ``cost_proof``: its metered spend, its own children's charges included, and
an HMAC-SHA256 of it under that key (bound to the nonce through the key). A child without a
valid proof (failed, forged) is charged all it was granted.

In Bedrock mode there is no such secret (the function role's credentials differ between
execution environments): the key is derived from the nonce alone, which the child's agent can
read in its event where its fence does not close the Runtime API. There a child's handler sends
a proof only if its fence closes the API, and the parent believes one only if its own fence
does (the same function, on the same platform); otherwise every child is charged its grant.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import secrets
from collections.abc import Callable
from typing import Any

CHILD_FIELDS = ("task", "execute", "model", "max_turns", "max_budget_usd")
COST_NONCE = "cost_nonce"
COST_PROOF = "cost_proof"
TIMEOUT_S = 900
Invoker = Callable[[str, dict[str, Any]], dict[str, Any]]


def new_cost_nonce() -> bytes:
    return secrets.token_bytes(32)


def cost_key(nonce: bytes, secret: str | None) -> bytes:
    """The key a child proves its cost with: from the nonce in its event and a secret only
    handlers hold (the API key); ``None`` (Bedrock mode): from the nonce alone."""
    material = (secret or "").encode()
    return hmac.new(material, b"faalf-child-cost-key/v1:" + nonce, hashlib.sha256).digest()


def _mac(key: bytes, usd: float) -> str:
    message = f"faalf-child-cost/v2:{usd:.6f}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def cost_proof(key: bytes, usd: float) -> dict[str, Any]:
    """The child handler's signed statement of what it cost (rounded to micro-dollars)."""
    usd = round(usd, 6)
    return {"usd": usd, "mac": _mac(key, usd)}


def child_request(asked: object, depth: int, budget_usd: float, nonce: bytes) -> dict[str, Any]:
    """The child's event: the agent's fields (the known ones only), our depth + 1, our budget,
    and the nonce the child derives its proof's key from."""
    if not isinstance(asked, dict) or not isinstance(asked.get("task"), str):
        raise ValueError("the body must be a JSON object with a 'task' string")
    event = {k: asked[k] for k in CHILD_FIELDS if k in asked}
    event["depth"] = depth + 1
    event[COST_NONCE] = nonce.hex()
    requested = event.get("max_budget_usd")
    if isinstance(requested, int | float) and not isinstance(requested, bool) and requested > 0:
        event["max_budget_usd"] = min(float(requested), budget_usd)
    else:
        event["max_budget_usd"] = budget_usd
    return event


def lambda_invoker() -> Invoker:
    """Invoke a function synchronously with the handler's own credentials (the function role)."""
    import boto3  # only when a child is asked for
    from botocore.config import Config

    config = Config(read_timeout=TIMEOUT_S, connect_timeout=10, retries={"total_max_attempts": 1})
    client = boto3.client("lambda", config=config)

    def invoke(function: str, event: dict[str, Any]) -> dict[str, Any]:
        response = client.invoke(FunctionName=function, Payload=json.dumps(event).encode())
        payload = json.loads(response["Payload"].read() or b"null")
        if "FunctionError" in response or not isinstance(payload, dict):
            return {"statusCode": 502, "body": {"error": f"the child failed: {payload}"}}
        return payload

    return invoke


def cost_of(response: dict[str, Any], granted: float, key: bytes) -> float:
    """What a child counts against our budget: the cost its handler proved under ``key``,
    clamped to what it was granted; anything else (a failure, a forged or missing proof, a
    ``cost_usd`` alone) is charged all it was granted: it may have spent it all."""
    body = response.get("body")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return granted
    proof = body.get(COST_PROOF) if isinstance(body, dict) else None
    if response.get("statusCode") != 200 or not isinstance(proof, dict):
        return granted
    usd, mac = proof.get("usd"), proof.get("mac")
    if (
        isinstance(usd, bool)
        or not isinstance(usd, int | float)
        or not math.isfinite(usd)
        or not isinstance(mac, str)
        or not hmac.compare_digest(mac, _mac(key, float(usd)))
    ):
        return granted
    return min(max(float(usd), 0.0), granted)
