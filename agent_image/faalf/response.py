"""A response that always fits Lambda's 6 MB, however much the agent and its scripts printed.

The per-stream cap bounds bytes, not their JSON encoding: a NUL byte is one byte of output and
six of JSON (``\\u0000``), twelve more in an HTTP event's string body. Nor does it bound the
rest of what the agent chooses: how many scripts it leaves (``agent`` lists at most 100 that
were not run) and how long their names are (a path can be 4 KB of emoji, 12 KB of JSON). So the
whole response is measured as the runtime will send it, and while it is too big:

1. every text the agent chose (``claude_output``, ``claude_error``, each script's ``stdout``,
   ``stderr`` and ``file``) is cut to one level, longest first (water-filling): outputs keep
   their beginning, file names their end (the script's own name);
2. if that is not enough (a list too long for even its empty entries), entries are dropped from
   the end of ``execution_results``, which is then named itself.

Every field cut is named in ``truncated_fields`` (and an output's ``truncated`` flag set), so a
client can tell a short output from a cut one. What is left is bounded by construction (the
handler's own fields), so the result always fits.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

Shape = Callable[[dict[str, Any]], dict[str, Any]]
Cost = Callable[[str], int]
MARGIN = 1024  # room for the flags added while cutting
RESULTS = "execution_results"
ENTRY_FIELD = re.compile(rf"{RESULTS}\[(\d+)\]\.")


def size(response: object) -> int:
    """Bytes of ``response`` as the Lambda runtime serialises it (``json.dumps`` defaults)."""
    return len(json.dumps(response).encode())


def fit(body: dict[str, Any], shape: Shape, limit: int, http: bool) -> dict[str, Any]:
    """``shape(body)``, with what the agent chose in ``body`` cut until it is ≤ ``limit``."""
    response = shape(body)
    if size(response) <= limit:
        return response

    def cost(text: str) -> int:
        encoded = json.dumps(text)
        return len(json.dumps(encoded).encode()) if http else len(encoded.encode())

    cut: list[str] = body.setdefault("truncated_fields", [])
    _cut_texts(body, shape, limit - MARGIN, cost, cut)
    return _drop_entries(body, shape, limit - MARGIN, cut)


def _cut_texts(body: dict[str, Any], shape: Shape, target: int, cost: Cost, cut: list[str]) -> None:
    """Cut every text field to one level until ``shape(body)`` is ≤ ``target`` or all are
    empty."""
    empty = cost("")
    total = size(shape(body))
    while total > target:
        fields = [(cost(text), name, holder, key) for name, (holder, key), text in _texts(body)]
        if not any(c > empty for c, *_ in fields):
            return  # nothing left to cut (an emptied field still costs its quotes)
        # Water-filling: the longest fields are cut to one level, so that all of them keep
        # as much as fits, rather than the first emptied and the others whole.
        level = _level([c for c, *_ in fields], total - target)
        for field_cost, name, holder, key in fields:
            if field_cost > level:
                holder[key] = _within(holder[key], level, cost, keep_end=key == "file")
                if key != "file":
                    holder["truncated"] = True
                if name not in cut:
                    cut.append(name)
        total = size(shape(body))


def _drop_entries(
    body: dict[str, Any], shape: Shape, target: int, cut: list[str]
) -> dict[str, Any]:
    """``shape(body)`` with as many ``execution_results`` entries as fit, from the first."""
    results = body.get(RESULTS)
    response = shape(body)
    if size(response) <= target or not isinstance(results, list) or not results:
        return response
    named = list(cut)

    def keep(count: int) -> dict[str, Any]:
        body[RESULTS] = results[:count]
        cut[:] = [name for name in named if _entry(name) < count]
        if count < len(results) and RESULTS not in cut:
            cut.append(RESULTS)
        return shape(body)

    # The most entries that fit (all of them do not).
    return keep(_largest(len(results) - 1, lambda count: size(keep(count)) <= target))


def _entry(name: str) -> int:
    """The index of the entry a cut field belongs to; -1 for fields of the body itself."""
    match = ENTRY_FIELD.match(name)
    return int(match[1]) if match else -1


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
    """(field name, (its dict, its key), its text) for every text field the agent chose."""
    for key in ("claude_output", "claude_error"):
        if isinstance(body.get(key), str):
            yield key, (body, key), body[key]
    for index, result in enumerate(body.get(RESULTS) or []):
        for key in ("stdout", "stderr", "file"):
            if isinstance(result.get(key), str):
                yield f"{RESULTS}[{index}].{key}", (result, key), result[key]


def _within(text: str, target: int, cost: Cost, keep_end: bool) -> str:
    """The longest prefix (or, with ``keep_end``, suffix) of ``text`` whose encoded cost is at
    most ``target`` (bisection)."""

    def part(length: int) -> str:
        return text[len(text) - length :] if keep_end else text[:length]

    return part(_largest(len(text), lambda length: cost(part(length)) <= target))


def _largest(hi: int, fits: Callable[[int], bool]) -> int:
    """The largest n in 0..hi with ``fits(n)``, for a ``fits`` true up to some n and false after
    (bisection; 0 when none fits)."""
    lo = 0
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo
