"""``tandem config schema``: print the JSON Schema of the settings."""

from __future__ import annotations

import argparse
import sys

from tandem.commands.common import SubParsers


def register(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser("config", help="inspect settings (schema)")
    actions = parser.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    schema = actions.add_parser("schema", help="print the JSON Schema of the settings")
    schema.set_defaults(run=run_schema)


def run_schema(args: argparse.Namespace) -> int:
    from tandem.config import render_json_schema

    sys.stdout.write(render_json_schema())
    return 0
