"""Budgets and prices in settings: negative or absurd values are refused with a clear message."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tandem.config import Settings, load_settings


def problems_for(layer: dict[str, Any]) -> list[str]:
    loaded = load_settings(overrides=[("test", layer)])
    return [str(problem) for problem in loaded.problems]


@pytest.mark.parametrize(
    ("layer", "key"),
    [
        ({"budgets": {"small": {"max_usd": -1, "max_tokens": 100}}}, "budgets.small.max_usd"),
        ({"budgets": {"bugfix": {"max_usd": 0, "max_tokens": 100}}}, "budgets.bugfix.max_usd"),
        ({"budgets": {"feature": {"max_usd": 1e9, "max_tokens": 10}}}, "budgets.feature.max_usd"),
        ({"budgets": {"risky": {"max_usd": 1, "max_tokens": -5}}}, "budgets.risky.max_tokens"),
        ({"budgets": {"daily_usd": -3}}, "budgets.daily_usd"),
        ({"budgets": {"confirm_above_usd": -0.01}}, "budgets.confirm_above_usd"),
        (
            {"models": {"m": {"provider": "fake", "model": "x", "price": {"input_per_mtok": -1}}}},
            "models.m.price.input_per_mtok",
        ),
    ],
)
def test_negative_or_absurd_budget_is_rejected_and_defaults_kept(
    layer: dict[str, Any], key: str
) -> None:
    loaded = load_settings(overrides=[("test", layer)])
    assert any(problem.key_path == key for problem in loaded.problems), loaded.problems
    section = key.split(".")[0]
    assert getattr(loaded.settings, section) == getattr(Settings(), section)


def test_sensible_budget_is_accepted() -> None:
    loaded = load_settings(overrides=[("test", {"budgets": {"daily_usd": "2.50"}})])
    assert loaded.problems == ()
    assert loaded.settings.budgets.daily_usd == Decimal("2.50")


def test_problem_message_names_key_value_and_rule() -> None:
    (message,) = problems_for({"budgets": {"daily_usd": -3}})
    assert "budgets.daily_usd = -3 is invalid" in message
    assert "greater than 0" in message
