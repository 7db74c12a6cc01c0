"""``tandem report``: scorecards from the ledger as a table, markdown, JSON, CSV or an HTML page."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tandem.commands.common import (
    SETTINGS_ERROR_EXIT,
    SubParsers,
    add_settings_options,
    load_cli_settings,
)
from tandem.commands.ledger_access import add_ledger_option, read_window

if TYPE_CHECKING:
    from decimal import Decimal

    from tandem.ledger.base import Ledger
    from tandem.ledger.rows import TaskNote, TrialRun
    from tandem.ledger.totals import ReportTotals
    from tandem.reports.evidence import Evidence

    ReportRows = tuple[
        ReportTotals,
        dict[str, TaskNote],
        list[TrialRun],
        Evidence | None,
        list[tuple[Decimal, Decimal, str]],
        datetime | None,
    ]


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
    from tandem.reports.render import render
    from tandem.reports.scorecards import build_report, mode_summaries
    from tandem.reports.step_value import step_values, with_step_value

    read, code = read_window(args, lambda ledger, since: report_rows(ledger, args, since))
    if read is None:
        return code
    totals, notes, runs, evidence, estimated, since = read
    report = build_report(totals, notes, runs, since=since, task_id=args.task, trial_id=args.trial)
    values = None if evidence is None else step_values(evidence)
    if evidence is not None:
        report = with_step_value(report, evidence, values)
    if args.html is not None:
        from tandem.reports.html import render_html, value_figures

        value = None
        if evidence is not None:
            loaded = load_cli_settings(args)
            if loaded is None:
                return SETTINGS_ERROR_EXIT
            value = value_figures(evidence, loaded.settings, values)
        summaries = mode_summaries(totals.tasks, notes, runs)
        page = render_html(report, totals.groups, estimated, summaries, value)
        try:
            args.html.write_text(page, encoding="utf-8")
        except OSError as error:
            print(f"tandem: cannot write {args.html}: {error.strerror}", file=sys.stderr)
            return 1
        print(f"tandem: wrote {args.html}", file=sys.stderr)
    sys.stdout.write(render(report, args.format))
    return 0


def report_rows(ledger: Ledger, args: argparse.Namespace, since: datetime | None) -> ReportRows:
    """What the report needs, summed by the ledger; the window's evidence unless one task or
    trial is asked for; the estimate points only for the HTML page."""
    from tandem.ledger.totals import StepFilter
    from tandem.reports.evidence import load_evidence

    chosen = StepFilter(since, args.task, args.trial)
    totals = ledger.report_totals(chosen)
    notes = ledger.task_notes()
    tasks = {task.task_id for task in totals.tasks}
    runs = [run for run in ledger.trial_runs(args.trial) if run.task_id in tasks]
    evidence = None if args.task or args.trial else load_evidence(ledger, since)
    estimated = ledger.estimate_points(chosen) if args.html is not None else []
    return totals, notes, runs, evidence, estimated, since
