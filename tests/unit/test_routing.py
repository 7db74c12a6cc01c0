"""Routing: step × tier → alias or skip, every decision with its reason."""

from __future__ import annotations

import pytest

from tandem.config import Settings
from tandem.policy.routing import RoutingError, baseline_routes, route_step, route_task


def test_default_table_follows_the_seed_guidance() -> None:
    settings = Settings()
    low = route_task("low", settings, lines_touched=50)
    assert {s: r.alias for s, r in low.items()} == {
        "plan": "cheap", "draft": "cheap", "review": "cheap"
    }  # fmt: skip
    high = route_task("high", settings, lines_touched=50)
    assert {s: r.alias for s, r in high.items()} == {
        "plan": "strong", "draft": "cheap", "review": "strong"
    }  # fmt: skip
    assert high["plan"].reason == "high risk: plan on strong (routes.plan.high)"
    assert high["plan"].model == "claude-sonnet-4-6"


def test_trivial_low_risk_review_is_skipped_with_the_threshold_named() -> None:
    route = route_step("review", "low", Settings(), lines_touched=4)
    assert route.skipped
    assert "4 lines ≤ routes.trivial_max_lines = 10" in route.reason


def test_review_runs_on_a_trivial_change_when_asked() -> None:
    route = route_step("review", "low", Settings(), lines_touched=4, review_requested=True)
    assert route.alias == "cheap"


def test_trivial_medium_risk_change_is_still_reviewed() -> None:
    assert route_step("review", "medium", Settings(), lines_touched=4).alias == "strong"


def test_single_model_mode_puts_every_step_on_one_alias() -> None:
    settings = Settings.model_validate({"routes": {"single_model": "cheap"}})
    routes = route_task("high", settings, lines_touched=100)
    assert {r.alias for r in routes.values()} == {"cheap"}
    assert routes["plan"].reason == "single-model mode: every step runs on cheap"


def test_skip_in_the_table_skips_the_step() -> None:
    settings = Settings.model_validate({"routes": {"plan": {"low": "skip", "medium": "strong",
                                                            "high": "strong"}}})  # fmt: skip
    route = route_step("plan", "low", settings, lines_touched=100)
    assert route.skipped and route.reason == "routes.plan.low is 'skip'"


def test_baseline_is_every_step_on_strong() -> None:
    routes = baseline_routes(Settings())
    assert {r.alias for r in routes.values()} == {"strong"}


def test_unknown_alias_is_a_clear_error() -> None:
    settings = Settings.model_validate({"routes": {"single_model": "cheap"}})
    settings = settings.model_copy(update={"models": {"strong": settings.models["strong"]}})
    with pytest.raises(RoutingError, match="names model alias 'cheap'; known: strong"):
        route_step("plan", "low", settings, lines_touched=100)
