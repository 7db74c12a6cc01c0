"""``tandem version``: print the version."""

from __future__ import annotations

import argparse

from tandem.commands.common import SubParsers


def register(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser("version", help="print Tandem's version")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tandem import __version__

    print(f"tandem {__version__}")
    return 0
