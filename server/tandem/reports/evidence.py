"""The evidence of what each step bought over a window, summed by the ledger.

:class:`Evidence` holds one window's figures (default the last 14 days), each rule written once
as SQL in :mod:`tandem.ledger.evidence_queries`: per step x tier x model the runs, cost, catches,
changed outcomes and defects after merge; per step x tier the tasks and their outcomes; the
findings counted per task and message; every defect per tier. Step value, recurring findings and
advice are pure functions of it (:mod:`tandem.reports.step_value`, :mod:`tandem.reports.advice`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from math import ceil
from typing import TYPE_CHECKING

from tandem.ledger.evidence_queries import FindingCount, RunGroup, TierTasks

if TYPE_CHECKING:
    from tandem.ledger.base import Ledger

DEFAULT_WINDOW_DAYS = 14
"""Step value and advice look at the last two weeks unless ``--since`` says otherwise (the seed:
review a pilot after two weeks with real numbers)."""


@dataclass(frozen=True)
class Evidence:
    since: datetime
    now: datetime
    groups: list[RunGroup] = field(default_factory=list)
    """What each step x tier x model's runs bought (the ledger's sums)."""
    tiers: list[TierTasks] = field(default_factory=list)
    findings: list[FindingCount] = field(default_factory=list)
    defects: dict[str, int] = field(default_factory=dict)
    """Every defect ever recorded per risk tier, in or out of the window: a tier with any keeps
    its review."""

    @property
    def window_days(self) -> int:
        return max(1, ceil((self.now - self.since).total_seconds() / 86_400))

    def tier(self, step: str, tier: str) -> TierTasks:
        for found in self.tiers:
            if (found.step, found.tier) == (step, tier):
                return found
        return TierTasks(step, tier, 0, 0, 0, 0)


def window_start(since: datetime | None, now: datetime) -> datetime:
    return since if since is not None else now - timedelta(days=DEFAULT_WINDOW_DAYS)


def load_evidence(ledger: Ledger, since: datetime | None, now: datetime | None = None) -> Evidence:
    """The window's evidence (calls started since ``since``, default 14 days ago, and the
    outcomes of their tasks recorded since then), summed by the ledger
    (:mod:`tandem.ledger.evidence_queries`)."""
    now = now or datetime.now(UTC)
    start = window_start(since, now)
    figures = ledger.window_figures(start)
    return Evidence(
        since=start,
        now=now,
        groups=figures.groups,
        tiers=figures.tiers,
        findings=ledger.finding_counts(start),
        defects=ledger.defects_per_tier(),
    )
