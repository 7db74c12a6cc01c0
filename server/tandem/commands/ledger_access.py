"""Shared by the commands that read or write the ledger: the ``--ledger`` option and opening."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tandem.commands.common import load_cli_settings
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
