"""From the wire to the ledger: tokens as the provider reported them, dollars as genai-prices says.

A real SDK parses a real wire-format response (mock transport); the reply's usage is priced and
recorded; the ledger's row must equal the response's own usage block, and its dollars must equal
what genai-prices computes from the raw response by itself (``extract_usage`` + ``calc_price``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import genai_prices
import pytest
from provider_wire import (
    Sleeps,
    Wire,
    anthropic_message,
    make,
    request_for,
    respond,
    responses_body,
)

from factories import step_record
from tandem.config import ModelSettings
from tandem.cost.prices import price_usage
from tandem.ledger.sqlite import SqliteLedger
from tandem.providers.base import ModelReply
from tandem.values import StepRecord

AT = datetime(2026, 11, 1, tzinfo=UTC)


def record_of(reply: ModelReply) -> StepRecord:
    model = ModelSettings(provider=reply.provider, model=reply.model)  # type: ignore[arg-type]
    return step_record(
        "wire",
        step="plan",
        provider=reply.provider,
        model=reply.model,
        usage=reply.usage,
        cost=price_usage(model, reply.usage, at=AT),
        attempts=reply.attempts,
        started_at=AT,
    )


@pytest.mark.parametrize(
    ("provider", "model", "body", "flavor"),
    [
        ("anthropic", "claude-sonnet-4-6", anthropic_message(), "default"),
        ("openai", "gpt-5-mini", responses_body(), "responses"),
    ],
)
async def test_ledger_row_equals_the_wire_usage_and_genai_prices_figure(
    tmp_path: Path, provider: str, model: str, body: dict[str, Any], flavor: str
) -> None:
    reply = await make(provider, Wire([respond(200, body)]), Sleeps(), model=model).complete(
        request_for()
    )
    with SqliteLedger(tmp_path / "ledger.sqlite") as ledger:
        ledger.record_step(record_of(reply))
        (row,) = ledger.steps()
    usage, wire = row.record.usage, body["usage"]
    if provider == "anthropic":
        assert usage.input_tokens == wire["input_tokens"]
        assert usage.cache_read_tokens == wire["cache_read_input_tokens"]
        assert usage.cache_write_tokens == wire["cache_creation_input_tokens"]
        assert usage.output_tokens == wire["output_tokens"]
    else:
        cached = wire["input_tokens_details"]["cached_tokens"]
        assert usage.input_tokens + usage.cache_read_tokens == wire["input_tokens"]
        assert usage.cache_read_tokens == cached
        assert usage.output_tokens == wire["output_tokens"]
        assert usage.reasoning_tokens == wire["output_tokens_details"]["reasoning_tokens"]
    extracted = genai_prices.extract_usage(body, provider_id=provider, api_flavor=flavor)
    expected = extracted.calc_price(genai_request_timestamp=AT).total_price
    assert row.record.cost_usd == expected
