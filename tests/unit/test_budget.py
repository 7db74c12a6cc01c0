"""Budgets: checked before each call at maximum output; over budget says why and what fits."""

from __future__ import annotations

from decimal import Decimal

from tandem.config import Budget, BudgetSettings
from tandem.policy.budgets import check_budget, classify_task_type
from tandem.values import StepEstimate

BUDGETS = BudgetSettings(
    small=Budget(max_tokens=10_000, max_usd=Decimal("0.05")),
    bugfix=Budget(max_tokens=20_000, max_usd=Decimal("0.10")),
    feature=Budget(max_tokens=50_000, max_usd=Decimal("0.50")),
    risky=Budget(max_tokens=100_000, max_usd=Decimal("2.00")),
)


def _estimate(alias: str, input_tokens: int, usd_max: str | None, output_max: int = 2000):
    return StepEstimate(
        step="draft",
        alias=alias,
        provider="openai",
        model=f"model-{alias}",
        input_tokens=input_tokens,
        output_tokens_typical=500,
        output_tokens_max=output_max,
        usd_typical=None if usd_max is None else Decimal(usd_max) / 2,
        usd_max=None if usd_max is None else Decimal(usd_max),
    )  # type: ignore[no-untyped-def]


def test_task_type_is_classified_from_risk_size_and_request() -> None:
    assert classify_task_type("add a filter", "high", 10) == "risky"
    assert classify_task_type("add a filter", "low", 10) == "small"
    assert classify_task_type("fix the crash on empty input", "medium", 60) == "bugfix"
    assert classify_task_type("add a filter", "medium", 60) == "feature"


def test_a_step_that_fits_is_allowed() -> None:
    check = check_budget("small", BUDGETS, _estimate("cheap", 3000, "0.01"), (1000, Decimal(0)))
    assert check.allowed and check.projected_tokens == 6000


def test_maximum_output_counts_against_the_token_budget() -> None:
    estimate = _estimate("cheap", 3000, "0.01", output_max=8000)
    check = check_budget("small", BUDGETS, estimate, (0, Decimal(0)))
    assert not check.allowed
    assert "11000 tokens (spent 0 + this step up to 11000) exceeds the small budget of 10000" in (
        check.message
    )


def test_what_the_task_already_spent_counts() -> None:
    estimate = _estimate("strong", 2000, "0.02")
    check = check_budget("small", BUDGETS, estimate, (1000, Decimal("0.04")))
    assert not check.allowed
    assert "$0.0600 (spent $0.0400 + this step up to $0.0200)" in check.message


def test_refusal_suggests_the_cheap_model_when_it_fits() -> None:
    strong = _estimate("strong", 4000, "0.20")
    cheap = _estimate("cheap", 4000, "0.01")
    check = check_budget("small", BUDGETS, strong, (0, Decimal(0)), alternatives=[cheap])
    assert not check.allowed
    assert "the cheap model (model-cheap) (up to $0.0100)" in check.message
    assert "task type feature (--task-type feature)" in check.message


def test_refusal_suggests_a_smaller_context_when_input_is_the_problem() -> None:
    check = check_budget("small", BUDGETS, _estimate("cheap", 9000, None), (0, Decimal(0)))
    assert "a smaller context: about 8000 input tokens" in check.message


def test_unpriced_models_are_checked_on_tokens_only() -> None:
    check = check_budget("small", BUDGETS, _estimate("local", 1000, None), (0, Decimal(0)))
    assert check.allowed and check.projected_usd is None
