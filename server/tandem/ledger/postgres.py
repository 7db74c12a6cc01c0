"""The ledger on a shared PostgreSQL server, for a team (optional extra: ``tandem-lsp[postgres]``).

Same tables, same append-only migrations and same queries as the SQLite ledger: both are a
:class:`tandem.ledger.base.Ledger`; only the connection, the transaction, the auto-increment key
and the error translation differ. Migrations take a transaction-scoped advisory lock so two
processes upgrading at once do not collide. psycopg 3 is imported only when a URL is used.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tandem.ledger.base import Ledger
from tandem.ledger.errors import LedgerDiskFull, LedgerError, LedgerLocked, LedgerReadOnly
from tandem.ledger.location import without_password
from tandem.ledger.schema import Executor

MIGRATION_LOCK_KEY = 0x7A4D_2025
"""Arbitrary constant identifying Tandem's migration advisory lock."""


class _Row(dict[str, Any]):
    """A row readable by column name, by position and by slice, like sqlite3.Row."""

    def __init__(self, names: Sequence[str], values: Sequence[Any]) -> None:
        super().__init__(zip(names, values, strict=True))
        self._values = list(values)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, int | slice):
            return self._values[key]
        return super().__getitem__(key)


class _Cursor:
    """Adapts SQLite-style ``?`` placeholders to psycopg's ``%s``."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Any:
        return self._connection.execute(sql.replace("?", "%s"), tuple(parameters))


def _translate_pg(error: Exception, where: str) -> LedgerError:
    import psycopg
    from psycopg import errors

    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    if isinstance(error, errors.LockNotAvailable | errors.DeadlockDetected):
        return LedgerLocked(f"ledger {where} is locked ({text}); retry shortly")
    if isinstance(error, errors.InsufficientPrivilege | errors.ReadOnlySqlTransaction):
        return LedgerReadOnly(
            f"ledger {where} cannot be written ({text}); grant this user INSERT on the ledger "
            "tables or point ledger.url at a writable database"
        )
    if isinstance(error, errors.DiskFull):
        return LedgerDiskFull(f"ledger {where}: the database server's disk is full ({text})")
    if isinstance(error, psycopg.OperationalError):
        return LedgerError(
            f"cannot reach the ledger database {where} ({text}); check ledger.url and that the "
            "server is running"
        )
    return LedgerError(f"ledger {where}: {text}")


class PostgresLedger(Ledger):
    """A :class:`Ledger` stored in PostgreSQL at ``url``."""

    primary_key = "BIGSERIAL PRIMARY KEY"

    def __init__(self, url: str, *, connect_timeout_seconds: int = 5) -> None:
        self.url = url
        self.location = without_password(url)
        self.path = Path(self.location)  # for messages only: there is no file
        self._lock = threading.Lock()
        try:
            import psycopg
        except ImportError as error:
            raise LedgerError(
                "ledger.url needs psycopg 3: install the extra with "
                "`pip install 'tandem-lsp[postgres]'`"
            ) from error
        try:
            self._pg = psycopg.connect(
                url, autocommit=True, connect_timeout=connect_timeout_seconds
            )
            self._pg.execute("SET lock_timeout = '5s'")
        except psycopg.Error as error:
            raise _translate_pg(error, self.location) from error
        try:
            self._migrate()
        except LedgerError:
            self._pg.close()
            raise

    @contextmanager
    def _write(self) -> Iterator[Executor]:
        import psycopg

        with self._lock:
            try:
                with self._pg.transaction():
                    yield _Cursor(self._pg)
            except psycopg.Error as error:
                raise _translate_pg(error, self.location) from error

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        import psycopg

        with self._lock:
            try:
                cursor = self._pg.execute(sql.replace("?", "%s"), tuple(params))
                names = [column.name for column in cursor.description or ()]
                return [_Row(names, values) for values in cursor.fetchall()]
            except psycopg.Error as error:
                raise _translate_pg(error, self.location) from error

    def _has_table(self, name: str) -> bool:
        rows = self._read("SELECT to_regclass(?) IS NOT NULL", (name,))
        return bool(rows[0][0])

    def _sql_decimal_sum(self, column: str) -> str:
        return f"CAST(sum(CAST({column} AS numeric)) AS text)"

    def _sql_epoch_ms(self, column: str) -> str:
        return f"(EXTRACT(EPOCH FROM CAST({column} AS timestamptz)) * 1000)"

    def _lock_for_migration(self, db: Executor) -> None:
        db.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK_KEY,))

    def close(self) -> None:
        with self._lock:
            self._pg.close()
