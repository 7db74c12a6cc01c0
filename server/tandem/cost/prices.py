"""Dollar prices of model calls: genai-prices with explicit provider ids, or the user's own price.

Rules, in order:

1. A ``price`` set by the user on the model alias wins (local, private or re-sold models).
2. ``fake`` models cost $0; ``openai-compatible`` models cost $0 when their base URL is on this
   machine (localhost, 127.0.0.0/8, ::1) and are *unpriced* (``None``) otherwise.
3. ``anthropic`` / ``openai`` models are priced by genai-prices for that exact provider id;
   a model genai-prices does not know is unpriced (``None``), never a fuzzy guess.

Our :class:`~tandem.values.Usage` counts ``input_tokens`` *without* cache reads/writes and
``output_tokens`` *with* reasoning. genai-prices 0.2 uses a unit hierarchy where
``input_tokens`` is the *total* input and cache read/write are its sub-units (priced at their own
rate, subtracted from the plain input rate), and ``output_reasoning_tokens`` is a sub-unit of
``output_tokens``. :func:`genai_usage` does that conversion.
"""

from __future__ import annotations

import ipaddress
import logging
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from tandem.config import ModelSettings, PriceOverride
from tandem.values import Usage

logger = logging.getLogger("tandem.cost")

PRICED_PROVIDERS: dict[str, str] = {"anthropic": "anthropic", "openai": "openai"}
"""Our provider name -> genai-prices provider id (never left for genai-prices to infer)."""

_MTOK = Decimal(1_000_000)


def is_local_url(base_url: str | None) -> bool:
    """Whether ``base_url`` points at this machine (a local model server is free to call)."""
    if not base_url:
        return False
    candidate = base_url if "://" in base_url else f"http://{base_url}"
    try:
        host = urlsplit(candidate).hostname
    except ValueError:
        return False
    if host is None:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def genai_usage(usage: Usage) -> Any:
    """Our usage as a ``genai_prices.Usage`` (total input with cache as sub-units)."""
    import genai_prices

    values: dict[str, int] = {
        "input_tokens": usage.total_input_tokens,
        "output_tokens": usage.output_tokens,
    }
    if usage.cache_read_tokens:
        values["cache_read_tokens"] = usage.cache_read_tokens
    if usage.cache_write_tokens:
        values["cache_write_tokens"] = usage.cache_write_tokens
    if usage.reasoning_tokens:
        # Reasoning is already inside output_tokens; naming it lets genai-prices apply a distinct
        # reasoning rate where one exists (otherwise it is billed as plain output).
        values["output_reasoning_tokens"] = min(usage.reasoning_tokens, usage.output_tokens)
    return genai_prices.Usage(**values)


def price_override(price: PriceOverride, usage: Usage) -> Decimal:
    """Dollars for ``usage`` at a user-set price per million tokens."""
    cache_read = price.cache_read_per_mtok
    cache_write = price.cache_write_per_mtok
    total = (
        usage.input_tokens * price.input_per_mtok
        + usage.cache_read_tokens * (cache_read if cache_read is not None else price.input_per_mtok)
        + usage.cache_write_tokens
        * (cache_write if cache_write is not None else price.input_per_mtok)
        + usage.output_tokens * price.output_per_mtok
    )
    return total / _MTOK


@lru_cache(maxsize=256)
def flat_rates(provider_id: str, model: str, day: date) -> tuple[Decimal, Decimal] | None:
    """Dollars per million input and output tokens on ``day`` when the model's price is flat
    (no tiers, no per-request fee), else None. For plain input + output usage a flat price is
    linear, so estimates (several per hover) need not run the full calculator each time."""
    from genai_prices import data_snapshot

    try:
        _, info = data_snapshot.get_snapshot().find_provider_model(model, None, provider_id, None)
    except LookupError:
        return None
    moment = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    price = info.get_prices(moment)
    fields = {key: value for key, value in vars(price).items() if value is not None}
    rates = fields.get("input_mtok"), fields.get("output_mtok")
    if not all(isinstance(rate, Decimal) for rate in rates) or "requests_kcount" in fields:
        return None
    return rates[0], rates[1]  # type: ignore[return-value]


def genai_price(
    provider_id: str, model: str, usage: Usage, *, at: datetime | None = None
) -> Decimal | None:
    """genai-prices' total for ``usage`` on exactly this provider, or None if unknown there."""
    if at is None:
        return _price_today(provider_id, model, usage, datetime.now(UTC).date())
    return _calculate(provider_id, model, usage, at)


@lru_cache(maxsize=1024)
def _price_today(provider_id: str, model: str, usage: Usage, today: date) -> Decimal | None:
    # Estimates price the same few usages many times per keystroke; prices change by date at
    # most, so the day is part of the key.
    return _calculate(provider_id, model, usage, None)


def _calculate(provider_id: str, model: str, usage: Usage, at: datetime | None) -> Decimal | None:
    import genai_prices

    plain = not (usage.cache_read_tokens or usage.cache_write_tokens or usage.reasoning_tokens)
    if plain and at is None:
        rates = flat_rates(provider_id, model, datetime.now(UTC).date())
        if rates is not None:
            return (usage.input_tokens * rates[0] + usage.output_tokens * rates[1]) / _MTOK
    try:
        calculation = genai_prices.calc_price(
            genai_usage(usage),
            model_ref=model,
            provider_id=provider_id,
            genai_request_timestamp=at,
        )
    except LookupError:
        return None
    except ValueError as error:
        # Inconsistent usage (e.g. reasoning above output) must not crash a step: report unpriced.
        logger.warning("cannot price %s/%s usage %s: %s", provider_id, model, usage, error)
        return None
    total: Decimal = calculation.total_price
    return total


def price_usage(
    model: ModelSettings, usage: Usage, *, at: datetime | None = None
) -> Decimal | None:
    """Dollars for ``usage`` on ``model``; ``None`` means unpriced (unknown, never guessed).

    ``at`` is the time of the request (prices change over time); ``None`` means now.
    """
    if model.price is not None:
        return price_override(model.price, usage)
    if model.provider == "fake":
        return Decimal(0)
    if model.provider == "openai-compatible":
        return Decimal(0) if is_local_url(model.base_url) else None
    provider_id = PRICED_PROVIDERS.get(model.provider)
    if provider_id is None:
        return None
    return genai_price(provider_id, model.model, usage, at=at)


def is_priced(model: ModelSettings) -> bool:
    """Whether :func:`price_usage` gives a figure for this model (for doctor and hovers)."""
    return price_usage(model, Usage()) is not None
