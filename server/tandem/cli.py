"""Command line: argv -> commands. The only place that configures logging and starts the server.

Each command lives in its own module under ``tandem.commands`` and registers its parser here;
those modules import nothing heavy at the top, so ``tandem --help`` stays fast.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import logging
import os
import sys
from collections.abc import Sequence

COMMAND_MODULES: tuple[str, ...] = (
    "tandem.commands.serve_cmd",
    "tandem.commands.version_cmd",
    "tandem.commands.doctor_cmd",
    "tandem.commands.config_cmd",
    "tandem.commands.demo_cmd",
    "tandem.commands.report_cmd",
    "tandem.commands.advise_cmd",
    "tandem.commands.ledger_cmd",
    "tandem.commands.slice_cmd",
    "tandem.commands.estimate_cmd",
    "tandem.commands.plan_cmd",
    "tandem.commands.draft_cmd",
    "tandem.commands.review_cmd",
    "tandem.commands.run_cmd",
    "tandem.commands.trial_cmd",
)

# Commands that run once and exit, and whose objects mostly live until the end: the cyclic
# garbage collector would walk them again and again, and all of them once more at exit (a fifth
# of a cold ``tandem slice``'s CPU, issue 19). A process running one pauses the collector and
# freezes what it made before exiting; a caller of ``main(argv)`` in its own process is left as is.
UNCOLLECTED_COMMANDS = frozenset({"slice"})


def named_module(argv: Sequence[str]) -> str | None:
    """The module of the command ``argv`` names (``serve`` -> ``tandem.commands.serve_cmd``),
    if it names one: only that command's parser is then built, so the language server does not
    wait for the other commands' imports before its first answer."""
    arguments = iter(argv)
    for argument in arguments:
        if argument == "--log-level":
            next(arguments, None)
        elif not argument.startswith("-"):
            module = f"tandem.commands.{argument}_cmd"
            return module if module in COMMAND_MODULES else None
        elif not argument.startswith("--log-level="):
            return None  # --help and friends: the whole parser
    return None


def build_parser(modules: Sequence[str] = COMMAND_MODULES) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tandem",
        description=(
            "Split coding work between a strong and a cheap model: sliced context, "
            "risk-based routing, and cost you can see before anything is sent."
        ),
    )
    parser.add_argument(
        "--log-level",
        default=os.environ.get("TANDEM_LOG_LEVEL", "WARNING"),
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log verbosity on stderr (default: WARNING, or $TANDEM_LOG_LEVEL)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in modules:
        importlib.import_module(name).register(subparsers)
    return parser


def configure_logging(level: str) -> None:
    """Logs go to stderr only: stdout is the JSON-RPC channel when serving."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    named = named_module(arguments)
    parser = build_parser((named,) if named else COMMAND_MODULES)
    args = parser.parse_args(arguments)
    if args.command is None:
        parser.print_help()
        return 0
    configure_logging(args.log_level)
    # argv None: this is the process's own command line, and the process exits when main returns
    paused = argv is None and args.command in UNCOLLECTED_COMMANDS and gc.isenabled()
    if paused:
        gc.disable()
    try:
        result: int = args.run(args)
    except KeyboardInterrupt:
        print("tandem: interrupted", file=sys.stderr)
        return 130
    finally:
        if paused:
            gc.freeze()  # the collection at exit then skips what the command made
            gc.enable()
    return result


if __name__ == "__main__":
    raise SystemExit(main())
