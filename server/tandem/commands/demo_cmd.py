"""``tandem demo``: run the main job on the bundled example project."""

from __future__ import annotations

import argparse
from pathlib import Path

from tandem.commands.common import SubParsers


def register(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "demo", help="run Tandem's main job on the bundled example (offline by default)"
    )
    parser.add_argument(
        "--example",
        type=Path,
        default=None,
        help="example project (default: examples/projects_api)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tandem.trial.demo import run_demo

    return run_demo(args.example)
