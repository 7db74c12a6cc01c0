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


_RUNS = """
calls AS (
  SELECT id, task_id, step, attempt_of_step AS rnd, risk_tier, model, cost_usd, outcome, started_at
  FROM steps WHERE started_at >= ?),
runs AS MATERIALIZED (
  SELECT s.task_id, s.step, s.rnd, s.risk_tier, s.model FROM calls s
  WHERE s.outcome = 'ok' AND NOT EXISTS (SELECT 1 FROM steps later
    WHERE later.task_id = s.task_id AND later.step = s.step AND later.attempt_of_step = s.rnd
    AND later.outcome = 'ok' AND later.started_at >= ? AND (later.started_at > s.started_at
    OR (later.started_at = s.started_at AND later.id > s.id))))"""
"""The window's calls, and its runs: each run's standing call is its latest successful call (no
successful call of the same task, step and round started after it)."""

_CHANGED = "(c.changed_code <> 0 OR c.changed_tests <> 0 OR c.changed_ship <> 0)"

_PER_RUN = f"""
per_run AS MATERIALIZED (
  SELECT r.task_id, r.step, r.risk_tier, r.model,
    CASE WHEN r.step = 'review' THEN (SELECT count(*) FROM findings f WHERE f.task_id = r.task_id
      AND f.review_round = r.rnd AND f.outcome = 'catch' AND f.recorded_at >= ?) ELSE 0 END
      AS catches,
    CASE WHEN EXISTS (SELECT 1 FROM step_changes c WHERE c.task_id = r.task_id
      AND c.step = r.step AND c.step_round = r.rnd AND c.recorded_at >= ? AND {_CHANGED})
      THEN 1 ELSE 0 END AS changed,
    (SELECT count(*) FROM defects d WHERE d.task_id = r.task_id) AS defects
  FROM runs r),
per_task AS (
  SELECT t.task_id,
    CASE WHEN EXISTS (SELECT 1 FROM findings f WHERE f.task_id = t.task_id
      AND f.severity = 'blocking' AND f.recorded_at >= ?) THEN 1 ELSE 0 END AS blocked,
    CASE WHEN EXISTS (SELECT 1 FROM step_changes c WHERE c.task_id = t.task_id
      AND c.step = 'plan' AND c.changed_ship <> 0 AND c.recorded_at >= ?) THEN 1 ELSE 0 END
      AS edited,
    CASE WHEN EXISTS (SELECT 1 FROM task_events e WHERE e.task_id = t.task_id
      AND e.rewrite IS NOT NULL AND e.recorded_at >= ?) THEN 1 ELSE 0 END AS rewritten
  FROM (SELECT DISTINCT task_id FROM runs) t)"""

_GROUPS = """
SELECT 'group', g.step, g.risk_tier, g.model, g.cost, v.runs, v.catches, v.changed, v.defects
FROM (SELECT c.step, coalesce(r.risk_tier, c.risk_tier) AS risk_tier,
    coalesce(r.model, c.model) AS model, {cost} AS cost
  FROM calls c LEFT JOIN runs r ON r.task_id = c.task_id AND r.step = c.step AND r.rnd = c.rnd
  GROUP BY 1, 2, 3) g
LEFT JOIN (SELECT step, risk_tier, model, count(*) AS runs, sum(catches) AS catches,
    sum(changed) AS changed, sum(defects) AS defects
  FROM per_run GROUP BY step, risk_tier, model) v
ON v.step = g.step AND v.risk_tier = g.risk_tier AND v.model = g.model"""

_TIERS = """
SELECT 'tier', t.step, t.risk_tier, NULL, NULL, count(*), sum(p.blocked), sum(p.edited),
  sum(p.rewritten)
FROM (SELECT DISTINCT task_id, step, risk_tier FROM runs) t JOIN per_task p ON p.task_id = t.task_id
GROUP BY t.step, t.risk_tier"""


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
        groups = _GROUPS.format(cost=self._sql_decimal_sum("c.cost_usd"))
        sql = f"WITH {_RUNS},{_PER_RUN} {groups} UNION ALL {_TIERS}"
        found = WindowFigures([], [])
        for row in self._read(sql, (start,) * 7):
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
