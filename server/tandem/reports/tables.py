"""The report's types (tables of cells, the report) and the small helpers its tables share."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

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


# --- helpers ---------------------------------------------------------------------------------


def findings_summary(counts: dict[str, int]) -> str:
    return ", ".join(f"{severity} {count}" for severity, count in sorted(counts.items())) or "-"


def percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def mean_or_none(values: Sequence[float]) -> float | None:
    return statistics.fmean(values) if values else None


def rounded(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)
