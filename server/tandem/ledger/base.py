"""The ledger's behaviour, written once for both databases: migrating, recording and querying.

:class:`Ledger` holds every query and the migration runner; a dialect (SQLite in
:mod:`tandem.ledger.sqlite`, PostgreSQL in :mod:`tandem.ledger.postgres`) supplies only the
connection, the write transaction, the read, the auto-increment key and its error translation.
Both dialects import this module and it imports neither, so choosing one is
:func:`tandem.ledger.open.open_ledger`'s job alone.
"""

from __future__ import annotations

import statistics
from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self

from tandem.ledger.errors import LedgerTooNew
from tandem.ledger.evidence_queries import EvidenceQueries
from tandem.ledger.outcome_queries import OutcomeQueries
from tandem.ledger.rows import (
    STEP_COLUMNS,
    LedgerRow,
    TaskNote,
    TrialRun,
    lean_row_to_record,
    now_text,
    row_to_record,
    row_to_trial_run,
    step_values,
)
from tandem.ledger.schema import MIGRATIONS, Executor
from tandem.ledger.totals import StepFilter, TotalsQueries

if TYPE_CHECKING:
    from tandem.values import StepName, StepRecord

HISTORY_WINDOW = 50
"""Most recent successful steps that history (typical output, calibration) looks at."""
HISTORY_MIN_STEPS = 3
"""Fewer recorded steps than this and history says "don't know" (defaults apply)."""


class Ledger(OutcomeQueries, TotalsQueries, EvidenceQueries, ABC):
    """A ledger in some database. Implements ``StepRecorder``, ``EstimateHistory`` and (with
    :class:`~tandem.ledger.outcome_queries.OutcomeQueries`) ``OutcomeRecorder``.

    Opening one applies pending migrations. Every SQL statement here is written once with ``?``
    placeholders; a dialect adapts them to its driver.
    """

    primary_key: ClassVar[str]
    """The dialect's auto-increment primary key clause, handed to each migration."""
    path: Path
    """Where the ledger is, as messages name it (for PostgreSQL: the URL without its password)."""

    # What a dialect supplies ---------------------------------------------------------------------

    @abstractmethod
    def _write(self) -> AbstractContextManager[Executor]:
        """One short write transaction; database errors become typed ledger errors."""

    @abstractmethod
    def _read(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        """The rows of one query, readable by column name and by position."""

    @abstractmethod
    def _has_table(self, name: str) -> bool: ...

    @abstractmethod
    def _lock_for_migration(self, db: Executor) -> None:
        """Serialise concurrent migrations inside the migrating transaction."""

    @abstractmethod
    def close(self) -> None: ...

    # Migrations --------------------------------------------------------------------------------

    def schema_version(self) -> int:
        if not self._has_table("schema_version"):
            return 0
        return int(self._read("SELECT max(version) FROM schema_version")[0][0] or 0)

    def _migrate(self) -> None:
        if self.schema_version() == len(MIGRATIONS):
            return  # nothing to write: a read-only ledger at the current version still reads
        with self._write() as db:
            self._lock_for_migration(db)
            db.execute(
                "CREATE TABLE IF NOT EXISTS schema_version "
                "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            current = db.execute("SELECT max(version) FROM schema_version").fetchone()[0] or 0
            if current > len(MIGRATIONS):
                raise LedgerTooNew(
                    f"ledger {self.path} has schema version {current}, newer than this Tandem "
                    f"knows ({len(MIGRATIONS)}); upgrade Tandem to use it"
                )
            for version in range(current + 1, len(MIGRATIONS) + 1):
                MIGRATIONS[version - 1](db, self.primary_key)
                db.execute(
                    "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                    (version, now_text()),
                )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # StepRecorder ------------------------------------------------------------------------------

    def record_step(self, record: StepRecord) -> None:
        placeholders = ", ".join("?" * len(STEP_COLUMNS.split(",")))
        with self._write() as db:
            db.execute(
                f"INSERT INTO steps ({STEP_COLUMNS}) VALUES ({placeholders})",
                step_values(record),
            )

    def task_spend(self, task_id: str) -> tuple[int, Decimal]:
        """Tokens (input incl. cache + output) and dollars a task has spent so far."""
        rows = self._read(
            "SELECT input_tokens + cache_read_tokens + cache_write_tokens + output_tokens, "
            "cost_usd FROM steps WHERE task_id = ?",
            (task_id,),
        )
        tokens = sum(int(row[0]) for row in rows)
        dollars = sum((Decimal(row[1]) for row in rows if row[1] is not None), Decimal(0))
        return tokens, dollars

    # EstimateHistory ---------------------------------------------------------------------------

    def typical_output_tokens(self, step: StepName, provider: str, model: str) -> int | None:
        rows = self._read(
            "SELECT output_tokens FROM steps WHERE provider = ? AND model = ? AND step = ? "
            "AND outcome = 'ok' ORDER BY id DESC LIMIT ?",
            (provider, model, step, HISTORY_WINDOW),
        )
        if len(rows) < HISTORY_MIN_STEPS:
            return None
        return round(statistics.median(int(row[0]) for row in rows))

    def input_calibration(self, provider: str, model: str) -> float | None:
        """Median of actual input tokens / offline-counted input over recent successful steps."""
        rows = self._read(
            "SELECT input_tokens + cache_read_tokens + cache_write_tokens, est_input_counted "
            "FROM steps WHERE provider = ? AND model = ? AND outcome = 'ok' "
            "AND est_input_counted > 0 AND usage_counted = 0 ORDER BY id DESC LIMIT ?",
            (provider, model, HISTORY_WINDOW),
        )
        if len(rows) < HISTORY_MIN_STEPS:
            return None
        return float(statistics.median(int(row[0]) / int(row[1]) for row in rows))

    # notes, trials, reads ----------------------------------------------------------------------

    def note_task(
        self, task_id: str, *, cleanup_minutes: float | None = None, note: str | None = None
    ) -> None:
        """Append a human note about a task; the latest cleanup figure is the one reported."""
        if cleanup_minutes is not None and not 0 <= cleanup_minutes <= 10_000:
            raise ValueError("cleanup minutes must be between 0 and 10000")
        with self._write() as db:
            db.execute(
                "INSERT INTO task_notes (recorded_at, task_id, cleanup_minutes, note) "
                "VALUES (?, ?, ?, ?)",
                (now_text(), task_id, cleanup_minutes, note),
            )

    def task_notes(self) -> dict[str, TaskNote]:
        """The latest note per task (cleanup minutes from the latest note that set them)."""
        notes: dict[str, TaskNote] = {}
        for row in self._read("SELECT * FROM task_notes ORDER BY id"):
            previous = notes.get(row["task_id"])
            minutes = row["cleanup_minutes"]
            if minutes is None and previous is not None:
                minutes = previous.cleanup_minutes
            notes[row["task_id"]] = TaskNote(
                task_id=row["task_id"],
                cleanup_minutes=minutes,
                note=row["note"] or (previous.note if previous else None),
                recorded_at=datetime.fromisoformat(row["recorded_at"]),
            )
        return notes

    def record_trial_run(self, run: TrialRun) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO trial_runs (recorded_at, trial_id, task_id, mode, run_index, "
                "outcome, test_command, test_passed, duration_ms, detail) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    now_text(),
                    run.trial_id,
                    run.task_id,
                    run.mode,
                    run.run_index,
                    run.outcome,
                    run.test_command,
                    None if run.test_passed is None else int(run.test_passed),
                    run.duration_ms,
                    run.detail,
                ),
            )

    def trial_runs(self, trial_id: str | None = None) -> list[TrialRun]:
        sql = "SELECT * FROM trial_runs"
        params: tuple[object, ...] = ()
        if trial_id is not None:
            sql, params = sql + " WHERE trial_id = ?", (trial_id,)
        return [row_to_trial_run(row) for row in self._read(sql + " ORDER BY id", params)]

    def steps(
        self,
        *,
        since: datetime | None = None,
        task_id: str | None = None,
        trial_id: str | None = None,
        validate: bool = False,
    ) -> list[LedgerRow]:
        """Recorded steps, oldest first, optionally since a time / for one task or trial.

        Rows are built without validating them again (the ledger wrote them from validated
        records) unless ``validate`` asks for it."""
        where, params = StepFilter(since, task_id, trial_id).where()
        rows = self._read(f"SELECT * FROM steps{where} ORDER BY started_at, id", params)
        convert = row_to_record if validate else lean_row_to_record
        return [convert(row) for row in rows]
