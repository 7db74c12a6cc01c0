"""The routing table: step × risk tier → a model alias or skip, each decision with its reason.

Pure: settings in, :class:`~tandem.values.Route` out. The defaults follow the seed guidance: a
small low-risk change runs on the cheap model end to end; medium and high risk are planned and
reviewed by the strong model and drafted by the cheap one; review of a trivial low-risk edit is
skipped unless asked for. ``routes.single_model`` puts every step on one alias (the baseline).
"""

from __future__ import annotations

from tandem.config import SKIP, Settings, TierRoutes
from tandem.values import RiskTier, Route, StepName

STEPS: tuple[StepName, ...] = ("plan", "draft", "review")
BASELINE_ALIAS = "strong"


class RoutingError(ValueError):
    """A route naming an alias that settings do not define."""


def _route(step: StepName, alias: str, settings: Settings, reason: str) -> Route:
    model = settings.models.get(alias)
    if model is None:
        known = ", ".join(sorted(settings.models))
        raise RoutingError(f"route for {step} names model alias {alias!r}; known: {known}")
    return Route(step=step, alias=alias, provider=model.provider, model=model.model, reason=reason)


def _skip(step: StepName, reason: str) -> Route:
    return Route(step=step, alias=None, reason=reason)


def route_step(
    step: StepName,
    tier: RiskTier,
    settings: Settings,
    *,
    lines_touched: int,
    review_requested: bool = False,
) -> Route:
    """Which alias runs ``step`` for a change of ``tier`` touching ``lines_touched`` lines."""
    routes = settings.routes
    if (
        step == "review"
        and tier == "low"
        and routes.skip_review_for_trivial
        and lines_touched <= routes.trivial_max_lines
        and not review_requested
    ):
        return _skip(
            step,
            f"trivial low-risk change ({lines_touched} lines ≤ routes.trivial_max_lines = "
            f"{routes.trivial_max_lines}): review skipped unless asked for",
        )
    if routes.single_model is not None:
        alias = routes.single_model
        return _route(step, alias, settings, f"single-model mode: every step runs on {alias}")
    table: TierRoutes = getattr(routes, step)
    alias = getattr(table, tier)
    if alias == SKIP:
        return _skip(step, f"routes.{step}.{tier} is 'skip'")
    return _route(step, alias, settings, f"{tier} risk: {step} on {alias} (routes.{step}.{tier})")


def route_task(
    tier: RiskTier, settings: Settings, *, lines_touched: int, review_requested: bool = False
) -> dict[StepName, Route]:
    return {
        step: route_step(
            step, tier, settings, lines_touched=lines_touched, review_requested=review_requested
        )
        for step in STEPS
    }


def baseline_alias(settings: Settings) -> str:
    """The alias of the all-strong baseline: ``strong`` if defined, else the high-risk planner."""
    if BASELINE_ALIAS in settings.models:
        return BASELINE_ALIAS
    high = settings.routes.plan.high
    return high if high != SKIP else next(iter(settings.models))


def baseline_routes(settings: Settings) -> dict[StepName, Route]:
    """Every step on the strong model, nothing skipped: what the split is compared against."""
    alias = baseline_alias(settings)
    return {
        step: _route(step, alias, settings, f"baseline: every step on {alias}") for step in STEPS
    }
