"""Shared by the commands that read or write the ledger: the ``--ledger`` option and opening."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tandem.commands.common import load_cli_settings

if TYPE_CHECKING:
    from tandem.ledger import Ledger


def add_ledger_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ledger",
        type=Path,
        metavar="FILE",
        help="ledger file (default: ledger.path, else <workspace>/.tandem/ledger.sqlite)",
    )


def resolve_ledger_path(args: argparse.Namespace) -> Path | None:
    """The ledger file from ``--ledger`` or the settings; None (messages printed) if unusable."""
    if args.ledger is not None:
        path: Path = args.ledger
        return path
    loaded = load_cli_settings(args)
    if loaded is None:
        return None
    from tandem.doctor import ledger_path

    return ledger_path(loaded, args.workspace)


def open_cli_ledger(path: Path, *, must_exist: bool) -> Ledger | None:
    """Open the ledger or print why not (to stderr) and return None."""
    from tandem.ledger import Ledger, LedgerError

    if must_exist and not path.exists():
        print(f"tandem: no ledger at {path} yet: nothing has been recorded", file=sys.stderr)
        return None
    try:
        return Ledger(path)
    except LedgerError as error:
        print(f"tandem: {error}", file=sys.stderr)
        return None
