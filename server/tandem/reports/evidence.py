"""The evidence of what each step bought, read from the ledger over a window, and per-task outcomes.

:class:`Evidence` holds the raw rows of one window (default the last 14 days): the recorded calls,
the findings of those tasks and how each was settled, the step changes that changed code, tests
or the decision to ship, the tasks' events, and every defect found after merge. Step value,
recurring findings and advice are pure functions of it (:mod:`tandem.reports.step_value`,
:mod:`tandem.reports.advice`), so each figure can be recomputed from the rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from math import ceil
from typing import TYPE_CHECKING

from tandem.ledger.outcome_rows import (
    DefectRow,
    FindingRow,
    StepChangeRow,
    StepFact,
    TaskEventRow,
)

if TYPE_CHECKING:
    from tandem.ledger.base import Ledger

DEFAULT_WINDOW_DAYS = 14
"""Step value and advice look at the last two weeks unless ``--since`` says otherwise (the seed:
review a pilot after two weeks with real numbers)."""

StepKey = tuple[str, str, int]
"""(task id, step, round): one run of a step, however many calls it took."""


@dataclass(frozen=True)
class TaskOutcome:
    """A task as the user left it: ``accepted``, ``rejected`` or ``reworked`` (accepted after at
    least one rewrite); None while undecided."""

    decision: str | None = None
    rating: int | None = None
    rewrites: int = 0
    ready_seconds: float | None = None


@dataclass(frozen=True)
class Evidence:
    since: datetime
    now: datetime
    facts: list[StepFact]
    findings: list[FindingRow] = field(default_factory=list)
    changes: list[StepChangeRow] = field(default_factory=list)
    events: list[TaskEventRow] = field(default_factory=list)
    defects: list[DefectRow] = field(default_factory=list)
    """Every defect ever recorded, in or out of the window: a tier with any keeps its review."""

    @property
    def window_days(self) -> int:
        return max(1, ceil((self.now - self.since).total_seconds() / 86_400))

    @cached_property
    def runs(self) -> dict[StepKey, StepFact]:
        """Each run's standing call (:func:`counted_runs`), computed once."""
        return counted_runs(self.facts)

    @property
    def task_ids(self) -> set[str]:
        return {fact.task_id for fact in self.facts}

    def defects_in_window(self) -> list[DefectRow]:
        tasks = self.task_ids
        return [defect for defect in self.defects if defect.task_id in tasks]


def window_start(since: datetime | None, now: datetime) -> datetime:
    return since if since is not None else now - timedelta(days=DEFAULT_WINDOW_DAYS)


def load_evidence(ledger: Ledger, since: datetime | None, now: datetime | None = None) -> Evidence:
    """The window's rows: calls started since ``since`` (default 14 days ago) and the outcomes of
    their tasks (recorded after the task started, so also since then). Of the step changes, the
    ones that changed something: the others count for no figure."""
    now = now or datetime.now(UTC)
    start = window_start(since, now)
    facts = ledger.step_facts(since=start)
    tasks = {fact.task_id for fact in facts}
    changes = ledger.step_changes(since=start, changed_only=True)
    return Evidence(
        since=start,
        now=now,
        facts=facts,
        findings=[row for row in ledger.findings(since=start) if row.task_id in tasks],
        changes=[row for row in changes if row.task_id in tasks],
        events=[row for row in ledger.task_events(since=start) if row.task_id in tasks],
        defects=ledger.defects(),
    )


def task_outcomes(events: Iterable[TaskEventRow]) -> dict[str, TaskOutcome]:
    """Per task: the latest decision and rating, the number of rewrites, the latest time to
    ready; an accepted task with rewrites counts as ``reworked``."""
    ordered = sorted(events, key=lambda e: e.id)
    decision: dict[str, str] = {}
    rating: dict[str, int] = {}
    rewrites: dict[str, int] = defaultdict(int)
    ready: dict[str, float] = {}
    for event in ordered:
        if event.decision is not None:
            decision[event.task_id] = event.decision
        if event.rating is not None:
            rating[event.task_id] = event.rating
        if event.rewrite is not None:
            rewrites[event.task_id] += 1
        if event.ready_seconds is not None:
            ready[event.task_id] = event.ready_seconds
    outcomes = {}
    for task in dict.fromkeys(event.task_id for event in ordered):
        chosen = decision.get(task)
        if chosen == "accepted" and rewrites[task] > 0:
            chosen = "reworked"
        outcomes[task] = TaskOutcome(chosen, rating.get(task), rewrites[task], ready.get(task))
    return outcomes


def changed_runs(changes: Iterable[StepChangeRow]) -> set[StepKey]:
    """The runs that changed code, tests or the decision to ship."""
    return {(c.task_id, c.step, c.round) for c in changes if c.code or c.tests or c.ship}


def counted_runs(facts: Iterable[StepFact]) -> dict[StepKey, StepFact]:
    """The call that stands for each run: its latest successful call (failed calls before it
    cost money but bought nothing)."""
    runs: dict[StepKey, StepFact] = {}
    for fact in facts:
        if fact.outcome == "ok":
            runs[(fact.task_id, fact.step, fact.round)] = fact
    return runs
