"""``tandem doctor``: where settings came from, models and keys, grammars, ledger location."""

from __future__ import annotations

import argparse

from tandem.commands.common import SubParsers, add_settings_options


def register(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "doctor", help="check settings, model keys, grammars and the ledger location"
    )
    add_settings_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import os

    from tandem.config import load_settings
    from tandem.reports.doctor import diagnose, render

    report = diagnose(
        load_settings(workspace=args.workspace, config_file=args.config),
        workspace=args.workspace,
        environ=dict(os.environ),
    )
    print(render(report))
    return report.exit_status
