"""The request contract (field names kept for existing clients) and how HTTP events unwrap.

The rule: an event that has a ``body`` and no ``task`` is an API Gateway / Function URL event; its
``body`` (base64 when ``isBase64Encoded``) must be the request as a JSON object. Anything else is
the request itself. The response shape follows the event shape (see ``response``).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from typing import Any

from faalf.settings import Settings

MAX_TASK_BYTES = 100 * 1024
FIELDS = ("task", "execute", "model", "max_turns", "max_budget_usd", "depth", "cost_nonce")
COST_NONCE_HEX = 64  # 32 bytes: the nonce a parent's handler sends its child (``children``)


class BadRequestError(Exception):
    """A client error: the message names the field and what is allowed; it becomes a 400."""


@dataclass(frozen=True)
class AgentRequest:
    task: str
    execute: bool
    model: str
    max_turns: int
    max_budget_usd: float
    depth: int
    cost_nonce: bytes | None = None  # set by a parent's handler: the child proves its cost


def is_http_event(event: object) -> bool:
    return isinstance(event, dict) and "body" in event and "task" not in event


def unwrap(event: object) -> dict[str, Any]:
    """The request object inside ``event``: the event itself, or its HTTP body."""
    if not is_http_event(event):
        if not isinstance(event, dict):
            raise BadRequestError(f"the event must be a JSON object, not {type(event).__name__}")
        return event
    assert isinstance(event, dict)
    body = event["body"]
    if not isinstance(body, str):
        raise BadRequestError("body: must be a JSON object encoded as a string")
    if event.get("isBase64Encoded"):
        try:
            body = base64.b64decode(body, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise BadRequestError(
                "body: isBase64Encoded is true but body is not base64 UTF-8"
            ) from None
    try:
        parsed = json.loads(body)
    except json.JSONDecodeError as exc:
        raise BadRequestError(f"body: not valid JSON ({exc.msg} at position {exc.pos})") from None
    if not isinstance(parsed, dict):
        raise BadRequestError("body: must be a JSON object with a 'task'")
    return parsed


def parse(event: object, settings: Settings) -> AgentRequest:
    """Validate everything before any process starts, so a bad request costs nothing."""
    raw = unwrap(event)
    unknown = sorted(str(k) for k in raw if k not in FIELDS)
    if unknown:
        raise BadRequestError(
            f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(FIELDS)}"
        )
    task = raw.get("task")
    if not isinstance(task, str) or not task.strip():
        raise BadRequestError("task: required, a non-empty string")
    if len(task.encode("utf-8")) > MAX_TASK_BYTES:
        raise BadRequestError(f"task: {len(task.encode())} bytes; at most {MAX_TASK_BYTES} allowed")
    execute = raw.get("execute", False)
    if not isinstance(execute, bool):
        raise BadRequestError("execute: must be true or false")
    model = raw.get("model", settings.default_model)
    if model not in settings.allowed_models:
        raise BadRequestError(
            f"model: {model!r} is not allowed here; allowed: {', '.join(settings.allowed_models)}"
        )
    max_turns = _integer(raw, "max_turns", settings.max_turns, 1, settings.max_turns)
    budget = raw.get("max_budget_usd", settings.max_budget_usd)
    if (
        isinstance(budget, bool)
        or not isinstance(budget, int | float)
        or not math.isfinite(budget)
        or not 0 < budget <= settings.max_budget_usd
    ):
        raise BadRequestError(
            f"max_budget_usd: must be a number above 0 and at most {settings.max_budget_usd} "
            "(this function's ceiling)"
        )
    depth = _integer(raw, "depth", 0, 0, 1000)
    if depth > settings.max_depth:
        raise BadRequestError(
            f"depth: {depth} exceeds this function's recursion limit {settings.max_depth} "
            "(circuit breaker: a child agent may not spawn further agents)"
        )
    cost_nonce = raw.get("cost_nonce")
    if cost_nonce is not None and not (
        isinstance(cost_nonce, str)
        and len(cost_nonce) == COST_NONCE_HEX
        and all(c in "0123456789abcdef" for c in cost_nonce)
    ):
        raise BadRequestError(f"cost_nonce: {COST_NONCE_HEX} lowercase hex digits")
    nonce = bytes.fromhex(cost_nonce) if cost_nonce is not None else None
    return AgentRequest(task, execute, model, max_turns, float(budget), depth, nonce)


def _integer(raw: dict[str, Any], name: str, default: int, lo: int, hi: int) -> int:
    value = raw.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise BadRequestError(f"{name}: must be an integer from {lo} to {hi}")
    return value
