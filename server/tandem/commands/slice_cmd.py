"""``tandem slice``: print the context slice of a diff, a line range or the working tree."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from tandem.commands.common import SubParsers, add_settings_options, load_cli_settings


def register(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "slice",
        help="the touched code, related tests and callee signatures of a change",
        description=(
            "Slice a repository around a change: give a unified diff, a file and line range, "
            "or the working tree against HEAD (or --base REV)."
        ),
    )
    parser.add_argument("--repo", type=Path, default=Path.cwd(), metavar="PATH")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--diff", metavar="FILE", help="unified diff file, or - for stdin")
    source.add_argument("--file", metavar="F", help="a file in the repository (with --lines)")
    source.add_argument(
        "--working-tree", action="store_true", help="the working tree against --base"
    )
    parser.add_argument("--lines", metavar="A-B", help="1-based inclusive line range for --file")
    parser.add_argument("--base", default="HEAD", metavar="REV", help="base for --working-tree")
    parser.add_argument("--budget", type=int, metavar="N", help="token budget of the text")
    parser.add_argument("--json", action="store_true", help="print the JSON contract")
    add_settings_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tandem.slicing import SliceError, slice_repository
    from tandem.slicing.result import Anchor, DiffAnchor, FileRangeAnchor, WorkingTreeAnchor

    if args.config is None and args.workspace == Path.cwd():
        args.workspace = args.repo
    loaded = load_cli_settings(args)
    if loaded is None:
        return 2
    anchor: Anchor
    if args.diff is not None:
        try:
            diff = (
                sys.stdin.read()
                if args.diff == "-"
                else Path(args.diff).read_text(encoding="utf-8", errors="replace")
            )
        except OSError as exc:
            print(f"tandem slice: cannot read --diff {args.diff}: {exc.strerror}", file=sys.stderr)
            return 2
        anchor = DiffAnchor(diff=diff)
    elif args.file is not None:
        m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+))?\s*", args.lines or "")
        if m is None or int(m.group(1)) < 1:
            print("tandem slice: --file needs --lines A-B (1-based, e.g. 10-24)", file=sys.stderr)
            return 2
        start = int(m.group(1))
        end = int(m.group(2) or start)
        if end < start:
            print(f"tandem slice: --lines {args.lines}: end before start", file=sys.stderr)
            return 2
        anchor = FileRangeAnchor(path=args.file, start_line=start, end_line=end)
    else:
        anchor = WorkingTreeAnchor(base=args.base)
    if args.budget is not None and args.budget <= 0:
        print("tandem slice: --budget must be a positive number of tokens", file=sys.stderr)
        return 2
    try:
        result = slice_repository(args.repo, anchor, loaded.settings, budget_tokens=args.budget)
    except SliceError as exc:
        print(f"tandem slice: {exc}", file=sys.stderr)
        return 2
    if args.json:
        import json

        print(json.dumps(result.model_dump(mode="json"), ensure_ascii=False))
    else:
        sys.stdout.write(result.text)
        for warning in result.warnings:
            print(f"tandem slice: warning: {warning}", file=sys.stderr)
    return 0
