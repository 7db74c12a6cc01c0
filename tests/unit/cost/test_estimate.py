"""Step and task estimates: real token counts, history-driven ranges, dollars, the baseline."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from tandem.config import ModelSettings
from tandem.cost.estimate import (
    DEFAULT_CALIBRATION,
    DEFAULT_OUTPUT_TOKENS,
    encoding_for,
    estimate_step,
    estimate_task,
)
from tandem.cost.prices import price_usage
from tandem.cost.tokens import count_tokens
from tandem.values import StepEstimate, StepName, Usage

AT = datetime(2026, 11, 1, tzinfo=UTC)
GPT = ModelSettings(provider="openai", model="gpt-4.1-mini", max_output_tokens=2000)
SONNET = ModelSettings(provider="anthropic", model="claude-sonnet-4-6", max_output_tokens=4000)
HAIKU = ModelSettings(provider="anthropic", model="claude-haiku-4-5", max_output_tokens=4000)
SCHEMA = {"type": "object", "properties": {"edits": {"type": "array"}}}
SYSTEM = "You draft code edits. Reply in JSON."
USER = "def add(a, b):\n    return a - b\n\n# fix add so that add(2, 2) == 4\n"


class History:
    def __init__(self, output: int | None = None, calibration: float | None = None) -> None:
        self.output = output
        self.calibration = calibration
        self.asked: list[tuple[str, str, str]] = []

    def typical_output_tokens(self, step: StepName, provider: str, model: str) -> int | None:
        self.asked.append((step, provider, model))
        return self.output

    def input_calibration(self, provider: str, model: str) -> float | None:
        return self.calibration


def test_openai_input_is_the_exact_count_of_system_user_and_schema() -> None:
    estimate = estimate_step("draft", "cheap", GPT, system=SYSTEM, user=USER, output_schema=SCHEMA)
    schema_text = json.dumps(SCHEMA, separators=(",", ":"), sort_keys=True)
    content = count_tokens(SYSTEM) + count_tokens(USER) + count_tokens(schema_text)
    # Two messages of 3 framing tokens each plus 3 tokens priming the reply.
    assert estimate.input_tokens == content + 9
    assert estimate.input_tokens_counted == estimate.input_tokens
    assert not estimate.input_is_calibrated_guess


def test_schema_adds_its_tokens() -> None:
    with_schema = estimate_step("plan", "s", GPT, system=SYSTEM, user=USER, output_schema=SCHEMA)
    without = estimate_step("plan", "s", GPT, system=SYSTEM, user=USER, output_schema=None)
    assert with_schema.input_tokens > without.input_tokens


def test_anthropic_input_uses_default_calibration_without_history() -> None:
    estimate = estimate_step("plan", "strong", SONNET, system=SYSTEM, user=USER, output_schema=None)
    assert estimate.input_is_calibrated_guess
    assert estimate.input_tokens_counted is not None
    expected = round(estimate.input_tokens_counted * DEFAULT_CALIBRATION["anthropic"])
    assert estimate.input_tokens == expected


def test_anthropic_input_uses_learned_calibration() -> None:
    history = History(calibration=1.5)
    estimate = estimate_step(
        "plan", "strong", SONNET, system=SYSTEM, user=USER, output_schema=None, history=history
    )
    assert estimate.input_tokens_counted is not None
    assert estimate.input_tokens == round(estimate.input_tokens_counted * 1.5)


def test_typical_output_comes_from_history_for_that_step_and_model() -> None:
    history = History(output=321)
    estimate = estimate_step(
        "review", "strong", SONNET, system=SYSTEM, user=USER, output_schema=None, history=history
    )
    assert estimate.output_tokens_typical == 321
    assert history.asked == [("review", "anthropic", "claude-sonnet-4-6")]


def test_typical_output_defaults_per_step_and_max_is_the_model_limit() -> None:
    estimate = estimate_step("draft", "cheap", GPT, system=SYSTEM, user=USER, output_schema=None)
    assert estimate.output_tokens_typical == DEFAULT_OUTPUT_TOKENS["draft"]
    assert estimate.output_tokens_max == 2000


def test_typical_output_never_exceeds_the_maximum() -> None:
    estimate = estimate_step(
        "draft", "c", GPT, system="", user=USER, output_schema=None, history=History(output=99_999)
    )
    assert estimate.output_tokens_typical == 2000


def test_dollar_range_is_priced_on_the_token_range() -> None:
    estimate = estimate_step(
        "draft", "cheap", GPT, system=SYSTEM, user=USER, output_schema=None, at=AT
    )
    typical = Usage(
        input_tokens=estimate.input_tokens, output_tokens=estimate.output_tokens_typical
    )
    maximum = Usage(input_tokens=estimate.input_tokens, output_tokens=2000)
    assert estimate.usd_typical == price_usage(GPT, typical, at=AT)
    assert estimate.usd_max == price_usage(GPT, maximum, at=AT)
    assert estimate.usd_typical is not None and estimate.usd_max is not None
    assert estimate.usd_typical < estimate.usd_max


def test_unknown_model_estimate_has_tokens_but_no_dollars() -> None:
    model = ModelSettings(provider="openai", model="gpt-unknown-42")
    estimate = estimate_step("plan", "x", model, system=SYSTEM, user=USER, output_schema=None)
    assert estimate.input_tokens > 0
    assert estimate.usd_typical is None and estimate.usd_max is None


def test_older_openai_models_count_with_cl100k() -> None:
    assert encoding_for(ModelSettings(provider="openai", model="gpt-4")) == "cl100k_base"
    assert encoding_for(ModelSettings(provider="openai", model="gpt-3.5-turbo")) == "cl100k_base"
    assert encoding_for(ModelSettings(provider="openai", model="gpt-4o-mini")) == "o200k_base"
    assert encoding_for(ModelSettings(provider="openai", model="gpt-5")) == "o200k_base"


def _split_and_baseline() -> tuple[list[StepEstimate], list[StepEstimate]]:
    def step(name: StepName, alias: str, model: ModelSettings) -> StepEstimate:
        return estimate_step(
            name, alias, model, system=SYSTEM, user=USER, output_schema=None, at=AT
        )

    split = [step("plan", "strong", SONNET), step("draft", "cheap", HAIKU)]
    split.append(step("review", "strong", SONNET))
    baseline = [step(name, "strong", SONNET) for name in ("plan", "draft", "review")]
    return split, baseline


def test_task_totals_and_saving_against_the_all_strong_baseline() -> None:
    split, baseline = _split_and_baseline()
    task = estimate_task(split, baseline)
    assert task.input_tokens == sum(s.input_tokens for s in split)
    assert task.usd_typical == sum((s.usd_typical for s in split), Decimal(0))
    assert task.baseline_usd_typical == sum((s.usd_typical for s in baseline), Decimal(0))
    saving = task.saving_usd_typical
    assert saving is not None and saving > 0  # Haiku drafts for less than Sonnet
    assert task.saving_fraction is not None and 0 < task.saving_fraction < 1


def test_task_with_an_unpriced_step_has_no_dollar_total() -> None:
    split, _ = _split_and_baseline()
    unknown = ModelSettings(provider="openai-compatible", model="m", base_url="https://x.example")
    split.append(estimate_step("draft", "x", unknown, system="", user=USER, output_schema=None))
    task = estimate_task(split)
    assert task.usd_typical is None
    assert task.saving_usd_typical is None
