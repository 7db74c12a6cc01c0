"""The ledger: one SQLite row per model step, with what was estimated and what really happened.

SQLite in WAL mode so two editor windows (two processes) can write at once: each write is one
short ``BEGIN IMMEDIATE`` transaction and waits up to ``busy_timeout`` for the other. The schema
grows by an append-only list of migrations (functions) tracked in ``schema_version``; a migration
once released is never edited.

Tokens are stored exactly as the provider reported them (normalised :class:`~tandem.values.Usage`),
dollars as Decimal text (never floats). An existing file is never recreated or overwritten: a
corrupt, locked, read-only or full ledger raises a :class:`LedgerError` subclass with a message
that says what to do, and :class:`GuardedRecorder` lets the flow keep working (it keeps the
records in memory and says that spend is not being recorded).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import statistics
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from tandem.config import LedgerSettings
from tandem.values import StepEstimate, StepName, StepRecord, Usage

logger = logging.getLogger("tandem.ledger")

HISTORY_WINDOW = 50
"""Most recent successful steps that history (typical output, calibration) looks at."""
HISTORY_MIN_STEPS = 3
"""Fewer recorded steps than this and history says "don't know" (defaults apply)."""


class LedgerError(Exception):
    """The ledger cannot be used; the message says what is wrong and how to fix it."""


class LedgerCorrupt(LedgerError):
    pass


class LedgerLocked(LedgerError):
    pass


class LedgerReadOnly(LedgerError):
    pass


class LedgerDiskFull(LedgerError):
    pass


class LedgerTooNew(LedgerError):
    pass


# SQLite primary result codes (the low byte of extended codes).
_SQLITE_PERM, _SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY = 3, 5, 6, 8
_SQLITE_IOERR, _SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_NOTADB = 10, 11, 13, 14, 26


def _translate(error: sqlite3.Error, path: Path) -> LedgerError:
    """A typed, actionable error for a SQLite failure."""
    code = getattr(error, "sqlite_errorcode", 0) & 0xFF
    text = str(error)
    if code in (_SQLITE_CORRUPT, _SQLITE_NOTADB) or "not a database" in text:
        return LedgerCorrupt(
            f"ledger {path} is not a readable SQLite database ({text}); it was left untouched. "
            "Move it aside (or set ledger.path to another file) to start a new ledger."
        )
    if code in (_SQLITE_BUSY, _SQLITE_LOCKED) or "locked" in text:
        return LedgerLocked(
            f"ledger {path} is locked by another process ({text}); spend is not being recorded "
            "until it is released. Close the other writer or raise its busy timeout."
        )
    if code in (_SQLITE_READONLY, _SQLITE_PERM, _SQLITE_CANTOPEN) or "readonly" in text:
        return LedgerReadOnly(
            f"ledger {path} cannot be written ({text}); check the file's and its folder's "
            "permissions, or set ledger.path to a writable file."
        )
    if code == _SQLITE_FULL or "full" in text:
        return LedgerDiskFull(
            f"ledger {path}: disk or database is full ({text}); free space to resume recording. "
            "Rows already recorded are intact."
        )
    return LedgerError(f"ledger {path}: {text}")


class Executor(Protocol):
    """What a migration needs: sqlite3.Connection and the PostgreSQL adapter both fit."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Any: ...


# --- migrations: append only -------------------------------------------------------------------


def _m1_steps_and_notes(db: Executor, pk: str) -> None:
    db.execute(
        f"""
        CREATE TABLE steps (
            id {pk},
            recorded_at TEXT NOT NULL,
            started_at TEXT NOT NULL,
            task_id TEXT NOT NULL,
            task_type TEXT NOT NULL,
            step TEXT NOT NULL,
            attempt_of_step INTEGER NOT NULL,
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            alias TEXT NOT NULL,
            prompt_version TEXT NOT NULL,
            risk_tier TEXT NOT NULL,
            input_tokens BIGINT NOT NULL,
            cache_read_tokens BIGINT NOT NULL,
            cache_write_tokens BIGINT NOT NULL,
            output_tokens BIGINT NOT NULL,
            reasoning_tokens BIGINT NOT NULL,
            cost_usd TEXT,
            latency_ms BIGINT NOT NULL,
            attempts INTEGER NOT NULL,
            outcome TEXT NOT NULL,
            error TEXT,
            estimate_json TEXT,
            est_input_tokens BIGINT,
            est_input_counted BIGINT,
            est_output_typical BIGINT,
            est_output_max BIGINT,
            est_usd_typical TEXT,
            est_usd_max TEXT,
            findings_json TEXT NOT NULL,
            draft_accepted INTEGER,
            trial_id TEXT,
            mode TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX steps_task ON steps (task_id)")
    db.execute("CREATE INDEX steps_history ON steps (provider, model, step, outcome, id)")
    db.execute("CREATE INDEX steps_started ON steps (started_at)")
    db.execute("CREATE INDEX steps_trial ON steps (trial_id)")
    db.execute(
        f"""
        CREATE TABLE task_notes (
            id {pk},
            recorded_at TEXT NOT NULL,
            task_id TEXT NOT NULL,
            cleanup_minutes REAL,
            note TEXT
        )
        """
    )
    db.execute("CREATE INDEX task_notes_task ON task_notes (task_id)")


def _m2_trial_runs(db: Executor, pk: str) -> None:
    db.execute(
        f"""
        CREATE TABLE trial_runs (
            id {pk},
            recorded_at TEXT NOT NULL,
            trial_id TEXT NOT NULL,
            task_id TEXT NOT NULL,
            mode TEXT NOT NULL,
            run_index INTEGER NOT NULL,
            outcome TEXT NOT NULL,
            test_command TEXT,
            test_passed INTEGER,
            duration_ms BIGINT NOT NULL,
            detail TEXT
        )
        """
    )
    db.execute("CREATE INDEX trial_runs_trial ON trial_runs (trial_id)")


def _m3_step_redactions(db: Executor, pk: str) -> None:
    """How many secrets each step's prompt had replaced before it left (counts, by kind)."""
    db.execute("ALTER TABLE steps ADD COLUMN redactions INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE steps ADD COLUMN redactions_json TEXT NOT NULL DEFAULT '{}'")


MIGRATIONS: tuple[Callable[[Executor, str], None], ...] = (
    _m1_steps_and_notes,
    _m2_trial_runs,
    _m3_step_redactions,
)
"""Append only: the schema version is the number of migrations applied. Each gets the
connection and the dialect's auto-increment primary key clause (SQLite or PostgreSQL)."""


# --- rows --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerRow:
    """A recorded step with its row id and the time it was written."""

    id: int
    recorded_at: datetime
    record: StepRecord


@dataclass(frozen=True)
class TaskNote:
    task_id: str
    cleanup_minutes: float | None
    note: str | None
    recorded_at: datetime


@dataclass(frozen=True)
class TrialRun:
    """One run of a task in a trial: which mode, did it finish, did the task's tests pass."""

    trial_id: str
    task_id: str
    mode: str
    run_index: int
    outcome: str
    test_command: str | None
    test_passed: bool | None
    duration_ms: int
    detail: str | None = None


def _utc_text(moment: datetime) -> str:
    """One sortable text form for every timestamp (naive times are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _now_text() -> str:
    return _utc_text(datetime.now(UTC))


def _decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


_STEP_COLUMNS = (
    "recorded_at, started_at, task_id, task_type, step, attempt_of_step, provider, model, alias, "
    "prompt_version, risk_tier, input_tokens, cache_read_tokens, cache_write_tokens, "
    "output_tokens, reasoning_tokens, cost_usd, latency_ms, attempts, outcome, error, "
    "estimate_json, est_input_tokens, est_input_counted, est_output_typical, est_output_max, "
    "est_usd_typical, est_usd_max, findings_json, draft_accepted, trial_id, mode, "
    "redactions, redactions_json"
)


def _step_values(record: StepRecord) -> tuple[object, ...]:
    usage, estimate = record.usage, record.estimate
    return (
        _now_text(),
        _utc_text(record.started_at),
        record.task_id,
        record.task_type,
        record.step,
        record.attempt_of_step,
        record.provider,
        record.model,
        record.alias,
        record.prompt_version,
        record.risk_tier,
        usage.input_tokens,
        usage.cache_read_tokens,
        usage.cache_write_tokens,
        usage.output_tokens,
        usage.reasoning_tokens,
        _decimal_text(record.cost_usd),
        record.latency_ms,
        record.attempts,
        record.outcome,
        record.error,
        estimate.model_dump_json() if estimate else None,
        estimate.input_tokens if estimate else None,
        estimate.input_tokens_counted if estimate else None,
        estimate.output_tokens_typical if estimate else None,
        estimate.output_tokens_max if estimate else None,
        _decimal_text(estimate.usd_typical) if estimate else None,
        _decimal_text(estimate.usd_max) if estimate else None,
        json.dumps(record.findings, sort_keys=True),
        None if record.draft_accepted is None else int(record.draft_accepted),
        record.trial_id,
        record.mode,
        record.redaction_count,
        json.dumps(record.redactions, sort_keys=True),
    )


def _row_to_record(row: Any) -> LedgerRow:
    estimate_json = row["estimate_json"]
    accepted = row["draft_accepted"]
    record = StepRecord(
        task_id=row["task_id"],
        task_type=row["task_type"],
        step=row["step"],
        attempt_of_step=row["attempt_of_step"],
        provider=row["provider"],
        model=row["model"],
        alias=row["alias"],
        prompt_version=row["prompt_version"],
        risk_tier=row["risk_tier"],
        usage=Usage(
            input_tokens=row["input_tokens"],
            cache_read_tokens=row["cache_read_tokens"],
            cache_write_tokens=row["cache_write_tokens"],
            output_tokens=row["output_tokens"],
            reasoning_tokens=row["reasoning_tokens"],
        ),
        cost_usd=_decimal(row["cost_usd"]),
        latency_ms=row["latency_ms"],
        attempts=row["attempts"],
        outcome=row["outcome"],
        error=row["error"],
        estimate=StepEstimate.model_validate_json(estimate_json) if estimate_json else None,
        findings=json.loads(row["findings_json"]),
        draft_accepted=None if accepted is None else bool(accepted),
        started_at=datetime.fromisoformat(row["started_at"]),
        trial_id=row["trial_id"],
        mode=row["mode"],
        redactions=json.loads(row["redactions_json"] or "{}"),
    )
    return LedgerRow(
        id=row["id"], recorded_at=datetime.fromisoformat(row["recorded_at"]), record=record
    )


# --- the ledger --------------------------------------------------------------------------------


class Ledger:
    """A SQLite ledger file. Implements ``StepRecorder`` and ``EstimateHistory``.

    Opening creates the file (and its folder) when missing and applies pending migrations;
    it never replaces an existing file. Safe to share between threads (one lock) and processes
    (SQLite's WAL locking with a busy timeout).
    """

    def __init__(self, path: Path, *, busy_timeout_ms: int = 5000) -> None:
        self.path = path
        self.read_only_reason: str | None = None
        self._lock = threading.Lock()
        self._db = self._open(busy_timeout_ms)
        try:
            self._migrate()
        except LedgerError:
            self._db.close()
            raise

    def _open(self, busy_timeout_ms: int) -> sqlite3.Connection:
        if self.path.exists() and not self.path.is_file():
            raise LedgerError(f"ledger {self.path} is not a file; set ledger.path to a file")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise LedgerReadOnly(
                f"cannot create the ledger folder {self.path.parent}: {error.strerror}; "
                "set ledger.path to a writable location"
            ) from error
        try:
            db = self._connect(str(self.path), busy_timeout_ms, uri=False)
            # Reading the header first: on a file that is not SQLite this fails before anything
            # is written, so the file is left exactly as it was.
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.Error as error:
            translated = _translate(error, self.path)
            if not isinstance(translated, LedgerReadOnly) or not self.path.is_file():
                raise translated from error
            return self._open_read_only(busy_timeout_ms, error)
        try:
            self._use_wal(db, busy_timeout_ms)
            # FULL: every recorded step is on disk when record_step returns (a step costs money;
            # a few ms of fsync is nothing next to a model call).
            db.execute("PRAGMA synchronous = FULL")
        except sqlite3.Error as error:
            db.close()
            raise _translate(error, self.path) from error
        return db

    @staticmethod
    def _connect(target: str, busy_timeout_ms: int, *, uri: bool) -> sqlite3.Connection:
        db = sqlite3.connect(
            target,
            timeout=busy_timeout_ms / 1000,
            isolation_level=None,  # autocommit; transactions are explicit and short
            check_same_thread=False,
            uri=uri,
        )
        db.row_factory = sqlite3.Row
        db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        return db

    def _open_read_only(self, busy_timeout_ms: int, cause: sqlite3.Error) -> sqlite3.Connection:
        """A ledger we may not write (file or folder modes): open it for reading only.

        A WAL ledger needs its ``-shm`` file even to read; in a read-only folder that file cannot
        be created, so the file is opened as immutable (nobody can write it anyway).
        """
        from urllib.parse import quote

        logger.warning(
            "ledger %s is read-only (%s): reports work, recording does not", self.path, cause
        )
        target = f"file:{quote(str(self.path.resolve()))}?mode=ro&immutable=1"
        try:
            db = self._connect(target, busy_timeout_ms, uri=True)
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.Error as error:
            raise _translate(error, self.path) from error
        self.read_only_reason = str(cause)
        return db

    def _use_wal(self, db: sqlite3.Connection, busy_timeout_ms: int) -> None:
        if str(db.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
            return  # WAL is persistent: set once by whoever created the file
        # Switching needs an exclusive lock and SQLite does not always wait for it with the busy
        # handler (two processes creating the ledger at once), so wait here.
        deadline = time.monotonic() + busy_timeout_ms / 1000
        while True:
            try:
                mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            except sqlite3.Error as error:
                translated = _translate(error, self.path)
                if isinstance(translated, LedgerLocked) and time.monotonic() < deadline:
                    time.sleep(0.02)
                    continue
                if not isinstance(translated, LedgerReadOnly):
                    raise
                # A read-only ledger can still be read (reports); writes say why they fail.
                logger.warning("ledger %s is read-only: %s", self.path, error)
                return
            if str(mode).lower() != "wal":
                logger.warning("ledger %s: journal mode is %s, not WAL", self.path, mode)
            return

    @contextmanager
    def _write(self) -> Iterator[Executor]:
        """One short write transaction; SQLite errors become typed ledger errors."""
        if self.read_only_reason is not None:
            raise LedgerReadOnly(
                f"ledger {self.path} cannot be written ({self.read_only_reason}); check the "
                "file's and its folder's permissions, or set ledger.path to a writable file."
            )
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as error:
                raise _translate(error, self.path) from error
            try:
                yield self._db
                self._db.execute("COMMIT")
            except sqlite3.Error as error:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise _translate(error, self.path) from error
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        with self._lock:
            try:
                return list(self._db.execute(sql, params).fetchall())
            except sqlite3.Error as error:
                raise _translate(error, self.path) from error

    primary_key = "INTEGER PRIMARY KEY AUTOINCREMENT"

    def _has_table(self, name: str) -> bool:
        return bool(self._read("SELECT name FROM sqlite_master WHERE name = ?", (name,)))

    def _lock_for_migration(self, db: Executor) -> None:
        """Serialise concurrent migrations (SQLite: BEGIN IMMEDIATE already does)."""

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
                    (version, _now_text()),
                )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # StepRecorder ------------------------------------------------------------------------------

    def record_step(self, record: StepRecord) -> None:
        placeholders = ", ".join("?" * len(_STEP_COLUMNS.split(",")))
        with self._write() as db:
            db.execute(
                f"INSERT INTO steps ({_STEP_COLUMNS}) VALUES ({placeholders})",
                _step_values(record),
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
            "AND est_input_counted > 0 ORDER BY id DESC LIMIT ?",
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
                (_now_text(), task_id, cleanup_minutes, note),
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
                    _now_text(),
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
        return [
            TrialRun(
                trial_id=row["trial_id"],
                task_id=row["task_id"],
                mode=row["mode"],
                run_index=row["run_index"],
                outcome=row["outcome"],
                test_command=row["test_command"],
                test_passed=None if row["test_passed"] is None else bool(row["test_passed"]),
                duration_ms=row["duration_ms"],
                detail=row["detail"],
            )
            for row in self._read(sql + " ORDER BY id", params)
        ]

    def steps(
        self,
        *,
        since: datetime | None = None,
        task_id: str | None = None,
        trial_id: str | None = None,
    ) -> list[LedgerRow]:
        """Recorded steps, oldest first, optionally since a time / for one task or trial."""
        clauses: list[str] = []
        params: list[object] = []
        if since is not None:
            clauses.append("started_at >= ?")
            params.append(_utc_text(since))
        if task_id is not None:
            clauses.append("task_id = ?")
            params.append(task_id)
        if trial_id is not None:
            clauses.append("trial_id = ?")
            params.append(trial_id)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        rows = self._read(f"SELECT * FROM steps{where} ORDER BY started_at, id", params)
        return [_row_to_record(row) for row in rows]


def open_ledger(target: Path | str, *, busy_timeout_ms: int = 5000) -> Ledger:
    """Open the ledger at a file path (created if missing) or a ``postgresql://`` URL.

    Raises :class:`LedgerError` with a message that says what to fix.
    """
    text = str(target)
    if text.startswith(("postgresql://", "postgres://")):
        from tandem.ledger.postgres import PostgresLedger

        return PostgresLedger(text)
    return Ledger(Path(target), busy_timeout_ms=busy_timeout_ms)


def configured_ledger(settings: LedgerSettings, workspace: Path) -> Path | str:
    """Where the settings say the ledger is: ``ledger.url``, else ``ledger.path`` (relative to
    the workspace), else ``<workspace>/.tandem/ledger.sqlite``."""
    if settings.url:
        return settings.url
    if settings.path:
        path = Path(settings.path).expanduser()
        return path if path.is_absolute() else workspace / path
    return workspace / ".tandem" / "ledger.sqlite"


def ledger_target(url: str | None, path: Path) -> Path | str:
    """Where the settings point: the shared database when ``ledger.url`` is set, else the file."""
    return url if url else path


class GuardedRecorder:
    """A ``StepRecorder`` that never stops the flow because the ledger failed.

    Records go to the ledger when it works. When it cannot be opened or written, the record is
    kept in memory (so budgets still see it), ``problem`` says that spend is not being recorded
    and why, and a warning is logged once per distinct problem.
    """

    def __init__(self, path: Path | str, *, busy_timeout_ms: int = 5000) -> None:
        self.path = path  # a file, or a postgresql:// URL
        self.problem: str | None = None
        self.unrecorded: list[StepRecord] = []
        self._busy_timeout_ms = busy_timeout_ms
        self._ledger: Ledger | None = None
        self._ensure()

    @property
    def ledger(self) -> Ledger | None:
        return self._ledger

    def _ensure(self) -> Ledger | None:
        """The open ledger, trying again to open it if an earlier attempt failed."""
        if self._ledger is None:
            try:
                self._ledger = open_ledger(self.path, busy_timeout_ms=self._busy_timeout_ms)
            except LedgerError as error:
                self._fail(error)
        return self._ledger

    def _fail(self, error: LedgerError) -> None:
        message = f"spend is not being recorded: {error}"
        if message != self.problem:
            logger.warning("%s", message)
        self.problem = message

    def record_step(self, record: StepRecord) -> None:
        self.unrecorded.append(record)
        ledger = self._ensure()
        if ledger is None:
            return
        # Oldest first, so records held while the ledger was unavailable are written as soon
        # as it works again.
        while self.unrecorded:
            try:
                ledger.record_step(self.unrecorded[0])
            except LedgerError as error:
                self._fail(error)
                return
            self.unrecorded.pop(0)
        self.problem = None

    def task_spend(self, task_id: str) -> tuple[int, Decimal]:
        tokens, dollars = 0, Decimal(0)
        if self._ledger is not None:
            try:
                tokens, dollars = self._ledger.task_spend(task_id)
            except LedgerError as error:
                self._fail(error)
        for record in self.unrecorded:
            if record.task_id == task_id:
                tokens += record.usage.total_tokens
                dollars += record.cost_usd or Decimal(0)
        return tokens, dollars

    def typical_output_tokens(self, step: StepName, provider: str, model: str) -> int | None:
        if self._ledger is None:
            return None
        try:
            return self._ledger.typical_output_tokens(step, provider, model)
        except LedgerError:
            return None

    def input_calibration(self, provider: str, model: str) -> float | None:
        if self._ledger is None:
            return None
        try:
            return self._ledger.input_calibration(provider, model)
        except LedgerError:
            return None

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()
