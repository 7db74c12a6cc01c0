"""Routing advice: the ledger's evidence turned into concrete route changes, each with its numbers.

The rules (thresholds and the minimum sample in ``[advice]``):

- a tier's review that, over at least ``min_runs`` runs, caught nothing and changed nothing
  (at most ``skip_review_max_catch_pct`` of runs) → ``routes.review.<tier> = "skip"``; never for
  a tier whose tasks had defects after merge (those keep, or get back, their review);
- a tier drafted on a model other than the strong alias whose drafts drew blocking findings in
  more than ``strong_draft_blocking_pct`` of its tasks → draft it on the strong alias;
- a low or medium tier planned on a model other than the cheap alias whose plans were never
  edited and never led to a rewrite → plan it on the cheap alias.

Below the minimum sample, the advice says "not enough evidence yet" and suggests nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from tandem.config.models import SKIP, Settings
from tandem.reports.evidence import Evidence
from tandem.reports.step_value import StepValue, step_values

TIERS = ("low", "medium", "high")
CHEAP_PLAN_TIERS = ("low", "medium")
NOT_ENOUGH = "not enough evidence yet"


@dataclass(frozen=True)
class Advice:
    setting: str
    current: str
    suggested: str | None
    """None: keep the setting (too few runs, or a rule that protects it)."""
    reason: str
    evidence: dict[str, object] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return {
            "setting": self.setting,
            "current": self.current,
            "suggested": self.suggested,
            "reason": self.reason,
            "evidence": self.evidence,
        }


def _totals(values: list[StepValue], step: str, tier: str) -> tuple[int, Decimal, int, int]:
    chosen = [v for v in values if (v.step, v.tier) == (step, tier)]
    return (
        sum(v.runs for v in chosen),
        sum((v.cost_usd for v in chosen), Decimal(0)),
        sum(v.catches for v in chosen),
        sum(v.changed_runs for v in chosen),
    )


def _too_few(setting: str, current: str, runs: int, minimum: int, what: str) -> Advice:
    return Advice(
        setting,
        current,
        None,
        f"{NOT_ENOUGH}: {runs} {what} in the window, {minimum} needed (advice.min_runs)",
        {"runs": runs, "min_runs": minimum},
    )


def review_advice(evidence: Evidence, values: list[StepValue], settings: Settings) -> list[Advice]:
    limits = settings.advice
    out: list[Advice] = []
    defects: dict[str, int] = defaultdict(int, evidence.defects)
    for tier in TIERS:
        setting, current = f"routes.review.{tier}", getattr(settings.routes.review, tier)
        runs, cost, catches, changed = _totals(values, "review", tier)
        facts: dict[str, object] = {
            "runs": runs,
            "cost_usd": str(cost),
            "catches": catches,
            "changed_runs": changed,
            "defects_after": defects[tier],
        }
        if current == SKIP:
            if defects[tier] and limits.strong_alias in settings.models:
                reason = f"{defects[tier]} defects after merge in {tier}-risk tasks: review them"
                out.append(Advice(setting, current, limits.strong_alias, reason, facts))
            continue
        if runs < limits.min_runs:
            out.append(_too_few(setting, current, runs, limits.min_runs, f"{tier}-risk reviews"))
            continue
        share = 100 * max(catches, changed) / runs
        if share > limits.skip_review_max_catch_pct:
            continue
        if defects[tier]:
            reason = (
                f"{runs} reviews of {tier}-risk work caught nothing, but {defects[tier]} defects "
                "were found after merge: the review stays"
            )
            out.append(Advice(setting, current, None, reason, facts))
            continue
        reason = (
            f"{runs} reviews of {tier}-risk work cost ${cost} and caught nothing "
            f"({catches} catches, {changed} runs changed the outcome, no defects after merge)"
        )
        out.append(Advice(setting, current, SKIP, reason, facts))
    return out


def draft_advice(evidence: Evidence, settings: Settings) -> list[Advice]:
    limits = settings.advice
    out: list[Advice] = []
    if limits.strong_alias not in settings.models:
        return out
    for tier in TIERS:
        setting, current = f"routes.draft.{tier}", getattr(settings.routes.draft, tier)
        if current in (SKIP, limits.strong_alias):
            continue
        drafted = evidence.tier("draft", tier)
        tasks, blocked = drafted.tasks, drafted.blocked
        if tasks < limits.min_runs:
            out.append(
                _too_few(setting, current, tasks, limits.min_runs, f"{tier}-risk drafted tasks")
            )
            continue
        share = round(100 * blocked / tasks, 1)
        if share <= limits.strong_draft_blocking_pct:
            continue
        reason = (
            f"the drafts of {blocked} of {tasks} {tier}-risk tasks on {current!r} drew "
            f"blocking findings ({share}%, over {limits.strong_draft_blocking_pct:g}%): draft "
            f"them on {limits.strong_alias!r}"
        )
        facts: dict[str, object] = {
            "runs": tasks,
            "blocked_runs": blocked,
            "blocked_pct": share,
        }
        out.append(Advice(setting, current, limits.strong_alias, reason, facts))
    return out


def plan_advice(evidence: Evidence, settings: Settings) -> list[Advice]:
    limits = settings.advice
    out: list[Advice] = []
    if limits.cheap_alias not in settings.models:
        return out
    for tier in CHEAP_PLAN_TIERS:
        setting, current = f"routes.plan.{tier}", getattr(settings.routes.plan, tier)
        if current in (SKIP, limits.cheap_alias):
            continue
        planned = evidence.tier("plan", tier)
        if planned.tasks < limits.min_runs:
            out.append(
                _too_few(setting, current, planned.tasks, limits.min_runs, f"{tier}-risk plans")
            )
            continue
        facts: dict[str, object] = {
            "runs": planned.tasks,
            "edited": planned.plan_edited,
            "rewritten_tasks": planned.rewritten,
        }
        if planned.plan_edited or planned.rewritten:
            continue
        reason = (
            f"{planned.tasks} {tier}-risk plans on {current!r} were never edited and never led "
            f"to a rewrite: plan them on {limits.cheap_alias!r}"
        )
        out.append(Advice(setting, current, limits.cheap_alias, reason, facts))
    return out


def advise(
    evidence: Evidence, settings: Settings, values: list[StepValue] | None = None
) -> list[Advice]:
    """Every piece of advice for the window: suggestions first, then what is held back.
    ``values``: the evidence's step values when already computed."""
    values = step_values(evidence) if values is None else values
    found = (
        plan_advice(evidence, settings)
        + draft_advice(evidence, settings)
        + review_advice(evidence, values, settings)
    )
    return sorted(found, key=lambda a: a.suggested is None)


def changes(advice: list[Advice]) -> dict[str, str]:
    """The settings ``--apply`` would write: dotted name -> suggested value."""
    return {a.setting: a.suggested for a in advice if a.suggested is not None}
