"""Child agents, started only by the handler: the agent asks, the handler decides and invokes.

The agent has no credentials to invoke Lambda (see ``identity``). ``faalf-invoke`` inside it
posts the child's request to the handler's loopback endpoint with the invocation's token; the
handler sets the child's depth to its own + 1 (whatever the agent claims), refuses past
``FAALF_MAX_DEPTH``, gives the child at most what is left of its own budget (reserved until the
child answers, so parallel children cannot spend it twice), and invokes its own function with
the function role's credentials.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

CHILD_FIELDS = ("task", "execute", "model", "max_turns", "max_budget_usd")
TIMEOUT_S = 900
Invoker = Callable[[str, dict[str, Any]], dict[str, Any]]


def child_request(asked: object, depth: int, budget_usd: float) -> dict[str, Any]:
    """The child's event: the agent's fields (the known ones only), our depth + 1, our budget."""
    if not isinstance(asked, dict) or not isinstance(asked.get("task"), str):
        raise ValueError("the body must be a JSON object with a 'task' string")
    event = {k: asked[k] for k in CHILD_FIELDS if k in asked}
    event["depth"] = depth + 1
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


def cost_of(response: dict[str, Any], granted: float) -> float:
    """What a child counts against our budget: its reported spend, clamped to what it was
    granted; a child that failed or reports no number is charged all it was granted (it may
    have spent it before failing, and a forged answer must not hand budget back)."""
    body = response.get("body")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return granted
    cost = body.get("cost_usd") if isinstance(body, dict) else None
    if (
        response.get("statusCode") != 200
        or not isinstance(cost, int | float)
        or isinstance(cost, bool)
    ):
        return granted
    return min(max(float(cost), 0.0), granted)
