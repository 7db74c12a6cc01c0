"""Step value (what each step x tier x model bought) and recurring findings, from the evidence.

A *run* is one step of one task in one round (its latest successful call stands for it; every
call, failed or not, counts towards its cost). A review run's *catches* are its findings settled
as a catch; a run *changed the outcome* when a step change records it changed code, tests or the
decision to ship; a defect after merge *slipped past* every run of its task.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, replace
from decimal import Decimal
from posixpath import dirname

from tandem.reports.evidence import Evidence, StepKey, changed_runs
from tandem.reports.tables import Cell, Report, Table

GroupKey = tuple[str, str, str]
"""(step, risk tier, model)."""

STEP_ORDER = {"plan": 0, "draft": 1, "review": 2}
TIER_ORDER = {"low": 0, "medium": 1, "high": 2}


@dataclass(frozen=True)
class StepValue:
    step: str
    tier: str
    model: str
    runs: int
    cost_usd: Decimal
    catches: int
    changed_runs: int
    defects_after: int

    @property
    def usd_per_catch(self) -> Decimal | None:
        return (
            (self.cost_usd / self.catches).quantize(Decimal("0.000001")) if self.catches else None
        )

    @property
    def changed_outcome_pct(self) -> float:
        return round(100 * self.changed_runs / self.runs, 1) if self.runs else 0.0


@dataclass(frozen=True)
class RecurringFinding:
    category: str
    message: str
    folder: str
    count: int
    tasks: tuple[str, ...]


def step_values(evidence: Evidence) -> list[StepValue]:
    """One entry per step x tier x model that ran in the window, in step, tier, model order."""
    runs = evidence.runs
    group_of: dict[StepKey, GroupKey] = {
        key: (fact.step, fact.risk_tier, fact.model) for key, fact in runs.items()
    }
    cost: dict[GroupKey, Decimal] = defaultdict(Decimal)
    for fact in evidence.facts:
        key = (fact.task_id, fact.step, fact.round)
        group = group_of.get(key, (fact.step, fact.risk_tier, fact.model))
        cost[group] += fact.cost_usd or Decimal(0)
    run_count: dict[GroupKey, int] = defaultdict(int)
    for group in group_of.values():
        run_count[group] += 1
    catches: dict[GroupKey, int] = defaultdict(int)
    for finding in evidence.findings:
        review = group_of.get((finding.task_id, "review", finding.review_round))
        if review is not None and finding.outcome == "catch":
            catches[review] += 1
    changed: dict[GroupKey, int] = defaultdict(int)
    for key in changed_runs(evidence.changes):
        if key in group_of:
            changed[group_of[key]] += 1
    defective: dict[str, int] = defaultdict(int)
    for defect in evidence.defects_in_window():
        defective[defect.task_id] += 1
    defects: dict[GroupKey, int] = defaultdict(int)
    for key, group in group_of.items():
        defects[group] += defective.get(key[0], 0)
    groups = sorted(
        set(cost) | set(run_count),
        key=lambda g: (STEP_ORDER.get(g[0], 9), TIER_ORDER.get(g[1], 9), g[2]),
    )
    return [
        StepValue(
            step=g[0],
            tier=g[1],
            model=g[2],
            runs=run_count[g],
            cost_usd=cost[g],
            catches=catches[g],
            changed_runs=changed[g],
            defects_after=defects[g],
        )
        for g in groups
    ]


_QUOTED = re.compile(r"`[^`]*`|'[^']*'|\"[^\"]*\"")
_NUMBER = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")


def normalise_message(message: str) -> str:
    """The message with quoted names, numbers, case and spacing smoothed away, so the same
    comment about different identifiers or lines groups together."""
    text = _QUOTED.sub("…", message.lower())
    text = _NUMBER.sub("N", text)
    return _SPACE.sub(" ", text).strip().rstrip(".!;:")


def recurring_findings(evidence: Evidence, *, min_tasks: int = 2) -> list[RecurringFinding]:
    """Findings grouped by category, normalised message and folder, seen in at least
    ``min_tasks`` tasks; most frequent first."""
    groups: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for finding in evidence.findings:
        folder = dirname(finding.path) if finding.path else ""
        key = (finding.category, normalise_message(finding.message), folder)
        groups[key].append(finding.task_id)
    found = [
        RecurringFinding(category, message, folder, len(tasks), tuple(sorted(set(tasks))))
        for (category, message, folder), tasks in groups.items()
        if len(set(tasks)) >= min_tasks
    ]
    return sorted(found, key=lambda r: (-r.count, r.category, r.message, r.folder))


def step_value_table(values: list[StepValue], window_days: int) -> Table:
    rows: list[tuple[Cell, ...]] = [
        (
            v.step,
            v.tier,
            v.model,
            v.runs,
            v.cost_usd,
            v.catches,
            v.usd_per_catch,
            v.changed_outcome_pct,
            v.defects_after,
        )
        for v in values
    ]
    return Table(
        "step_value",
        f"Step value per step, tier and model (last {window_days} days)",
        (
            "step",
            "tier",
            "model",
            "runs",
            "cost_usd",
            "catches",
            "usd_per_catch",
            "changed_outcome_pct",
            "defects_after",
        ),
        rows,
        note="catches: review findings that changed something; defects_after: defects found "
        "after merge in tasks this step ran on",
    )


def recurring_table(found: list[RecurringFinding]) -> Table:
    rows: list[tuple[Cell, ...]] = [
        (r.category, r.message, r.folder or "-", r.count, ", ".join(r.tasks)) for r in found
    ]
    return Table(
        "recurring_findings",
        "Recurring findings (the same comment every run is a pattern to fix)",
        ("category", "message", "folder", "count", "tasks"),
        rows,
    )


def with_step_value(
    report: Report, evidence: Evidence, values: list[StepValue] | None = None
) -> Report:
    """The report with the window's step value (``values`` when already computed) and recurring
    findings added."""
    tables = (
        step_value_table(step_values(evidence) if values is None else values, evidence.window_days),
        recurring_table(recurring_findings(evidence)),
    )
    return replace(report, tables=report.tables + tables)
