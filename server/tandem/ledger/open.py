"""Opening the ledger: a ``postgresql://`` URL opens the shared database, anything else a file."""

from __future__ import annotations

from pathlib import Path

from tandem.ledger.base import Ledger
from tandem.ledger.location import is_postgres_url
from tandem.ledger.sqlite import SqliteLedger


def open_ledger(target: Path | str, *, busy_timeout_ms: int = 5000) -> Ledger:
    """Open the ledger at a file path (created if missing) or a ``postgresql://`` URL.

    Raises :class:`~tandem.ledger.errors.LedgerError` with a message that says what to fix.
    """
    text = str(target)
    if is_postgres_url(text):
        # Lazy: psycopg (and this module) load only when a team ledger is configured.
        from tandem.ledger.postgres import PostgresLedger

        return PostgresLedger(text)
    return SqliteLedger(Path(target), busy_timeout_ms=busy_timeout_ms)
