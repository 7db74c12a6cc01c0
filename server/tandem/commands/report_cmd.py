"""``tandem report``: scorecards from the ledger as a table, markdown, JSON, CSV or an HTML page."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tandem.commands.common import SETTINGS_ERROR_EXIT, SubParsers, add_settings_options
from tandem.commands.ledger_access import add_ledger_option, open_cli_ledger, resolve_ledger_path


def register(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "report",
        help="scorecards per task, step, model and week; estimate error; split vs baseline",
    )
    parser.add_argument("--since", metavar="AGE", help="e.g. 7d, 12h, 2w or 2026-11-01")
    parser.add_argument("--task", metavar="ID", help="only this task")
    parser.add_argument("--trial", metavar="ID", help="only the steps of this trial")
    parser.add_argument(
        "--format",
        choices=["table", "markdown", "json", "csv"],
        default="table",
        help="output format on stdout (default: table)",
    )
    parser.add_argument(
        "--html", type=Path, metavar="FILE", help="also write one self-contained HTML page"
    )
    add_ledger_option(parser)
    add_settings_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tandem.ledger.errors import LedgerError
    from tandem.reports.evidence import load_evidence
    from tandem.reports.render import render
    from tandem.reports.scorecards import build_report, mode_summaries, parse_since
    from tandem.reports.step_value import with_step_value
    from tandem.reports.tables import ReportInputError

    try:
        since = parse_since(args.since) if args.since else None
    except ReportInputError as error:
        print(f"tandem: {error}", file=sys.stderr)
        return SETTINGS_ERROR_EXIT
    path = resolve_ledger_path(args)
    if path is None:
        return SETTINGS_ERROR_EXIT
    ledger = open_cli_ledger(path, must_exist=True)
    if ledger is None:
        return 1
    try:
        with ledger:
            rows = ledger.steps(since=since, task_id=args.task, trial_id=args.trial)
            notes = ledger.task_notes()
            tasks = {row.record.task_id for row in rows}
            runs = [run for run in ledger.trial_runs(args.trial) if run.task_id in tasks]
            evidence = None if args.task or args.trial else load_evidence(ledger, since)
    except LedgerError as error:
        print(f"tandem: {error}", file=sys.stderr)
        return 1
    report = build_report(rows, notes, runs, since=since, task_id=args.task, trial_id=args.trial)
    if evidence is not None:
        report = with_step_value(report, evidence)
    if args.html is not None:
        from tandem.reports.html import render_html

        page = render_html(report, rows, mode_summaries(rows, notes, runs))
        try:
            args.html.write_text(page, encoding="utf-8")
        except OSError as error:
            print(f"tandem: cannot write {args.html}: {error.strerror}", file=sys.stderr)
            return 1
        print(f"tandem: wrote {args.html}", file=sys.stderr)
    sys.stdout.write(render(report, args.format))
    return 0
