"""Estimates of what a step, and a whole task, will cost before anything is sent.

Input tokens are counted on the prompt that would really be sent (system + user + the JSON of the
output schema) plus the chat framing. OpenAI models get an exact offline count with their own
encoding. Anthropic models have no offline tokenizer: the o200k count is multiplied by a
per-model calibration factor learned from the ledger (actual input / counted input), or a
default until there is data; such estimates are flagged ``input_is_calibrated_guess``.

Output tokens are a range: typical (the median of the ledger's past outputs for that step and
model, else a per-step default) and maximum (the model's ``max_output_tokens``, what the step may
ask for). Dollars follow from :func:`tandem.cost.prices.price_usage`; ``None`` = unpriced.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from tandem.config import ModelSettings
from tandem.cost.prices import price_usage
from tandem.cost.tokens import EncodingName, count_tokens
from tandem.values import StepEstimate, StepName, Usage

DEFAULT_OUTPUT_TOKENS: dict[str, int] = {"plan": 800, "draft": 1500, "review": 600}
"""Typical reply sizes until the ledger has history: a structured plan, a drafted edit with its
explanation, a review with a few findings."""

DEFAULT_CALIBRATION: dict[str, float] = {"anthropic": 1.23, "openai-compatible": 1.0}
"""Input multiplier until the ledger has learned one. Claude's tokenizer is not public; third-party
measurements (Claude 3.5 Sonnet against GPT-4o) report about +16% tokens on English and +30% on
Python. 1.23 is the midpoint, so a first estimate should land within ~7% if those hold; it was
not measured here (no API access). After a few recorded steps the ledger's ratio replaces it."""

MESSAGE_OVERHEAD_TOKENS = 3
"""Framing per chat message (role and separators), OpenAI's documented accounting."""
REPLY_PRIMING_TOKENS = 3
"""Tokens that prime the assistant's reply."""

_CL100K_PREFIXES = ("gpt-4-", "gpt-3.5", "gpt-35")
_CL100K_EXACT = ("gpt-4",)


class EstimateHistory(Protocol):
    """What the estimator learns from the ledger (the ledger implements it)."""

    def typical_output_tokens(self, step: StepName, provider: str, model: str) -> int | None:
        """Median output tokens of this step on this model, or None without enough history."""
        ...

    def input_calibration(self, provider: str, model: str) -> float | None:
        """Actual input tokens / o200k-counted input tokens for this model, or None."""
        ...


def encoding_for(model: ModelSettings) -> EncodingName:
    """The offline encoding used to count a model's input."""
    name = model.model.lower()
    if model.provider == "openai" and (
        name in _CL100K_EXACT or (name.startswith(_CL100K_PREFIXES) and "gpt-4o" not in name)
    ):
        return "cl100k_base"
    return "o200k_base"


def has_exact_tokenizer(model: ModelSettings) -> bool:
    """OpenAI models (and the fake provider, which counts with o200k) are counted exactly."""
    return model.provider in ("openai", "fake")


@lru_cache(maxsize=128)
def _count(text: str, encoding: EncodingName) -> int:
    # A task estimate counts the same prompt for several models (the split and the baseline):
    # counting is the costly part, hashing the text is cheap.
    return count_tokens(text, encoding)


def count_prompt_tokens(
    model: ModelSettings, *, system: str, user: str, output_schema: dict[str, Any] | None
) -> int:
    """Offline count of the prompt (with chat framing) under the model's encoding."""
    return count_request_tokens(
        encoding_for(model), system=system, user=user, output_schema=output_schema
    )


def count_request_tokens(
    encoding: EncodingName, *, system: str, user: str, output_schema: dict[str, Any] | None
) -> int:
    """A request's input tokens as every estimate counts them (the fake provider reports these)."""
    counted = _count(system, encoding) + _count(user, encoding)
    if output_schema is not None:
        schema = json.dumps(output_schema, separators=(",", ":"), sort_keys=True)
        counted += _count(schema, encoding)
    messages = 2 if system else 1
    return counted + messages * MESSAGE_OVERHEAD_TOKENS + REPLY_PRIMING_TOKENS


def calibration_factor(model: ModelSettings, history: EstimateHistory | None) -> float:
    """The multiplier applied to the offline count (1.0 when the count is exact)."""
    if has_exact_tokenizer(model):
        return 1.0
    learned = history.input_calibration(model.provider, model.model) if history else None
    if learned is not None and learned > 0:
        return learned
    return DEFAULT_CALIBRATION.get(model.provider, 1.0)


def estimate_step(
    step: StepName,
    alias: str,
    model: ModelSettings,
    *,
    system: str,
    user: str,
    output_schema: dict[str, Any] | None,
    history: EstimateHistory | None = None,
    at: datetime | None = None,
) -> StepEstimate:
    """What ``step`` on ``model`` should cost for this exact prompt."""
    counted = count_prompt_tokens(model, system=system, user=user, output_schema=output_schema)
    factor = calibration_factor(model, history)
    input_tokens = counted if factor == 1.0 else round(counted * factor)
    output_max = model.max_output_tokens
    learned = history.typical_output_tokens(step, model.provider, model.model) if history else None
    typical = learned if learned is not None else DEFAULT_OUTPUT_TOKENS[step]
    typical = max(0, min(typical, output_max))
    usd_typical = price_usage(model, Usage(input_tokens=input_tokens, output_tokens=typical), at=at)
    usd_max = price_usage(model, Usage(input_tokens=input_tokens, output_tokens=output_max), at=at)
    return StepEstimate(
        step=step,
        alias=alias,
        provider=model.provider,
        model=model.model,
        input_tokens=input_tokens,
        output_tokens_typical=typical,
        output_tokens_max=output_max,
        usd_typical=usd_typical,
        usd_max=usd_max,
        input_is_calibrated_guess=not has_exact_tokenizer(model),
        input_tokens_counted=counted,
    )


def _sum_usd(values: Sequence[Decimal | None]) -> Decimal | None:
    if any(value is None for value in values):
        return None
    return sum((value for value in values if value is not None), Decimal(0))


class TaskEstimate(BaseModel):
    """The steps of one task, their totals, and the same task on the all-strong baseline."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    steps: tuple[StepEstimate, ...]
    baseline: tuple[StepEstimate, ...] = ()
    input_tokens: int = Field(ge=0)
    output_tokens_typical: int = Field(ge=0)
    output_tokens_max: int = Field(ge=0)
    usd_typical: Decimal | None = Field(description="None when any step is unpriced.")
    usd_max: Decimal | None
    baseline_usd_typical: Decimal | None = None
    baseline_usd_max: Decimal | None = None

    @property
    def saving_usd_typical(self) -> Decimal | None:
        """Baseline minus split (positive = the split is cheaper), when both are priced."""
        if self.usd_typical is None or self.baseline_usd_typical is None or not self.baseline:
            return None
        return self.baseline_usd_typical - self.usd_typical

    @property
    def saving_fraction(self) -> float | None:
        saving = self.saving_usd_typical
        if saving is None or not self.baseline_usd_typical:
            return None
        return float(saving / self.baseline_usd_typical)


def estimate_task(
    steps: Sequence[StepEstimate], baseline: Sequence[StepEstimate] = ()
) -> TaskEstimate:
    """Totals of the split's step estimates, beside the baseline's (all-strong) estimates."""
    return TaskEstimate(
        steps=tuple(steps),
        baseline=tuple(baseline),
        input_tokens=sum(step.input_tokens for step in steps),
        output_tokens_typical=sum(step.output_tokens_typical for step in steps),
        output_tokens_max=sum(step.output_tokens_max for step in steps),
        usd_typical=_sum_usd([step.usd_typical for step in steps]),
        usd_max=_sum_usd([step.usd_max for step in steps]),
        baseline_usd_typical=_sum_usd([step.usd_typical for step in baseline])
        if baseline
        else None,
        baseline_usd_max=_sum_usd([step.usd_max for step in baseline]) if baseline else None,
    )
