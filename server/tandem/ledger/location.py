"""Where the ledger is: the one rule for a PostgreSQL URL versus a file path, and for showing a URL.

It imports nothing from Tandem, so the settings, the doctor, the CLI and both databases can use
it without an import circle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class LedgerPlaceSettings(Protocol):
    """The two settings that place the ledger (``tandem.config.LedgerSettings`` has them).

    A protocol rather than an import of the settings, because the settings import
    :func:`is_postgres_url` from here to validate ``ledger.url``.
    """

    @property
    def url(self) -> str | None: ...

    @property
    def path(self) -> str | None: ...


def is_postgres_url(text: str) -> bool:
    """Does this ledger location name a shared PostgreSQL database (else it is a file)?"""
    return text.startswith(POSTGRES_SCHEMES)


def ledger_target(given: str) -> Path | str:
    """The ledger a location given as text names: a PostgreSQL URL as given, else a file path."""
    return given if is_postgres_url(given) else Path(given)


def configured_ledger(settings: LedgerPlaceSettings, workspace: Path) -> Path | str:
    """Where the settings say the ledger is: ``ledger.url``, else ``ledger.path`` (relative to
    the workspace), else ``<workspace>/.tandem/ledger.sqlite``."""
    if settings.url:
        return settings.url
    if settings.path:
        path = Path(settings.path).expanduser()
        return path if path.is_absolute() else workspace / path
    return workspace / ".tandem" / "ledger.sqlite"


def without_password(url: str) -> str:
    """The URL as it may be shown in messages, logs and the doctor: never with its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
