"""``tandem doctor``: settings sources, models and keys, local servers, grammars, the ledger."""

from __future__ import annotations

import argparse

from tandem.commands.common import SubParsers, add_settings_options


def register(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "doctor", help="check settings, model keys, grammars and the ledger location"
    )
    add_settings_options(parser)
    parser.add_argument(
        "--probe",
        action="store_true",
        help="also send one small structured request (a model call) to each openai-compatible "
        "model and report which structured-output mode works",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import asyncio
    import os

    from tandem.config import load_settings
    from tandem.reports.doctor import diagnose, render
    from tandem.reports.doctor_servers import PROBE_NOTICE, compatible_models, server_checks

    environ = dict(os.environ)
    loaded = load_settings(workspace=args.workspace, config_file=args.config)
    report = diagnose(loaded, workspace=args.workspace, environ=environ)
    if args.probe and compatible_models(loaded.settings):
        print(PROBE_NOTICE, flush=True)
    report.checks += asyncio.run(server_checks(loaded.settings, environ, probe=args.probe))
    print(render(report))
    return report.exit_status
