"""``tandem ledger note TASK --cleanup-minutes N``: add what the ledger cannot see by itself."""

from __future__ import annotations

import argparse
import sys

from tandem.commands.common import SETTINGS_ERROR_EXIT, SubParsers, add_settings_options
from tandem.commands.ledger_access import add_ledger_option, open_cli_ledger, resolve_ledger_path


def _minutes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of minutes") from None
    if not 0 <= value <= 10_000:
        raise argparse.ArgumentTypeError("cleanup minutes must be between 0 and 10000")
    return value


def register(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser("ledger", help="add notes to the cost ledger")
    actions = parser.add_subparsers(dest="ledger_command", metavar="ACTION", required=True)
    note = actions.add_parser(
        "note", help="record human cleanup minutes (and a note) for a finished task"
    )
    note.add_argument("task", metavar="TASK", help="the task id (see tandem report)")
    note.add_argument(
        "--cleanup-minutes", type=_minutes, metavar="N", help="minutes a person spent fixing up"
    )
    note.add_argument("--note", metavar="TEXT", help="free text, e.g. what had to be fixed")
    add_ledger_option(note)
    add_settings_options(note)
    note.set_defaults(run=run_note)


def run_note(args: argparse.Namespace) -> int:
    from tandem.ledger.errors import LedgerError

    if args.cleanup_minutes is None and not args.note:
        print("tandem: give --cleanup-minutes N and/or --note TEXT", file=sys.stderr)
        return SETTINGS_ERROR_EXIT
    path = resolve_ledger_path(args)
    if path is None:
        return SETTINGS_ERROR_EXIT
    ledger = open_cli_ledger(path, must_exist=False)
    if ledger is None:
        return 1
    try:
        with ledger:
            if not ledger.steps(task_id=args.task):
                print(
                    f"tandem: no task {args.task} in the ledger {path}; "
                    "`tandem report` lists the recorded tasks",
                    file=sys.stderr,
                )
                return SETTINGS_ERROR_EXIT
            ledger.note_task(args.task, cleanup_minutes=args.cleanup_minutes, note=args.note)
    except LedgerError as error:
        print(f"tandem: {error}", file=sys.stderr)
        return 1
    print(f"noted task {args.task}")
    return 0
