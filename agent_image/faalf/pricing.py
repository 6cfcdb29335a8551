"""What a Messages API response cost, from its ``usage``: the proxy meters every response with it.

Prices are USD per million tokens (Anthropic's list prices). A model is matched by the longest
family name its id contains, so dated ids (``claude-haiku-4-5-20251001``) and Bedrock ids
(``eu.anthropic.claude-haiku-4-5-20251001-v1:0``) find their family. An unknown model is
priced as the most expensive one: a budget may be spent early, never overrun.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

CACHE_WRITE = 1.25  # x the input price (5-minute cache writes)
CACHE_READ = 0.1
WEB_SEARCH_USD = 10 / 1000  # per server-side web search


@dataclass(frozen=True)
class Price:
    input: float  # USD per million input tokens
    output: float  # USD per million output tokens

    def cost(self, usage: Mapping[str, Any]) -> float:
        def tokens(name: str) -> float:
            value = usage.get(name)
            return float(value) if isinstance(value, int | float) and value > 0 else 0.0

        per_token_in, per_token_out = self.input / 1e6, self.output / 1e6
        server = usage.get("server_tool_use")
        searches = server.get("web_search_requests", 0) if isinstance(server, dict) else 0
        return (
            tokens("input_tokens") * per_token_in
            + tokens("cache_creation_input_tokens") * per_token_in * CACHE_WRITE
            + tokens("cache_read_input_tokens") * per_token_in * CACHE_READ
            + tokens("output_tokens") * per_token_out
            + (searches if isinstance(searches, int) and searches > 0 else 0) * WEB_SEARCH_USD
        )


PRICES = {
    "claude-opus-4-5": Price(5, 25),
    "claude-opus-4-1": Price(15, 75),
    "claude-opus-4": Price(15, 75),
    "claude-sonnet-4-5": Price(3, 15),
    "claude-sonnet-4": Price(3, 15),
    "claude-3-7-sonnet": Price(3, 15),
    "claude-haiku-4-5": Price(1, 5),
    "claude-3-5-haiku": Price(0.8, 4),
    "claude-3-haiku": Price(0.25, 1.25),
}
HIGHEST = Price(15, 75)


def price_of(model: str) -> Price:
    matches = [family for family in PRICES if family in model]
    return PRICES[max(matches, key=len)] if matches else HIGHEST
