"""Prices: genai-prices with explicit provider ids, user prices, local servers, unpriced models."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import genai_prices
import pytest

from tandem.config import ModelSettings, PriceOverride
from tandem.cost.prices import is_local_url, price_usage
from tandem.values import Usage

# Prices change over time: every figure here is for a fixed request date.
AT = datetime(2026, 11, 1, tzinfo=UTC)

SONNET = ModelSettings(provider="anthropic", model="claude-sonnet-4-6")
GPT = ModelSettings(provider="openai", model="gpt-4.1-mini")


def test_anthropic_price_equals_genai_prices_figure() -> None:
    usage = Usage(input_tokens=12_000, output_tokens=900)
    expected = genai_prices.calc_price(
        genai_prices.Usage(input_tokens=12_000, output_tokens=900),
        model_ref="claude-sonnet-4-6",
        provider_id="anthropic",
        genai_request_timestamp=AT,
    ).total_price
    assert price_usage(SONNET, usage, at=AT) == expected
    # $3 in / $15 out per million at that date.
    assert expected == Decimal("0.0495")


SONNET_45 = ModelSettings(provider="anthropic", model="claude-sonnet-4-5")


@pytest.mark.parametrize("at", [AT, None], ids=["ledger-at-request-time", "estimate-today"])
def test_tiered_model_prices_an_ordinary_request_at_the_base_tier(at: datetime | None) -> None:
    # claude-sonnet-4-5 lists $3 in / $15 out, and $6 / $22.50 once a request's input passes
    # 200k tokens; the long-context tier applies per request, never to ordinary ones.
    assert price_usage(SONNET_45, Usage(input_tokens=12_000, output_tokens=900), at=at) == (
        Decimal("0.0495")
    )
    assert price_usage(SONNET_45, Usage(input_tokens=200_000), at=at) == Decimal("0.6")
    assert price_usage(SONNET_45, Usage(input_tokens=200_001), at=at) == Decimal("1.200006")
    # Cached input counts toward the 200k: 150k fresh + 100k cache reads is a long request.
    usage = Usage(input_tokens=150_000, cache_read_tokens=100_000)
    assert price_usage(SONNET_45, usage, at=at) == Decimal("0.96")


def test_cache_reads_and_writes_are_priced_at_their_own_rates() -> None:
    usage = Usage(
        input_tokens=1_000_000,
        cache_read_tokens=1_000_000,
        cache_write_tokens=1_000_000,
        output_tokens=0,
    )
    # Sonnet 4.6: input $3, cache read $0.30, cache write (5 min) $3.75 per million.
    assert price_usage(SONNET, usage, at=AT) == Decimal("7.05")


def test_openai_cached_input_is_not_billed_twice() -> None:
    # Our input_tokens excludes the cached part, so 1M fresh + 1M cached = 2M prompt tokens.
    usage = Usage(input_tokens=1_000_000, cache_read_tokens=1_000_000)
    # gpt-4.1-mini: $0.40 input, $0.10 cached input.
    assert price_usage(GPT, usage, at=AT) == Decimal("0.5")


def test_reasoning_tokens_are_billed_once_as_output() -> None:
    with_reasoning = Usage(input_tokens=0, output_tokens=1_000_000, reasoning_tokens=800_000)
    without = Usage(input_tokens=0, output_tokens=1_000_000)
    assert price_usage(GPT, with_reasoning, at=AT) == price_usage(GPT, without, at=AT)
    assert price_usage(GPT, without, at=AT) == Decimal("1.6")


def test_unknown_model_is_unpriced_not_guessed() -> None:
    model = ModelSettings(provider="anthropic", model="claude-imaginary-9")
    assert price_usage(model, Usage(input_tokens=10, output_tokens=10), at=AT) is None


def test_model_of_another_provider_is_unpriced_under_an_explicit_provider() -> None:
    # gpt-4.1-mini exists, but not at Anthropic: no silent cross-provider match.
    model = ModelSettings(provider="anthropic", model="gpt-4.1-mini")
    assert price_usage(model, Usage(input_tokens=10), at=AT) is None


def test_user_price_overrides_genai_prices() -> None:
    model = SONNET.model_copy(
        update={"price": PriceOverride(input_per_mtok=Decimal(1), output_per_mtok=Decimal(2))}
    )
    usage = Usage(input_tokens=1_000_000, cache_read_tokens=500_000, output_tokens=250_000)
    # Cache reads default to the input price when the user set none.
    assert price_usage(model, usage, at=AT) == Decimal("2.0")


def test_user_price_cache_rates_apply() -> None:
    price = PriceOverride(
        input_per_mtok=Decimal(1),
        output_per_mtok=Decimal(2),
        cache_read_per_mtok=Decimal("0.1"),
        cache_write_per_mtok=Decimal(5),
    )
    model = ModelSettings(provider="openai-compatible", model="mine", price=price)
    usage = Usage(cache_read_tokens=1_000_000, cache_write_tokens=1_000_000)
    assert price_usage(model, usage) == Decimal("5.1")


@pytest.mark.parametrize(
    "url",
    ["http://localhost:11434/v1", "http://127.0.0.1:8080", "http://[::1]:8000/v1", "127.0.0.1:9"],
)
def test_local_openai_compatible_server_costs_nothing(url: str) -> None:
    model = ModelSettings(provider="openai-compatible", model="qwen2.5-coder", base_url=url)
    assert price_usage(model, Usage(input_tokens=5_000, output_tokens=5_000)) == Decimal(0)


@pytest.mark.parametrize(
    "url",
    [None, "https://api.together.xyz/v1", "http://10.0.0.5:8000", "http://localhost.evil.com"],
)
def test_remote_openai_compatible_without_price_is_unpriced(url: str | None) -> None:
    model = ModelSettings(provider="openai-compatible", model="qwen2.5-coder", base_url=url)
    assert price_usage(model, Usage(input_tokens=5_000)) is None


def test_fake_provider_costs_nothing() -> None:
    model = ModelSettings(provider="fake", model="scripted")
    assert price_usage(model, Usage(input_tokens=5, output_tokens=5)) == Decimal(0)


def test_local_url_detection() -> None:
    assert is_local_url("http://app.localhost:3000")
    assert not is_local_url("")
    assert not is_local_url("http://[not-an-ip")
