"""The ledger in a SQLite file, the default: WAL mode so two editor windows can write at once.

Each write is one short ``BEGIN IMMEDIATE`` transaction that waits up to ``busy_timeout`` for the
other process. An existing file is never recreated or overwritten: a corrupt, locked, read-only or
full ledger raises a :class:`~tandem.ledger.errors.LedgerError` subclass with a message that says
what to do. The queries and migrations are the shared ones in :mod:`tandem.ledger.base`.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from tandem.ledger.base import Ledger
from tandem.ledger.errors import (
    LedgerCorrupt,
    LedgerDiskFull,
    LedgerError,
    LedgerLocked,
    LedgerReadOnly,
)
from tandem.ledger.schema import Executor

logger = logging.getLogger("tandem.ledger")

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


_DECIMAL_SUM = "tandem_decimal_sum"


class _DecimalSum:
    """SQLite has no decimal type: dollar texts are summed exactly here, never as floats."""

    def __init__(self) -> None:
        self.total = Decimal(0)

    def step(self, value: str | None) -> None:
        if value is not None:
            self.total += Decimal(value)

    def finalize(self) -> str:
        return str(self.total)


class SqliteLedger(Ledger):
    """A SQLite ledger file.

    Opening creates the file (and its folder) when missing and applies pending migrations;
    it never replaces an existing file. Safe to share between threads (one lock) and processes
    (SQLite's WAL locking with a busy timeout).
    """

    primary_key = "INTEGER PRIMARY KEY AUTOINCREMENT"

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
        # typeshed's aggregate protocol says int; SQLite takes and returns text as well
        db.create_aggregate(_DECIMAL_SUM, 1, _DecimalSum)  # type: ignore[arg-type]
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

    def _has_table(self, name: str) -> bool:
        return bool(self._read("SELECT name FROM sqlite_master WHERE name = ?", (name,)))

    def _sql_decimal_sum(self, column: str) -> str:
        return f"{_DECIMAL_SUM}({column})"

    def _sql_epoch_ms(self, column: str) -> str:
        return f"((julianday({column}) - 2440587.5) * 86400000.0)"

    def _lock_for_migration(self, db: Executor) -> None:
        """Serialise concurrent migrations (SQLite: BEGIN IMMEDIATE already does)."""

    def close(self) -> None:
        with self._lock:
            self._db.close()
