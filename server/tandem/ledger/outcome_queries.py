"""The ledger's outcome queries, written once for both databases: findings, changes, task events.

:class:`OutcomeQueries` is mixed into :class:`tandem.ledger.base.Ledger`; like every query there,
each statement uses ``?`` placeholders and runs through the dialect's ``_write``/``_read``. A
finding is settled once: the first resolution (catch or dismissal) is kept.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tandem.ledger.outcome_rows import (
    DEFECT_SEVERITIES,
    DefectRow,
    FindingRow,
    StepChangeRow,
    TaskEventRow,
    UnknownTask,
    defect_row,
    finding_row,
    step_change_row,
    task_event_row,
)
from tandem.ledger.rows import now_text, utc_text
from tandem.ledger.schema import Executor

if TYPE_CHECKING:
    from tandem.values import FindingRecord, FindingResolution, FindingVia, StepChange, TaskEvent

REPLACED = "a later review of the same draft replaced it"


def _since(column: str, since: datetime | None) -> tuple[str, tuple[object, ...]]:
    return ("", ()) if since is None else (f" WHERE {column} >= ?", (utc_text(since),))


class OutcomeQueries(ABC):
    """Recording and reading outcomes; implements :class:`~tandem.values.OutcomeRecorder`."""

    path: Path

    @abstractmethod
    def _write(self) -> AbstractContextManager[Executor]: ...

    @abstractmethod
    def _read(self, sql: str, params: Sequence[object] = ()) -> list[Any]: ...

    # OutcomeRecorder -----------------------------------------------------------------------------

    def record_findings(
        self, task_id: str, review_round: int, findings: list[FindingRecord]
    ) -> None:
        now = now_text()
        with self._write() as db:
            db.execute(
                "UPDATE findings SET outcome = 'dismissed', outcome_via = 'replaced', "
                "outcome_change = ?, outcome_at = ? "
                "WHERE task_id = ? AND review_round = ? AND outcome IS NULL",
                (REPLACED, now, task_id, review_round),
            )
            for finding in findings:
                db.execute(
                    "INSERT INTO findings (recorded_at, task_id, review_round, finding_index, "
                    "severity, category, location, path, line, message) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        now,
                        task_id,
                        review_round,
                        finding.index,
                        finding.severity,
                        finding.category,
                        finding.location,
                        finding.path,
                        finding.line,
                        finding.message,
                    ),
                )

    def resolve_findings(self, resolutions: list[FindingResolution]) -> int:
        settled = 0
        now = now_text()
        with self._write() as db:
            for item in resolutions:
                cursor = db.execute(
                    "UPDATE findings SET outcome = ?, outcome_via = ?, outcome_change = ?, "
                    "outcome_at = ? WHERE outcome IS NULL AND id = (SELECT max(id) FROM findings "
                    "WHERE task_id = ? AND review_round = ? AND finding_index = ?)",
                    (
                        item.outcome,
                        item.via,
                        item.change,
                        now,
                        item.task_id,
                        item.review_round,
                        item.index,
                    ),
                )
                settled += max(int(cursor.rowcount), 0)
        return settled

    def dismiss_open_findings(self, task_id: str, via: FindingVia, change: str) -> int:
        with self._write() as db:
            cursor = db.execute(
                "UPDATE findings SET outcome = 'dismissed', outcome_via = ?, outcome_change = ?, "
                "outcome_at = ? WHERE task_id = ? AND outcome IS NULL",
                (via, change, now_text(), task_id),
            )
            return max(int(cursor.rowcount), 0)

    def record_step_change(self, change: StepChange) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO step_changes (recorded_at, task_id, step, step_round, changed_code, "
                "changed_tests, changed_ship, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    now_text(),
                    change.task_id,
                    change.step,
                    change.round,
                    int(change.code),
                    int(change.tests),
                    int(change.ship),
                    change.detail,
                ),
            )

    def record_task_event(self, event: TaskEvent) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO task_events (recorded_at, task_id, decision, rating, rewrite, "
                "ready_seconds, needs_attention, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    now_text(),
                    event.task_id,
                    event.decision,
                    event.rating,
                    event.rewrite,
                    event.ready_seconds,
                    int(event.needs_attention),
                    event.detail,
                ),
            )

    # Defects after merge -------------------------------------------------------------------------

    def knows_task(self, task_id: str) -> bool:
        """Whether any step or outcome of ``task_id`` is recorded."""
        for table in ("steps", "task_events"):
            if self._read(f"SELECT 1 FROM {table} WHERE task_id = ? LIMIT 1", (task_id,)):
                return True
        return False

    def record_defect(self, task_id: str, severity: str, note: str) -> DefectRow:
        """Tie a defect found after merge to the task and to the route, models and prompt
        versions that produced it. Raises :class:`UnknownTask` for a task with no steps."""
        if severity not in DEFECT_SEVERITIES:
            raise ValueError(f"severity must be one of {', '.join(DEFECT_SEVERITIES)}")
        if not note.strip():
            raise ValueError("a defect needs a note saying what went wrong")
        steps = self._read(
            "SELECT step, attempt_of_step, provider, model, alias, prompt_version, risk_tier "
            "FROM steps WHERE task_id = ? ORDER BY id",
            (task_id,),
        )
        if not steps:
            raise UnknownTask(
                f"no task {task_id!r} in the ledger {self.path}; `tandem report` lists task ids"
            )
        from tandem.values import TIER_ORDER

        tier = max((row["risk_tier"] for row in steps), key=TIER_ORDER.index)
        route = [
            {
                "step": row["step"],
                "round": row["attempt_of_step"],
                "provider": row["provider"],
                "model": row["model"],
                "alias": row["alias"],
                "prompt_version": row["prompt_version"],
            }
            for row in steps
        ]
        with self._write() as db:
            db.execute(
                "INSERT INTO defects (recorded_at, task_id, severity, note, risk_tier, route_json) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (now_text(), task_id, severity, note.strip(), tier, json.dumps(route)),
            )
        rows = self._read("SELECT * FROM defects WHERE task_id = ? ORDER BY id DESC", (task_id,))
        return defect_row(rows[0])

    # Reads ---------------------------------------------------------------------------------------

    def findings(self, *, since: datetime | None = None) -> list[FindingRow]:
        where, params = _since("recorded_at", since)
        return [
            finding_row(r) for r in self._read(f"SELECT * FROM findings{where} ORDER BY id", params)
        ]

    def step_changes(
        self, *, since: datetime | None = None, changed_only: bool = False
    ) -> list[StepChangeRow]:
        """Recorded step changes; ``changed_only``: those that changed code, tests or the
        decision to ship (the others record that a step ran and changed nothing)."""
        where, params = _since("recorded_at", since)
        if changed_only:
            changed = "(changed_code <> 0 OR changed_tests <> 0 OR changed_ship <> 0)"
            where += f" AND {changed}" if where else f" WHERE {changed}"
        sql = f"SELECT * FROM step_changes{where} ORDER BY id"
        return [step_change_row(r) for r in self._read(sql, params)]

    def task_events(
        self, *, since: datetime | None = None, task_id: str | None = None
    ) -> list[TaskEventRow]:
        where, params = _since("recorded_at", since)
        if task_id is not None:
            where += " AND task_id = ?" if where else " WHERE task_id = ?"
            params = (*params, task_id)
        sql = f"SELECT * FROM task_events{where} ORDER BY id"
        return [task_event_row(r) for r in self._read(sql, params)]

    def defects(self) -> list[DefectRow]:
        """Every defect ever recorded (few; a tier with any keeps its review)."""
        return [defect_row(r) for r in self._read("SELECT * FROM defects ORDER BY id")]
