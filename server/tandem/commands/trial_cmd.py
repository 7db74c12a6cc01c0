"""``tandem trial TASKFILE``: the split flow against single-model baselines, N runs each."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tandem.commands.common import SETTINGS_ERROR_EXIT, SubParsers, add_settings_options
from tandem.commands.ledger_access import add_ledger_option, open_cli_ledger, resolve_ledger_path


def register(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "trial",
        help="run one task through the split flow and single-model baselines, side by side",
    )
    parser.add_argument("taskfile", type=Path, metavar="TASKFILE", help="the task (TOML)")
    parser.add_argument("--repeat", type=int, default=3, metavar="N", help="runs per mode")
    parser.add_argument(
        "--modes", default="split,strong,cheap", help="comma-separated: split,strong,cheap"
    )
    parser.add_argument("--trial-id", metavar="ID", help="name the trial (default: generated)")
    parser.add_argument(
        "--yes",
        action="store_true",
        help="confirm steps above budgets.confirm_above_usd in advance (trials are unattended)",
    )
    parser.add_argument("--format", choices=["table", "markdown", "json", "csv"], default="table")
    add_ledger_option(parser)
    add_settings_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import asyncio

    from tandem.ledger.errors import LedgerError
    from tandem.ledger.totals import StepFilter
    from tandem.providers.fake import FakeRepliesError
    from tandem.reports.render import render
    from tandem.reports.scorecards import build_report, task_table
    from tandem.reports.tables import Report
    from tandem.trial.runs import (
        TrialInputError,
        find_test_command_problem,
        load_task_file,
        parse_modes,
        run_trial,
    )

    try:
        loaded = load_task_file(args.taskfile)
        problem = find_test_command_problem(loaded.task.test_command, loaded.repo)
        if problem is not None:
            raise TrialInputError(f"{args.taskfile}: {problem}")
        modes = parse_modes(args.modes)
        if not 1 <= args.repeat <= 100:
            raise TrialInputError("--repeat must be between 1 and 100")
    except TrialInputError as error:
        print(f"tandem: {error}", file=sys.stderr)
        return SETTINGS_ERROR_EXIT
    import os

    from tandem.commands.common import load_cli_settings
    from tandem.trial.runner import flow_runner

    settings_args = argparse.Namespace(**vars(args))
    if args.config is None and args.workspace == Path.cwd():
        settings_args.workspace = loaded.repo  # the task's own settings by default
    loaded_settings = load_cli_settings(settings_args)
    if loaded_settings is None:
        return SETTINGS_ERROR_EXIT
    from tandem.trial.runner import settings_for_mode

    try:
        for mode in modes:
            settings_for_mode(loaded_settings.settings, mode)
    except TrialInputError as error:
        print(f"tandem: {error}", file=sys.stderr)
        return SETTINGS_ERROR_EXIT
    runner = flow_runner(
        loaded_settings.settings,
        environ=dict(os.environ),
        workspace=Path(settings_args.workspace).resolve(),
        confirm=(lambda question: True) if args.yes else None,
    )
    target = resolve_ledger_path(settings_args)
    if target is None:
        return SETTINGS_ERROR_EXIT
    ledger = open_cli_ledger(target, must_exist=False)
    if ledger is None:
        return 1

    def progress(message: str) -> None:
        print(f"tandem: {message}", file=sys.stderr)

    try:
        with ledger:
            result = asyncio.run(
                run_trial(
                    loaded,
                    modes=modes,
                    repeat=args.repeat,
                    runner=runner,
                    ledger=ledger,
                    trial_id=args.trial_id,
                    progress=progress,
                )
            )
            totals = ledger.report_totals(StepFilter(trial_id=result.trial_id))
            full = build_report(totals, ledger.task_notes(), result.runs)
    except (TrialInputError, FakeRepliesError) as error:
        print(f"tandem: {error}", file=sys.stderr)
        return SETTINGS_ERROR_EXIT
    except LedgerError as error:
        print(f"tandem: {error}", file=sys.stderr)
        return 1
    report = Report(
        generated_at=full.generated_at,
        since=None,
        task_id=None,
        trial_id=result.trial_id,
        tables=(full.table("modes"), task_table(totals.tasks, {}), full.table("estimates")),
    )
    print(f"trial {result.trial_id}: {len(result.runs)} runs", file=sys.stderr)
    sys.stdout.write(render(report, args.format))
    return 0
