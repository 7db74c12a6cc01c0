"""Step value's and advice's evidence, grouped in SQL: the one home of each rule of a run's worth.

:class:`EvidenceQueries` is mixed into :class:`tandem.ledger.base.Ledger`. A *run* is one step of
one task in one round; its latest successful call in the window stands for it (its step, risk tier
and model are the run's group), and every call of the run, failed or not, counts towards the
group's cost (a run with no successful call costs under its own calls' groups). A review run's
*catches* are its round's findings settled as a catch; a run *changed the outcome* when a step
change records that it changed code, tests or the decision to ship; a defect after merge
*slipped past* every run of its task. Outcomes count when recorded in the window and tied to a
task with a call in it. SQLite and PostgreSQL run the same statements.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from tandem.ledger.rows import utc_text


@dataclass(frozen=True, slots=True)
class RunGroup:
    """What the runs of one step x risk tier x model bought over a window."""

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


@dataclass(frozen=True, slots=True)
class TierTasks:
    """The tasks with a run of one step x risk tier, and how many of them drew a blocking
    finding, had their plan edited (a plan step change that changed the decision to ship) or
    were rewritten."""

    step: str
    tier: str
    tasks: int
    blocked: int
    plan_edited: int
    rewritten: int


@dataclass(frozen=True, slots=True)
class FindingCount:
    """How many findings of one task share a category, message and path."""

    category: str
    message: str
    path: str | None
    task_id: str
    count: int


_CHANGED = "(changed_code <> 0 OR changed_tests <> 0 OR changed_ship <> 0)"

_WINDOW = f"""
calls AS MATERIALIZED (
  SELECT s.task_id, s.step, s.attempt_of_step AS rnd, s.risk_tier, s.model, s.cost_usd,
    CASE WHEN s.outcome = 'ok' AND NOT EXISTS (SELECT 1 FROM steps later
      WHERE later.task_id = s.task_id AND later.step = s.step
      AND later.attempt_of_step = s.attempt_of_step AND later.outcome = 'ok'
      AND later.started_at >= ? AND (later.started_at > s.started_at
      OR (later.started_at = s.started_at AND later.id > s.id))) THEN 1 ELSE 0 END AS standing
  FROM steps s WHERE s.started_at >= ?),
runs AS (SELECT task_id, step, rnd, risk_tier, model, cost_usd FROM calls WHERE standing = 1),
other AS MATERIALIZED (
  SELECT task_id, step, rnd, risk_tier, model, cost_usd FROM calls WHERE standing = 0),
catches AS (SELECT task_id, review_round, count(*) AS n FROM findings
  WHERE outcome = 'catch' AND recorded_at >= ? GROUP BY task_id, review_round),
changed AS (SELECT DISTINCT task_id, step, step_round FROM step_changes
  WHERE recorded_at >= ? AND {_CHANGED}),
defective AS (SELECT task_id, count(*) AS n FROM defects GROUP BY task_id),
per_call AS (
  SELECT r.step, r.risk_tier, r.model, r.cost_usd, 1 AS runs, coalesce(k.n, 0) AS catches,
    CASE WHEN c.task_id IS NULL THEN 0 ELSE 1 END AS changed, coalesce(d.n, 0) AS defects
  FROM runs r
  LEFT JOIN catches k ON r.step = 'review' AND k.task_id = r.task_id AND k.review_round = r.rnd
  LEFT JOIN changed c ON c.task_id = r.task_id AND c.step = r.step AND c.step_round = r.rnd
  LEFT JOIN defective d ON d.task_id = r.task_id
  UNION ALL
  SELECT r.step, r.risk_tier, r.model, o.cost_usd, 0, 0, 0, 0
  FROM other o JOIN runs r ON r.task_id = o.task_id AND r.step = o.step AND r.rnd = o.rnd
  UNION ALL
  SELECT o.step, o.risk_tier, o.model, o.cost_usd, 0, 0, 0, 0 FROM other o
  WHERE NOT EXISTS (SELECT 1 FROM steps s WHERE s.task_id = o.task_id AND s.step = o.step
    AND s.attempt_of_step = o.rnd AND s.outcome = 'ok' AND s.started_at >= ?))"""
"""The window's calls, each marked when it stands for its run (the run's latest successful call:
no successful call of the same task, step and round started after it); the runs; and per call
what it counts towards its group: a run's catches, changed outcome and defects go with its
standing call, every other call adds only its cost to its run's group (its own without one)."""

_GROUPS = """
SELECT 'group', step, risk_tier, model, {cost}, sum(runs), sum(catches), sum(changed),
  sum(defects)
FROM per_call GROUP BY step, risk_tier, model"""

_TIERS = """
SELECT 'tier', step, risk_tier, NULL, NULL, count(*),
  sum(CASE WHEN task_id IN (SELECT task_id FROM findings
    WHERE severity = 'blocking' AND recorded_at >= ?) THEN 1 ELSE 0 END),
  sum(CASE WHEN task_id IN (SELECT task_id FROM step_changes
    WHERE step = 'plan' AND changed_ship <> 0 AND recorded_at >= ?) THEN 1 ELSE 0 END),
  sum(CASE WHEN task_id IN (SELECT task_id FROM task_events
    WHERE rewrite IS NOT NULL AND recorded_at >= ?) THEN 1 ELSE 0 END)
FROM (SELECT DISTINCT task_id, step, risk_tier FROM runs) t
GROUP BY step, risk_tier"""


@dataclass(frozen=True, slots=True)
class WindowFigures:
    """The window's step value figures and advice's task counts."""

    groups: list[RunGroup]
    tiers: list[TierTasks]


class EvidenceQueries(ABC):
    """The window's step value figures, advice's task counts and recurring findings."""

    @abstractmethod
    def _read(self, sql: str, params: Sequence[object] = ()) -> list[Any]: ...

    @abstractmethod
    def _sql_decimal_sum(self, column: str) -> str:
        """An aggregate: the exact sum of a column of dollar texts, as text."""

    def window_figures(self, since: datetime) -> WindowFigures:
        """Per step x risk tier x model with a call since ``since``: what its runs bought; per
        step x risk tier of the window's runs: its tasks and their outcomes (one statement, so
        the runs are found once)."""
        start = utc_text(since)
        groups = _GROUPS.format(cost=self._sql_decimal_sum("cost_usd"))
        sql = f"WITH {_WINDOW} {groups} UNION ALL {_TIERS}"
        found = WindowFigures([], [])
        for row in self._read(sql, (start,) * 8):
            if row[0] == "group":
                found.groups.append(
                    RunGroup(
                        step=row[1],
                        tier=row[2],
                        model=row[3],
                        runs=int(row[5] or 0),
                        cost_usd=Decimal(row[4] or 0),
                        catches=int(row[6] or 0),
                        changed_runs=int(row[7] or 0),
                        defects_after=int(row[8] or 0),
                    )
                )
            else:
                counts = (int(row[5]), int(row[6]), int(row[7]), int(row[8]))
                found.tiers.append(TierTasks(row[1], row[2], *counts))
        return found

    def finding_counts(self, since: datetime) -> list[FindingCount]:
        """The window's findings of tasks with a call in it, counted per task, category,
        message and path."""
        start = utc_text(since)
        sql = (
            "SELECT category, message, path, task_id, count(*) FROM findings f "
            "WHERE f.recorded_at >= ? AND EXISTS (SELECT 1 FROM steps s "
            "WHERE s.task_id = f.task_id AND s.started_at >= ?) "
            "GROUP BY category, message, path, task_id"
        )
        return [
            FindingCount(row[0], row[1], row[2], row[3], int(row[4]))
            for row in self._read(sql, (start, start))
        ]

    def defects_per_tier(self) -> dict[str, int]:
        """Every defect ever recorded, counted per risk tier (a tier with any keeps its review)."""
        rows = self._read("SELECT risk_tier, count(*) FROM defects GROUP BY risk_tier")
        return {row[0]: int(row[1]) for row in rows}
