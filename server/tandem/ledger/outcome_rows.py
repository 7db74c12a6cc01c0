"""What the ledger's outcome tables hold, read back: findings, step changes, task events, defects.

Rows are plain frozen dataclasses built without validation (the values were validated when they
were written), so a report over tens of thousands of rows reads them in milliseconds. A
:class:`StepFact` is the lean view of a ``steps`` row that step value and advice need.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

DefectSeverity = Literal["minor", "major", "critical"]
DEFECT_SEVERITIES: tuple[DefectSeverity, ...] = ("minor", "major", "critical")


class UnknownTask(ValueError):
    """A task id the ledger has no step of (a defect or rating cannot be tied to it)."""


@dataclass(frozen=True, slots=True)
class FindingRow:
    """A review finding and how it was settled (``outcome`` None: still open)."""

    id: int
    recorded_at: datetime
    task_id: str
    review_round: int
    index: int
    severity: str
    category: str
    location: str
    path: str | None
    line: int | None
    message: str
    outcome: str | None
    via: str | None
    change: str | None


@dataclass(frozen=True, slots=True)
class StepChangeRow:
    id: int
    recorded_at: datetime
    task_id: str
    step: str
    round: int
    code: bool
    tests: bool
    ship: bool
    detail: str


@dataclass(frozen=True, slots=True)
class TaskEventRow:
    id: int
    recorded_at: datetime
    task_id: str
    decision: str | None
    rating: int | None
    rewrite: str | None
    ready_seconds: float | None
    needs_attention: bool
    detail: str | None


@dataclass(frozen=True, slots=True)
class DefectRow:
    """A defect found after merge, tied to the task and to what produced it (``route``: one
    entry per recorded step with its provider, model, alias and prompt version)."""

    id: int
    recorded_at: datetime
    task_id: str
    severity: str
    note: str
    risk_tier: str
    route: list[dict[str, Any]]


def finding_row(row: Any) -> FindingRow:
    return FindingRow(
        id=int(row["id"]),
        recorded_at=datetime.fromisoformat(row["recorded_at"]),
        task_id=row["task_id"],
        review_round=int(row["review_round"]),
        index=int(row["finding_index"]),
        severity=row["severity"],
        category=row["category"],
        location=row["location"],
        path=row["path"],
        line=None if row["line"] is None else int(row["line"]),
        message=row["message"],
        outcome=row["outcome"],
        via=row["outcome_via"],
        change=row["outcome_change"],
    )


def step_change_row(row: Any) -> StepChangeRow:
    return StepChangeRow(
        id=int(row["id"]),
        recorded_at=datetime.fromisoformat(row["recorded_at"]),
        task_id=row["task_id"],
        step=row["step"],
        round=int(row["step_round"]),
        code=bool(row["changed_code"]),
        tests=bool(row["changed_tests"]),
        ship=bool(row["changed_ship"]),
        detail=row["detail"],
    )


def task_event_row(row: Any) -> TaskEventRow:
    seconds = row["ready_seconds"]
    return TaskEventRow(
        id=int(row["id"]),
        recorded_at=datetime.fromisoformat(row["recorded_at"]),
        task_id=row["task_id"],
        decision=row["decision"],
        rating=None if row["rating"] is None else int(row["rating"]),
        rewrite=row["rewrite"],
        ready_seconds=None if seconds is None else float(seconds),
        needs_attention=bool(row["needs_attention"]),
        detail=row["detail"],
    )


def defect_row(row: Any) -> DefectRow:
    return DefectRow(
        id=int(row["id"]),
        recorded_at=datetime.fromisoformat(row["recorded_at"]),
        task_id=row["task_id"],
        severity=row["severity"],
        note=row["note"],
        risk_tier=row["risk_tier"],
        route=json.loads(row["route_json"]),
    )
