"""A response that always fits Lambda's 6 MB, however much the agent and its scripts printed.

The per-stream cap bounds bytes, not their JSON encoding: a NUL byte is one byte of output and
six of JSON (``\\u0000``), twelve more in an HTTP event's string body. So the whole response is
measured as the runtime will send it, and while it is too big, the longest text field is cut to
what fits. Every field cut is named in ``truncated_fields`` (and its ``truncated`` flag set), so
a client can tell a short output from a cut one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

Shape = Callable[[dict[str, Any]], dict[str, Any]]
MARGIN = 1024  # room for the flags added while cutting


def size(response: object) -> int:
    """Bytes of ``response`` as the Lambda runtime serialises it (``json.dumps`` defaults)."""
    return len(json.dumps(response).encode())


def fit(body: dict[str, Any], shape: Shape, limit: int, http: bool) -> dict[str, Any]:
    """``shape(body)``, with the longest text fields of ``body`` cut until it is ≤ ``limit``."""
    response = shape(body)
    total = size(response)
    if total <= limit:
        return response

    def cost(text: str) -> int:
        encoded = json.dumps(text)
        return len(json.dumps(encoded).encode()) if http else len(encoded.encode())

    empty = cost("")
    cut: list[str] = body.setdefault("truncated_fields", [])
    while total > limit - MARGIN:
        fields = [(cost(text), name, holder, key) for name, (holder, key), text in _texts(body)]
        if not any(c > empty for c, *_ in fields):
            # Nothing left to cut (an emptied field still costs its quotes): what is too big
            # is elsewhere (names of files, say); return rather than spin until the timeout.
            break
        # Water-filling: the longest fields are cut to one level, so that all of them keep
        # as much as fits, rather than the first emptied and the others whole.
        level = _level([c for c, *_ in fields], total - (limit - MARGIN))
        for field_cost, name, holder, key in fields:
            if field_cost > level:
                holder[key] = _prefix_within(holder[key], level, cost)
                holder["truncated"] = True
                if name not in cut:
                    cut.append(name)
        response = shape(body)
        total = size(response)
    return response


def _level(costs: list[int], excess: int) -> int:
    """The cost every field above it is cut to, so that the cuts add up to ``excess``."""
    ordered = sorted(costs, reverse=True)
    top = 0
    for count, value in enumerate(ordered, start=1):
        top += value
        level = (top - excess) // count
        following = ordered[count] if count < len(ordered) else 0
        if level >= following:
            return max(0, level)
    return 0


def _texts(body: dict[str, Any]) -> Iterator[tuple[str, tuple[dict[str, Any], str], str]]:
    """(field name, (its dict, its key), its text) for every text field that may be long."""
    for key in ("claude_output", "claude_error"):
        if isinstance(body.get(key), str):
            yield key, (body, key), body[key]
    for index, result in enumerate(body.get("execution_results") or []):
        for key in ("stdout", "stderr"):
            if isinstance(result.get(key), str):
                yield f"execution_results[{index}].{key}", (result, key), result[key]


def _prefix_within(text: str, target: int, cost: Callable[[str], int]) -> str:
    """The longest prefix of ``text`` whose encoded cost is at most ``target`` (bisection)."""
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if cost(text[:mid]) <= target:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo]
