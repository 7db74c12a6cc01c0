"""Shared by the commands that read or write the ledger: the ``--ledger`` option and opening."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from tandem.commands.common import SETTINGS_ERROR_EXIT, load_cli_settings
from tandem.ledger.location import configured_ledger, ledger_target

if TYPE_CHECKING:
    from tandem.ledger.base import Ledger


def add_ledger_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ledger",
        metavar="FILE|URL",
        help="ledger file or postgresql:// URL (default: ledger.url, else ledger.path, else "
        "<workspace>/.tandem/ledger.sqlite)",
    )


def resolve_ledger_path(args: argparse.Namespace) -> Path | str | None:
    """The ledger from ``--ledger`` or the settings; None (messages printed) if unusable."""
    if args.ledger is not None:
        return ledger_target(args.ledger)
    loaded = load_cli_settings(args)
    if loaded is None:
        return None
    return configured_ledger(loaded.settings.ledger, args.workspace)


def open_cli_ledger(target: Path | str, *, must_exist: bool) -> Ledger | None:
    """Open the ledger or print why not (to stderr) and return None."""
    from tandem.ledger.errors import LedgerError
    from tandem.ledger.open import open_ledger

    if must_exist and isinstance(target, Path) and not target.exists():
        print(f"tandem: no ledger at {target} yet: nothing has been recorded", file=sys.stderr)
        return None
    try:
        return open_ledger(target)
    except LedgerError as error:
        print(f"tandem: {error}", file=sys.stderr)
        return None


T = TypeVar("T")


def read_cli_ledger(args: argparse.Namespace, read: Callable[[Ledger], T]) -> tuple[T | None, int]:
    """``read`` applied to the existing ledger of ``--ledger`` or the settings, and 0; or None
    and the exit code, the reason printed (2: bad settings; 1: no usable ledger)."""
    from tandem.ledger.errors import LedgerError

    path = resolve_ledger_path(args)
    if path is None:
        return None, SETTINGS_ERROR_EXIT
    ledger = open_cli_ledger(path, must_exist=True)
    if ledger is None:
        return None, 1
    try:
        with ledger:
            return read(ledger), 0
    except LedgerError as error:
        print(f"tandem: {error}", file=sys.stderr)
        return None, 1


def read_window(
    args: argparse.Namespace, read: Callable[[Ledger, datetime | None], T]
) -> tuple[T | None, int]:
    """:func:`read_cli_ledger` over the window of ``--since`` (exit 2 when it is unreadable)."""
    from tandem.reports.scorecards import parse_since
    from tandem.reports.tables import ReportInputError

    try:
        since = parse_since(args.since) if args.since else None
    except ReportInputError as error:
        print(f"tandem: {error}", file=sys.stderr)
        return None, SETTINGS_ERROR_EXIT
    return read_cli_ledger(args, lambda ledger: read(ledger, since))
