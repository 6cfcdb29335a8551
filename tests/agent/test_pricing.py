"""List prices from the usage the API reports: every billed dimension, or a refusal."""

from __future__ import annotations

import pytest

from faalf import pricing
from faalf.pricing import UnpricedError, check_request, price_of

HAIKU, SONNET = price_of("claude-haiku-4-5"), price_of("claude-sonnet-4-5-20250929")


def test_cache_writes_are_priced_by_their_ttl():
    usage = {"cache_creation_input_tokens": 3_000_000,
             "cache_creation": {"ephemeral_5m_input_tokens": 1_000_000,
                                "ephemeral_1h_input_tokens": 2_000_000}}  # fmt: skip

    assert HAIKU.cost(usage) == pytest.approx(1.25 + 2 * 2.0)


def test_cache_writes_without_a_breakdown_are_priced_at_the_one_hour_rate():
    assert HAIKU.cost({"cache_creation_input_tokens": 1_000_000}) == pytest.approx(2.0)


def test_long_context_counts_cache_reads_towards_the_threshold():
    usage = {"input_tokens": 150_000, "cache_read_input_tokens": 60_000, "output_tokens": 1_000}
    expected = 150_000 * 6e-6 + 60_000 * 6e-6 * 0.1 + 1_000 * 22.5e-6

    assert SONNET.cost(usage) == pytest.approx(expected)


def test_at_the_threshold_the_standard_price_applies():
    assert SONNET.cost({"input_tokens": 200_000}) == pytest.approx(0.6)


def test_web_searches_are_priced_per_search():
    assert HAIKU.cost({"server_tool_use": {"web_search_requests": 3}}) == pytest.approx(0.03)


def test_us_only_inference_is_priced_at_ten_percent_more():
    assert HAIKU.cost({"input_tokens": 1_000_000, "inference_geo": "us"}) == pytest.approx(1.1)


def test_a_bedrock_geographic_profile_is_priced_above_list():
    assert price_of("eu.anthropic.claude-haiku-4-5-20251001-v1:0").cost(
        {"input_tokens": 1_000_000}
    ) == pytest.approx(1.1)


def test_report_only_usage_fields_do_not_change_the_price():
    usage = {"input_tokens": 1_000_000, "output_tokens_details": {"thinking_tokens": 5},
             "iterations": [{"input_tokens": 1_000_000}], "service_tier": "standard"}  # fmt: skip

    assert HAIKU.cost(usage) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "usage",
    [
        {"quantum_tokens": 5},
        {"service_tier": "priority"},
        {"speed": "fast"},
        {"inference_geo": "eu"},
        {"server_tool_use": {"web_fetch_requests": 1}},
        {"cache_creation": {"ephemeral_24h_input_tokens": 10}},
    ],
    ids=["unknown-field", "priority", "fast", "geo", "web-fetch", "cache-ttl"],
)
def test_usage_the_proxy_cannot_price_is_refused(usage):
    with pytest.raises(UnpricedError):
        HAIKU.cost(usage)


@pytest.mark.parametrize(
    ("body", "betas"),
    [
        ({}, ["files-api-2025-04-14"]),
        ({"tools": [{"type": "code_execution_20250825"}]}, []),
        ({"tools": [{"type": "web_fetch_20250910"}]}, []),
        ({"speed": "fast"}, []),
        ({"service_tier": "auto"}, []),
    ],
    ids=["beta", "code-execution", "web-fetch", "fast", "tier"],
)
def test_requests_the_proxy_cannot_price_are_refused(body, betas):
    with pytest.raises(UnpricedError):
        check_request(body, betas)


def test_claude_codes_own_requests_are_priced():
    betas = ["claude-code-20250219", "interleaved-thinking-2025-05-14",
             "context-management-2025-06-27", "thinking-token-count-2026-05-13",
             "advanced-tool-use-2025-11-20"]  # fmt: skip

    check_request({"tools": [{"name": "Bash", "input_schema": {}}]}, betas)


def test_haiku_3_cache_reads_are_priced_at_their_list_price():
    assert price_of("claude-3-haiku-20240307").cost(
        {"cache_read_input_tokens": 1_000_000}
    ) == pytest.approx(0.03)


def test_a_requests_input_is_bounded_by_its_context_window():
    sonnet = price_of("claude-sonnet-4-5")

    assert price_of("claude-haiku-4-5").input_tokens_at_most([]) == 200_000
    assert sonnet.input_tokens_at_most(["context-1m-2025-08-07"]) == 1_000_000
    assert price_of("claude-haiku-4-5").input_tokens_at_most(["context-1m-2025-08-07"]) == 200_000
    assert price_of("claude-future-9").input_tokens_at_most([]) == 1_000_000  # unknown: the most


def test_the_most_an_input_can_cost_is_all_of_it_written_to_the_one_hour_cache():
    sonnet = price_of("claude-sonnet-4-5")

    assert price_of("claude-haiku-4-5").input_cost_at_most(200_000) == pytest.approx(0.44)
    assert sonnet.input_cost_at_most(1_000_000) == pytest.approx(1_000_000 * 3 * 2 * 2 * 1.1 / 1e6)
    assert sonnet.output_per_token(1_000_000) == pytest.approx(15 * 1.5 / 1e6)


def test_web_search_grows_a_requests_input_as_it_runs():
    assert pricing.grows_its_input({"tools": [{"type": "web_search_20250305", "name": "s"}]})
    assert not pricing.grows_its_input({"tools": [{"name": "Bash", "input_schema": {}}]})
