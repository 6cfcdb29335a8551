"""What a Messages API response cost, from its ``usage``: the proxy meters every response with it.

Prices are USD per million tokens, Anthropic's list prices (the README's pricing table gives
each number, where it was read and when). A model is matched by the longest family name its id
contains, so dated ids (``claude-haiku-4-5-20251001``) and Bedrock ids
(``eu.anthropic.claude-haiku-4-5-20251001-v1:0``) find their family. An unknown model is priced
as the most expensive one: a budget may be spent early, never overrun.

Every billed dimension the API reports is priced: input, output, cache reads, cache writes by
TTL (``usage.cache_creation``: 5 minutes at 1.25x input, 1 hour at 2x; a write without the
breakdown at 2x), long context (Sonnet 4 and 4.5: a request over 200k input tokens, cache reads
and writes included, at 2x input and 1.5x output for all its tokens), web searches
(``usage.server_tool_use``), the US-only inference geography (1.1x). What the proxy cannot price
raises ``UnpricedError``: an unknown usage field with a value, another service tier or speed,
web fetches. The proxy then refuses the request before it goes out if it can tell from the
request (``check_request``: unknown ``anthropic-beta`` values, server tools billed outside
usage), and otherwise charges the rest of the invocation's budget: never less than list price.
The batch API (50% off) is never forwarded, so batch prices never apply.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

PRICES_READ = "2026-12-06"  # when the list prices below were last read (README: pricing table)
CACHE_WRITE_5M = 1.25  # x the input price
CACHE_WRITE_1H = 2.0
CACHE_READ = 0.1
LONG_CONTEXT_TOKENS = 200_000
LONG_INPUT, LONG_OUTPUT = 2.0, 1.5  # x the input / output price, above LONG_CONTEXT_TOKENS
WEB_SEARCH_USD = 10 / 1000  # per server-side web search
GEO_MARKUP = {None: 1.0, "global": 1.0, "us": 1.1}  # usage.inference_geo
BEDROCK_GEO_MARKUP = 1.1  # Bedrock in-region and geographic (us., eu., ...) vs global. profiles

# Top-level usage fields whose meaning for the bill is known: priced below, or reports only.
PRICED_USAGE = frozenset({
    "input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
    "cache_creation", "server_tool_use", "service_tier", "speed", "inference_geo",
})  # fmt: skip
# output_tokens_details breaks output_tokens down (inclusive); iterations breaks the request
# down by sampling iteration (its totals are the request's); fallback_credit reports a credit.
REPORT_ONLY_USAGE = frozenset({"output_tokens_details", "iterations", "fallback_credit"})
CACHE_TTLS = {"ephemeral_5m_input_tokens": CACHE_WRITE_5M,
              "ephemeral_1h_input_tokens": CACHE_WRITE_1H}  # fmt: skip

# anthropic-beta values whose billing is known: Claude Code's own (they change no price), the
# output and tool-streaming ones (tokens at list price) and the 1M context window (priced above).
KNOWN_BETAS = frozenset({
    "claude-code-20250219", "interleaved-thinking-2025-05-14", "context-management-2025-06-27",
    "thinking-token-count-2026-05-13", "advanced-tool-use-2025-11-20",
    "fine-grained-tool-streaming-2025-05-14", "token-efficient-tools-2025-02-19",
    "prompt-caching-2024-07-31", "output-128k-2025-02-19", "context-1m-2025-08-07",
})  # fmt: skip
# Server tools billed outside usage (code execution: container hours) or at a price not
# confirmed (web fetch): a request that offers them is refused.
UNPRICED_TOOL_TYPES = ("code_execution", "web_fetch")
# Server tools whose results are added to the input as the response goes on (each search's
# pages, over as many sampling iterations as the model takes): the input is known only at the
# response's end, and no context window bounds it.
GROWING_INPUT_TOOL_TYPES = ("web_search",)
CONTEXT_TOKENS = 200_000  # every priced model's context window: its input cannot be larger
LONG_CONTEXT_BETA = "context-1m-2025-08-07"
LONG_CONTEXT_WINDOW = 1_000_000


class UnpricedError(ValueError):
    """Something the proxy cannot put a list price on; the message names it."""


@dataclass(frozen=True)
class Price:
    input: float  # USD per million input tokens
    output: float  # USD per million output tokens
    long_context: bool = False  # has long-context rates above LONG_CONTEXT_TOKENS
    markup: float = 1.0  # e.g. a Bedrock geographic inference profile
    cache_read: float = CACHE_READ  # x the input price (Haiku 3's list price is 0.12x)
    context: int = CONTEXT_TOKENS  # input tokens a request can have (without the 1M beta)

    def input_tokens_at_most(self, betas: Iterable[str]) -> int:
        """The most input tokens one request can be billed for: its context window (1M with
        the long-context beta on a model that has that window)."""
        long = self.long_context and LONG_CONTEXT_BETA in set(betas)
        return max(self.context, LONG_CONTEXT_WINDOW if long else 0)

    def input_cost_at_most(self, tokens: int) -> float:
        """What ``tokens`` input tokens can cost at most: all of them 1-hour cache writes, at
        the long-context rate past its threshold, in the dearer inference geography."""
        long = self.long_context and tokens > LONG_CONTEXT_TOKENS
        per_token = self.input * (LONG_INPUT if long else 1) * max(CACHE_WRITE_1H, 1) / 1e6
        return tokens * per_token * max(GEO_MARKUP.values()) * self.markup

    def output_per_token(self, tokens: int) -> float:
        """One output token's price at most, for a request of up to ``tokens`` input tokens."""
        long = self.long_context and tokens > LONG_CONTEXT_TOKENS
        return self.output * (LONG_OUTPUT if long else 1) * self.markup / 1e6

    def cost(self, usage: Mapping[str, Any]) -> float:
        """The list price of ``usage``; raises ``UnpricedError`` on what it cannot price."""
        for key, value in usage.items():
            if key not in PRICED_USAGE | REPORT_ONLY_USAGE and value not in (None, 0, "", {}, []):
                raise UnpricedError(f"usage.{key} is not priced by the FAALF proxy")
        if usage.get("service_tier") not in (None, "standard"):
            raise UnpricedError(f"usage.service_tier {usage['service_tier']!r} is not priced")
        if usage.get("speed") not in (None, "standard"):
            raise UnpricedError(f"usage.speed {usage['speed']!r} is not priced")
        geo = usage.get("inference_geo")
        if not isinstance(geo, str | None) or geo not in GEO_MARKUP:
            raise UnpricedError(f"usage.inference_geo {geo!r} is not priced")
        fresh, read = _tokens(usage, "input_tokens"), _tokens(usage, "cache_read_input_tokens")
        writes = _cache_writes(usage)
        total_input = fresh + read + sum(tokens for tokens, _ in writes)
        long = self.long_context and total_input > LONG_CONTEXT_TOKENS
        per_in = self.input * (LONG_INPUT if long else 1) / 1e6
        per_out = self.output * (LONG_OUTPUT if long else 1) / 1e6
        tokens = (
            fresh * per_in
            + read * per_in * self.cache_read
            + sum(count * per_in * rate for count, rate in writes)
            + _tokens(usage, "output_tokens") * per_out
        )
        return (tokens * GEO_MARKUP[geo] + _searches(usage) * WEB_SEARCH_USD) * self.markup


def _tokens(usage: Mapping[str, Any], name: str) -> float:
    value = usage.get(name)
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise UnpricedError(f"usage.{name} is not a number")
    return max(float(value), 0.0)


def _cache_writes(usage: Mapping[str, Any]) -> list[tuple[float, float]]:
    """(tokens, rate) of the cache writes: by TTL where the API breaks them down; the rest (or
    all, without a breakdown) at the 1-hour rate, the higher one."""
    total = _tokens(usage, "cache_creation_input_tokens")
    breakdown = usage.get("cache_creation")
    if breakdown is None:
        return [(total, CACHE_WRITE_1H)]
    if not isinstance(breakdown, Mapping):
        raise UnpricedError("usage.cache_creation is not an object")
    writes = []
    for key in breakdown:
        if key not in CACHE_TTLS and breakdown[key] not in (None, 0):
            raise UnpricedError(f"usage.cache_creation.{key} is not priced")
    for key, rate in CACHE_TTLS.items():
        writes.append((_tokens(breakdown, key), rate))
    rest = total - sum(tokens for tokens, _ in writes)
    return writes + ([(rest, CACHE_WRITE_1H)] if rest > 0 else [])


def _searches(usage: Mapping[str, Any]) -> float:
    server = usage.get("server_tool_use")
    if server is None:
        return 0.0
    if not isinstance(server, Mapping):
        raise UnpricedError("usage.server_tool_use is not an object")
    for key, value in server.items():
        if key != "web_search_requests" and value not in (None, 0):
            raise UnpricedError(f"usage.server_tool_use.{key} is not priced")
    return _tokens(server, "web_search_requests")


def check_request(body: Mapping[str, Any], betas: Iterable[str]) -> None:
    """Refuse (``UnpricedError``) a request whose bill the proxy could not price: a beta it does
    not know, a server tool billed outside usage, a speed or service tier it has no price for."""
    for beta in betas:
        if beta and beta not in KNOWN_BETAS:
            raise UnpricedError(f"anthropic-beta {beta!r}: its billing is not known to the proxy")
    for tool in body.get("tools") or []:
        kind = tool.get("type") if isinstance(tool, Mapping) else None
        if isinstance(kind, str) and kind.startswith(UNPRICED_TOOL_TYPES):
            raise UnpricedError(f"tool {kind!r}: billed outside usage or at an unconfirmed price")
    if body.get("speed") not in (None, "standard"):
        raise UnpricedError(f"speed {body['speed']!r} is not priced")
    if body.get("service_tier") not in (None, "standard_only"):
        raise UnpricedError(f"service_tier {body['service_tier']!r} is not priced")
    if body.get("inference_geo") not in GEO_MARKUP:
        raise UnpricedError(f"inference_geo {body['inference_geo']!r} is not priced")


PRICES = {
    "claude-opus-4-5": Price(5, 25),
    "claude-opus-4-1": Price(15, 75),
    "claude-opus-4": Price(15, 75),
    "claude-sonnet-4-5": Price(3, 15, long_context=True),
    "claude-sonnet-4": Price(3, 15, long_context=True),
    "claude-3-7-sonnet": Price(3, 15),
    "claude-haiku-4-5": Price(1, 5),
    "claude-3-5-haiku": Price(0.8, 4),
    "claude-3-haiku": Price(0.25, 1.25, cache_read=0.12),  # $0.03 a million cache reads
}
HIGHEST = Price(15, 75, long_context=True, context=LONG_CONTEXT_WINDOW)


def grows_its_input(body: Mapping[str, Any]) -> bool:
    """Whether the request offers a server tool that adds to its input as it runs."""
    return any(
        isinstance(tool, Mapping)
        and isinstance(tool.get("type"), str)
        and tool["type"].startswith(GROWING_INPUT_TOOL_TYPES)
        for tool in body.get("tools") or []
    )


def price_of(model: str) -> Price:
    matches = [family for family in PRICES if family in model]
    price = PRICES[max(matches, key=len)] if matches else HIGHEST
    if "anthropic." in model and not model.startswith("global."):
        price = replace(price, markup=BEDROCK_GEO_MARKUP)
    return price
