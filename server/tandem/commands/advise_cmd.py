"""``tandem advise``: routing advice from the ledger's evidence; ``--apply`` writes it down."""

from __future__ import annotations

import argparse
import json
import sys
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
    from tandem.reports.advice import Advice


def register(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "advise", help="route changes the ledger's evidence supports (step value, catches, defects)"
    )
    parser.add_argument("--since", metavar="AGE", help="window, e.g. 14d (the default), 2w")
    parser.add_argument("--json", action="store_true", help="the documented JSON contract")
    parser.add_argument(
        "--apply",
        action="store_true",
        help="write the suggested changes into the settings file after showing the diff",
    )
    add_ledger_option(parser)
    add_settings_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tandem.reports.advice import advise
    from tandem.reports.advice_output import advice_json, advice_text
    from tandem.reports.evidence import load_evidence
    from tandem.reports.step_value import step_values

    loaded = load_cli_settings(args)
    if loaded is None:
        return SETTINGS_ERROR_EXIT
    evidence, code = read_window(args, load_evidence)
    if evidence is None:
        return code
    values = step_values(evidence)
    advice = advise(evidence, loaded.settings, values)
    if args.json:
        sys.stdout.write(json.dumps(advice_json(evidence, advice, values), indent=2) + "\n")
    else:
        sys.stdout.write(advice_text(evidence, advice))
    if not args.apply:
        return 0
    return apply_advice(args, loaded.sources[-1], advice)


def apply_advice(args: argparse.Namespace, source: str, advice: list[Advice]) -> int:
    from tandem.config.load import PYPROJECT_FILE, SETTINGS_FILE
    from tandem.config.toml_edit import TomlEditError, edited_text, unified_diff
    from tandem.reports.advice import changes

    chosen = changes(advice)
    if not chosen:
        print("tandem: nothing to apply: no advice suggests a change", file=sys.stderr)
        return 0
    target = args.config or (
        Path(source) if source != "built-in defaults" else args.workspace / SETTINGS_FILE
    )
    try:
        before = target.read_text(encoding="utf-8") if target.exists() else ""
        after = edited_text(before, chosen, pyproject=target.name == PYPROJECT_FILE)
    except (OSError, UnicodeDecodeError, TomlEditError) as error:
        print(f"tandem: cannot edit {target}: {error}", file=sys.stderr)
        return SETTINGS_ERROR_EXIT
    sys.stdout.write(unified_diff(target, before, after))
    try:
        target.write_text(after, encoding="utf-8")
    except OSError as error:
        print(f"tandem: cannot write {target}: {error.strerror}", file=sys.stderr)
        return 1
    print(f"tandem: wrote {len(chosen)} change(s) to {target}", file=sys.stderr)
    return 0
