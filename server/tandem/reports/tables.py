"""The report's types (tables of cells, the report) and the sums over ledger rows its tables use."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from tandem.ledger.rows import LedgerRow

Cell = str | int | float | Decimal | bool | None
ReportFormat = Literal["table", "markdown", "json", "csv"]
FORMATS: tuple[ReportFormat, ...] = ("table", "markdown", "json", "csv")


class ReportInputError(ValueError):
    """A bad report option (e.g. an unreadable ``--since``)."""


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Cell, ...]] = field(default_factory=list)
    note: str | None = None

    def records(self) -> list[dict[str, Cell]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


@dataclass(frozen=True)
class Report:
    generated_at: datetime
    since: datetime | None
    task_id: str | None
    tables: tuple[Table, ...]
    trial_id: str | None = None

    def table(self, name: str) -> Table:
        return next(table for table in self.tables if table.name == name)


# --- sums over ledger rows -----------------------------------------------------------------


def total_cost(rows: Iterable[LedgerRow]) -> Decimal:
    return sum((r.record.cost_usd for r in rows if r.record.cost_usd is not None), Decimal(0))


def unpriced_count(rows: Iterable[LedgerRow]) -> int:
    return sum(1 for r in rows if r.record.cost_usd is None and r.record.outcome != "skipped")


def counted_count(rows: Iterable[LedgerRow]) -> int:
    """Calls whose tokens were counted offline because the provider reported none."""
    return sum(1 for r in rows if r.record.usage.counted)


def retry_count(rows: Iterable[LedgerRow]) -> int:
    """HTTP retries plus repeated steps (a second draft or review after a failed review)."""
    total = 0
    for row in rows:
        total += max(0, row.record.attempts - 1)
        if row.record.attempt_of_step > 1:
            total += 1
    return total


def findings_by_severity(rows: Iterable[LedgerRow]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        for severity, count in row.record.findings.items():
            counts[severity] += count
    return dict(counts)


def redaction_count(rows: Iterable[LedgerRow]) -> int:
    """Secrets replaced by placeholders before the prompts left (a count, never a value)."""
    return sum(row.record.redaction_count for row in rows)


def findings_summary(counts: dict[str, int]) -> str:
    return ", ".join(f"{severity} {count}" for severity, count in sorted(counts.items())) or "-"


def was_accepted(rows: Sequence[LedgerRow]) -> bool | None:
    """Whether the task's last draft was accepted (None when nobody said)."""
    for row in reversed(rows):
        if row.record.draft_accepted is not None:
            return row.record.draft_accepted
    return None


def token_totals(rows: Iterable[LedgerRow]) -> tuple[int, int]:
    rows = list(rows)
    return (
        sum(r.record.usage.total_input_tokens for r in rows),
        sum(r.record.usage.output_tokens for r in rows),
    )


def model_seconds(rows: Iterable[LedgerRow]) -> float:
    return round(sum(r.record.latency_ms for r in rows) / 1000, 1)


def elapsed_seconds(rows: Sequence[LedgerRow]) -> float:
    """Wall time from the first step's start to the last step's end (includes the human's
    pause between plan and draft, which is part of what the task cost)."""
    start = min(r.record.started_at for r in rows)
    end = max(r.record.started_at + timedelta(milliseconds=r.record.latency_ms) for r in rows)
    return round((end - start).total_seconds(), 1)


def task_outcome(rows: Sequence[LedgerRow]) -> str:
    outcomes = {r.record.outcome for r in rows}
    for worst in ("over_budget", "failed", "cancelled"):
        if worst in outcomes:
            return worst
    return "ok"


def percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def mean_or_none(values: Sequence[float]) -> float | None:
    return statistics.fmean(values) if values else None


def rounded(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def rows_by_task(rows: Iterable[LedgerRow]) -> dict[str, list[LedgerRow]]:
    tasks: dict[str, list[LedgerRow]] = defaultdict(list)
    for row in rows:
        tasks[row.record.task_id].append(row)
    return tasks
