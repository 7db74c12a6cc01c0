"""Sums over the ledger's steps, grouped in SQL: the one home of every scorecard figure's rule.

:class:`TotalsQueries` is mixed into :class:`tandem.ledger.base.Ledger`. Each rule (what a retry
is, which calls are unpriced or failed, a task's worst outcome, its elapsed time) is written once
here as SQL that SQLite and PostgreSQL both run; the database groups the window's rows so the
report never builds a Python object per recorded call. A dialect supplies two expressions: an
exact sum of dollar texts and a timestamp in epoch milliseconds. Sums are additive, so the
per-step, per-model and per-week tables and the spend-per-day chart are roll-ups of one grouping
by step, provider, model and day.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from tandem.ledger.rows import utc_text

WORST_OUTCOMES = ("ok", "cancelled", "failed", "over_budget")
"""A task's outcome is its worst call's, in this order (ok when none of the others)."""


@dataclass(frozen=True, slots=True)
class StepTotals:
    """Additive sums over a group of recorded calls."""

    calls: int = 0
    input_tokens: int = 0
    """Input including cache reads and writes."""
    output_tokens: int = 0
    cost_usd: Decimal = Decimal(0)
    """Dollars of the priced calls (exact)."""
    unpriced: int = 0
    """Calls with no price that were not skipped."""
    latency_ms: int = 0
    retries: int = 0
    """HTTP retries plus repeated steps (a second draft or review after a failed review)."""
    failed: int = 0
    """Calls whose outcome is neither ok nor skipped."""
    redactions: int = 0
    counted: int = 0
    """Calls whose tokens were counted offline because the provider reported none."""

    def __add__(self, other: StepTotals) -> StepTotals:
        return StepTotals(
            *(getattr(self, f.name) + getattr(other, f.name) for f in fields(StepTotals))
        )

    @property
    def model_seconds(self) -> float:
        return round(self.latency_ms / 1000, 1)


_SUMS = (
    "count(*)",
    "sum(input_tokens + cache_read_tokens + cache_write_tokens)",
    "sum(output_tokens)",
    None,  # the dialect's exact dollar sum of cost_usd
    "sum(CASE WHEN cost_usd IS NULL AND outcome <> 'skipped' THEN 1 ELSE 0 END)",
    "sum(latency_ms)",
    "sum(CASE WHEN attempts > 1 THEN attempts - 1 ELSE 0 END "
    "+ CASE WHEN attempt_of_step > 1 THEN 1 ELSE 0 END)",
    "sum(CASE WHEN outcome IN ('ok', 'skipped') THEN 0 ELSE 1 END)",
    "sum(redactions)",
    "sum(usage_counted)",
)


def _totals(values: Sequence[Any]) -> StepTotals:
    """The sums of :data:`_SUMS`, in order (PostgreSQL sums integers as numeric: made ints)."""
    calls, tokens_in, tokens_out, cost, unpriced, latency, retries, failed, hidden, counted = values
    return StepTotals(
        calls=int(calls),
        input_tokens=int(tokens_in or 0),
        output_tokens=int(tokens_out or 0),
        cost_usd=Decimal(cost) if cost is not None else Decimal(0),
        unpriced=int(unpriced or 0),
        latency_ms=int(latency or 0),
        retries=int(retries or 0),
        failed=int(failed or 0),
        redactions=int(hidden or 0),
        counted=int(counted or 0),
    )


@dataclass(frozen=True, slots=True)
class GroupTotals:
    """The sums of one step x provider x model x day (UTC)."""

    step: str
    provider: str
    model: str
    day: str
    totals: StepTotals


@dataclass(frozen=True, slots=True)
class TaskTotals:
    """One task: its first call's type, mode and start, its sums and its standing."""

    task_id: str
    task_type: str
    mode: str
    started_at: datetime
    totals: StepTotals
    outcome: str
    elapsed_seconds: float
    """From the first call's start to the last call's end (to the millisecond, rounded to 0.1 s)."""
    accepted: bool | None
    """The latest call that recorded a decision on the draft (None: nobody said)."""
    findings: dict[str, int]
    """Review findings by severity, as the calls recorded them."""


@dataclass(frozen=True, slots=True)
class EstimateTotals:
    """Mean errors of the estimates of one step on one model (signed: + = over-estimate).

    Only successful calls whose tokens the provider reported count: an offline count says
    nothing about how good the estimate was."""

    step: str
    provider: str
    model: str
    estimates: int
    input_abs_error: float | None
    input_bias: float | None
    output_abs_error: float | None
    cost_abs_error: float | None
    output_within_max: float


@dataclass(frozen=True)
class ReportTotals:
    """What the scorecards are built from, for one window, task or trial."""

    tasks: list[TaskTotals]
    groups: list[GroupTotals]
    week_tasks: dict[str, int]
    """Tasks with a call in each ISO week."""
    estimates: list[EstimateTotals]


def iso_week(day: str) -> str:
    """``2026-12-05`` → ``2026-W49``."""
    year, week, _ = date.fromisoformat(day).isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class StepFilter:
    """Which recorded calls: started since a time, of one task, of one trial."""

    since: datetime | None = None
    task_id: str | None = None
    trial_id: str | None = None

    def clauses(self) -> tuple[list[str], list[object]]:
        clauses: list[str] = []
        params: list[object] = []
        if self.since is not None:
            clauses.append("started_at >= ?")
            params.append(utc_text(self.since))
        if self.task_id is not None:
            clauses.append("task_id = ?")
            params.append(self.task_id)
        if self.trial_id is not None:
            clauses.append("trial_id = ?")
            params.append(self.trial_id)
        return clauses, params

    def where(self, *extra: str) -> tuple[str, list[object]]:
        """`` WHERE ...`` (or nothing) and its parameters."""
        clauses, params = self.clauses()
        clauses += extra
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


_DAY = "substr(started_at, 1, 10)"
_INPUT = "(input_tokens + cache_read_tokens + cache_write_tokens)"
_ESTIMATE_ERRORS = f"""
SELECT step, provider, model, count(*), avg(abs(ie)), avg(ie), avg(abs(oe)), avg(abs(ce)), avg(w)
FROM (SELECT step, provider, model,
  CASE WHEN {_INPUT} > 0
    THEN CAST(est_input_tokens - {_INPUT} AS DOUBLE PRECISION) / {_INPUT} END AS ie,
  CASE WHEN output_tokens > 0
    THEN CAST(est_output_typical - output_tokens AS DOUBLE PRECISION) / output_tokens END AS oe,
  CASE WHEN est_usd_typical IS NOT NULL AND CAST(cost_usd AS DOUBLE PRECISION) <> 0
    THEN (CAST(est_usd_typical AS DOUBLE PRECISION) - CAST(cost_usd AS DOUBLE PRECISION))
      / CAST(cost_usd AS DOUBLE PRECISION) END AS ce,
  CASE WHEN output_tokens <= est_output_max THEN 1.0 ELSE 0.0 END AS w
  FROM steps{{where}}) e
GROUP BY step, provider, model"""


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


class TotalsQueries(ABC):
    """The scorecards' sums, grouped by the database."""

    @abstractmethod
    def _read(self, sql: str, params: Sequence[object] = ()) -> list[Any]: ...

    @abstractmethod
    def _sql_decimal_sum(self, column: str) -> str:
        """An aggregate: the exact sum of a column of dollar texts, as text."""

    @abstractmethod
    def _sql_epoch_ms(self, column: str) -> str:
        """A timestamp text column as milliseconds since the epoch."""

    def _sums(self, *, aliased: bool = False) -> str:
        """The expressions of :data:`_SUMS` for this database (``AS s0``, ``s1``... when
        ``aliased``, for use inside a subquery)."""
        sums = [s or self._sql_decimal_sum("cost_usd") for s in _SUMS]
        return ", ".join(f"{s} AS s{n}" if aliased else s for n, s in enumerate(sums))

    def report_totals(self, chosen: StepFilter | None = None) -> ReportTotals:
        chosen = chosen or StepFilter()
        return ReportTotals(
            tasks=self.task_totals(chosen),
            groups=self.group_totals(chosen),
            week_tasks=self.week_tasks(chosen),
            estimates=self.estimate_totals(chosen),
        )

    def group_totals(self, chosen: StepFilter) -> list[GroupTotals]:
        where, params = chosen.where()
        sql = (
            f"SELECT step, provider, model, {_DAY}, {self._sums()} FROM steps{where} "
            f"GROUP BY step, provider, model, {_DAY}"
        )
        return [
            GroupTotals(row[0], row[1], row[2], row[3], _totals(row[4:]))
            for row in self._read(sql, params)
        ]

    def week_tasks(self, chosen: StepFilter) -> dict[str, int]:
        where, params = chosen.where()
        weeks: dict[str, set[str]] = {}
        for row in self._read(f"SELECT DISTINCT {_DAY}, task_id FROM steps{where}", params):
            weeks.setdefault(iso_week(row[0]), set()).add(row[1])
        return {week: len(tasks) for week, tasks in weeks.items()}

    def task_totals(self, chosen: StepFilter) -> list[TaskTotals]:
        """Per task, in the order the tasks first appear (first call's start, then id)."""
        where, params = chosen.where()
        inner, inner_params = chosen.where("s2.task_id = s.task_id")
        said, said_params = chosen.where("s2.task_id = s.task_id", "draft_accepted IS NOT NULL")
        worst = " ".join(f"WHEN '{name}' THEN {n}" for n, name in enumerate(WORST_OUTCOMES))
        epoch = self._sql_epoch_ms("started_at")
        sql = (
            "SELECT t.*, f.task_type, f.mode FROM (SELECT task_id, min(started_at) AS started, "
            f"{self._sums(aliased=True)}, max(CASE outcome {worst} ELSE 0 END) AS worst, "
            f"max({epoch} + latency_ms) - min({epoch}) AS elapsed, "
            f"(SELECT id FROM steps s2{inner} ORDER BY started_at, id LIMIT 1) AS first_id, "
            f"(SELECT draft_accepted FROM steps s2{said} ORDER BY started_at DESC, id DESC "
            f"LIMIT 1) AS accepted FROM steps s{where} GROUP BY task_id) t "
            "JOIN steps f ON f.id = t.first_id ORDER BY t.started, t.first_id"
        )
        findings = self._task_findings(chosen)
        count = len(_SUMS)
        return [
            TaskTotals(
                task_id=row[0],
                task_type=row[count + 6],
                mode=row[count + 7],
                started_at=datetime.fromisoformat(row[1]),
                totals=_totals(row[2 : 2 + count]),
                outcome=WORST_OUTCOMES[int(row[count + 2])],
                elapsed_seconds=round(float(row[count + 3]) / 1000, 1),
                accepted=None if row[count + 5] is None else bool(row[count + 5]),
                findings=findings.get(row[0], {}),
            )
            for row in self._read(sql, [*inner_params, *said_params, *params])
        ]

    def _task_findings(self, chosen: StepFilter) -> dict[str, dict[str, int]]:
        where, params = chosen.where("findings_json <> '{}'")
        sql = f"SELECT task_id, findings_json, count(*) FROM steps{where} GROUP BY 1, 2"
        found: dict[str, dict[str, int]] = {}
        for row in self._read(sql, params):
            counts = found.setdefault(row[0], {})
            for severity, n in json.loads(row[1]).items():
                counts[severity] = counts.get(severity, 0) + n * int(row[2])
        return found

    def estimate_totals(self, chosen: StepFilter) -> list[EstimateTotals]:
        where, params = chosen.where(
            "estimate_json IS NOT NULL", "outcome = 'ok'", "usage_counted = 0"
        )
        return [
            EstimateTotals(
                step=row[0],
                provider=row[1],
                model=row[2],
                estimates=int(row[3]),
                input_abs_error=_float(row[4]),
                input_bias=_float(row[5]),
                output_abs_error=_float(row[6]),
                cost_abs_error=_float(row[7]),
                output_within_max=float(row[8]),
            )
            for row in self._read(_ESTIMATE_ERRORS.format(where=where), params)
        ]

    def estimate_points(self, chosen: StepFilter) -> list[tuple[Decimal, Decimal, str]]:
        """(estimated, actual) dollars and the step of every successful priced call."""
        where, params = chosen.where(
            "estimate_json IS NOT NULL",
            "est_usd_typical IS NOT NULL",
            "cost_usd IS NOT NULL",
            "outcome = 'ok'",
        )
        sql = f"SELECT est_usd_typical, cost_usd, step FROM steps{where} ORDER BY started_at, id"
        return [(Decimal(row[0]), Decimal(row[1]), row[2]) for row in self._read(sql, params)]
