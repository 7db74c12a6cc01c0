"""``tandem ledger note|defect TASK``: add what the ledger cannot see by itself.

``note`` records a finished task's cleanup minutes, rating (1-5), decision and free text;
``defect`` ties a bug found after merge to the task (and so to its route, models and prompt
versions) that produced it.
"""

from __future__ import annotations

import argparse
import sys

from tandem.commands.common import SETTINGS_ERROR_EXIT, SubParsers, add_settings_options
from tandem.commands.ledger_access import add_ledger_option, open_cli_ledger, resolve_ledger_path
from tandem.ledger.outcome_rows import DEFECT_SEVERITIES


def _minutes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of minutes") from None
    if not 0 <= value <= 10_000:
        raise argparse.ArgumentTypeError("cleanup minutes must be between 0 and 10000")
    return value


def _rating(text: str) -> int:
    if text.strip() not in ("1", "2", "3", "4", "5"):
        raise argparse.ArgumentTypeError(f"{text!r}: a rating is a whole number from 1 to 5")
    return int(text)


def register(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser("ledger", help="add notes and defects to the cost ledger")
    actions = parser.add_subparsers(dest="ledger_command", metavar="ACTION", required=True)
    note = actions.add_parser(
        "note", help="record cleanup minutes, a 1-5 rating, the decision or a note for a task"
    )
    note.add_argument("task", metavar="TASK", help="the task id (see tandem report)")
    note.add_argument(
        "--cleanup-minutes", type=_minutes, metavar="N", help="minutes a person spent fixing up"
    )
    note.add_argument("--rating", type=_rating, metavar="1-5", help="how good the result was")
    note.add_argument(
        "--decision",
        choices=["accepted", "rejected"],
        help="what was done with the draft; closes the task (unacted findings are dismissed)",
    )
    note.add_argument("--note", metavar="TEXT", help="free text, e.g. what had to be fixed")
    add_ledger_option(note)
    add_settings_options(note)
    note.set_defaults(run=run_note)
    defect = actions.add_parser(
        "defect", help="tie a defect found after merge to the task that produced it"
    )
    defect.add_argument("task", metavar="TASK", help="the task id (see tandem report)")
    defect.add_argument("--note", required=True, metavar="TEXT", help="what went wrong")
    defect.add_argument(
        "--severity", choices=DEFECT_SEVERITIES, default="major", help="default: major"
    )
    add_ledger_option(defect)
    add_settings_options(defect)
    defect.set_defaults(run=run_defect)


def run_note(args: argparse.Namespace) -> int:
    from tandem.flow.outcomes import close_task
    from tandem.ledger.errors import LedgerError
    from tandem.values import TaskEvent

    given = (args.cleanup_minutes, args.rating, args.decision)
    if all(value is None for value in given) and not args.note:
        print(
            "tandem: give --cleanup-minutes N, --rating 1-5, --decision and/or --note TEXT",
            file=sys.stderr,
        )
        return SETTINGS_ERROR_EXIT
    path = resolve_ledger_path(args)
    if path is None:
        return SETTINGS_ERROR_EXIT
    ledger = open_cli_ledger(path, must_exist=False)
    if ledger is None:
        return 1
    try:
        with ledger:
            if not ledger.knows_task(args.task):
                print(
                    f"tandem: no task {args.task} in the ledger {path}; "
                    "`tandem report` lists the recorded tasks",
                    file=sys.stderr,
                )
                return SETTINGS_ERROR_EXIT
            if args.cleanup_minutes is not None or args.note:
                ledger.note_task(args.task, cleanup_minutes=args.cleanup_minutes, note=args.note)
            if args.rating is not None:
                ledger.record_task_event(TaskEvent(task_id=args.task, rating=args.rating))
            if args.decision is not None:
                close_task(ledger, args.task, args.decision, "tandem ledger note --decision")
    except LedgerError as error:
        print(f"tandem: {error}", file=sys.stderr)
        return 1
    print(f"noted task {args.task}")
    return 0


def run_defect(args: argparse.Namespace) -> int:
    from tandem.ledger.errors import LedgerError
    from tandem.ledger.outcome_rows import UnknownTask

    if not args.note.strip():
        print("tandem: --note must say what went wrong", file=sys.stderr)
        return SETTINGS_ERROR_EXIT
    path = resolve_ledger_path(args)
    if path is None:
        return SETTINGS_ERROR_EXIT
    ledger = open_cli_ledger(path, must_exist=True)
    if ledger is None:
        return 1
    try:
        with ledger:
            defect = ledger.record_defect(args.task, args.severity, args.note)
    except UnknownTask as error:
        print(f"tandem: {error}", file=sys.stderr)
        return SETTINGS_ERROR_EXIT
    except LedgerError as error:
        print(f"tandem: {error}", file=sys.stderr)
        return 1
    models = sorted({f"{s['step']}: {s['provider']}/{s['model']}" for s in defect.route})
    print(
        f"recorded a {defect.severity} defect of task {defect.task_id} "
        f"({defect.risk_tier} risk; {', '.join(models)})"
    )
    return 0
