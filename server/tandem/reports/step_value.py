"""Step value (what each step x tier x model bought) and recurring findings, from the evidence.

What a run, a catch, a changed outcome and a defect that slipped past are is written once, in
:mod:`tandem.ledger.evidence_queries`; here the figures are ordered, derived and tabled.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, replace
from posixpath import dirname

from tandem.ledger.evidence_queries import RunGroup
from tandem.reports.evidence import Evidence
from tandem.reports.tables import Cell, Report, Table

STEP_ORDER = {"plan": 0, "draft": 1, "review": 2}
TIER_ORDER = {"low": 0, "medium": 1, "high": 2}


StepValue = RunGroup
"""What one step x tier x model bought over the window (the ledger's figures)."""


@dataclass(frozen=True)
class RecurringFinding:
    category: str
    message: str
    folder: str
    count: int
    tasks: tuple[str, ...]


def step_values(evidence: Evidence) -> list[StepValue]:
    """One entry per step x tier x model that ran in the window, in step, tier, model order."""
    return sorted(
        evidence.groups,
        key=lambda g: (STEP_ORDER.get(g.step, 9), TIER_ORDER.get(g.tier, 9), g.model),
    )


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
    groups: dict[tuple[str, str, str], dict[str, int]] = defaultdict(dict)
    normalised: dict[str, str] = {}
    for finding in evidence.findings:
        folder = dirname(finding.path) if finding.path else ""
        message = normalised.get(finding.message)
        if message is None:
            message = normalised[finding.message] = normalise_message(finding.message)
        tasks = groups[(finding.category, message, folder)]
        tasks[finding.task_id] = tasks.get(finding.task_id, 0) + finding.count
    found = [
        RecurringFinding(category, message, folder, sum(tasks.values()), tuple(sorted(tasks)))
        for (category, message, folder), tasks in groups.items()
        if len(tasks) >= min_tasks
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
