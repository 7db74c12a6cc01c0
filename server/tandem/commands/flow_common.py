"""Shared by ``tandem estimate/plan/draft/review/run``: the task inputs and the flow environment.
Only translation lives here: every decision is made by the core (flow, routing, ...); results
are printed by :mod:`tandem.commands.flow_output`.

Inputs are those of ``tandem slice`` (``--repo``; ``--diff FILE`` | ``--file F --lines A-B`` |
``--working-tree [--base REV]``) plus ``--request TEXT``.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

from tandem.commands.common import add_settings_options, load_cli_settings

if TYPE_CHECKING:
    from tandem.config import LoadedSettings
    from tandem.flow.env import Confirm, FlowEnv
    from tandem.ledger.recorder import GuardedRecorder
    from tandem.slicing.result import Anchor, Slice

T = TypeVar("T")

BAD_INPUT = 2
FAILED = 1


class InputError(Exception):
    """Bad command-line input; the message says what and how to fix it."""


def add_source_options(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument("--repo", type=Path, default=Path.cwd(), metavar="PATH")
    source = parser.add_mutually_exclusive_group(required=required)
    source.add_argument("--diff", metavar="FILE", help="unified diff file, or - for stdin")
    source.add_argument("--file", metavar="F", help="a file in the repository (with --lines)")
    source.add_argument(
        "--working-tree", action="store_true", help="the working tree against --base"
    )
    parser.add_argument("--lines", metavar="A-B", help="1-based inclusive line range for --file")
    parser.add_argument("--base", default="HEAD", metavar="REV", help="base for --working-tree")
    parser.add_argument(
        "--budget-tokens", type=int, metavar="N", help="token budget of the slice (context)"
    )


def add_task_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--request", metavar="TEXT", help="what to change, in plain words")
    parser.add_argument(
        "--task-type",
        choices=["small", "bugfix", "feature", "risky"],
        help="budget class (default: classified from size and risk)",
    )
    parser.add_argument(
        "--review", action="store_true", help="review even a trivial low-risk change"
    )


def add_output_options(parser: argparse.ArgumentParser, *, fake: bool = True) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON on stdout")
    if fake:
        parser.add_argument(
            "--fake-replies",
            type=Path,
            metavar="FILE",
            help="serve every step from canned replies (the FAKE provider; offline demo/tests)",
        )
    add_settings_options(parser)


YES_HELP = "confirm without asking: steps above budgets.confirm_above_usd are sent"


def add_yes_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--yes", action="store_true", help=YES_HELP)


def consent_from_args(args: argparse.Namespace) -> Confirm | None:
    """How the CLI confirms a step above ``budgets.confirm_above_usd``: ``--yes`` confirms,
    a terminal is asked, anything else (a pipe, CI, an editor task) cannot be asked."""
    if getattr(args, "yes", False):
        return lambda question: True
    if not sys.stdin.isatty():
        return None

    def ask(question: str) -> bool:
        print(f"tandem: {question} [y/N] ", end="", file=sys.stderr, flush=True)
        try:
            answer = input()
        except EOFError:
            return False
        return answer.strip().lower() in ("y", "yes")

    return ask


def settings_for(args: argparse.Namespace) -> LoadedSettings | None:
    """Settings with the workspace defaulting to --repo (as ``tandem slice`` does)."""
    if args.config is None and args.workspace == Path.cwd():
        args.workspace = args.repo
    return load_cli_settings(args)


def anchor_from_args(args: argparse.Namespace) -> Anchor:
    from tandem.slicing.result import DiffAnchor, FileRangeAnchor, WorkingTreeAnchor

    if args.diff is not None:
        try:
            diff = (
                sys.stdin.read()
                if args.diff == "-"
                else Path(args.diff).read_text(encoding="utf-8", errors="replace")
            )
        except OSError as error:
            raise InputError(f"cannot read --diff {args.diff}: {error.strerror}") from error
        return DiffAnchor(diff=diff)
    if args.file is not None:
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+))?\s*", args.lines or "")
        if match is None or int(match.group(1)) < 1:
            raise InputError("--file needs --lines A-B (1-based, e.g. 10-24)")
        start, end = int(match.group(1)), int(match.group(2) or match.group(1))
        if end < start:
            raise InputError(f"--lines {args.lines}: end before start")
        return FileRangeAnchor(path=args.file, start_line=start, end_line=end)
    return WorkingTreeAnchor(base=args.base)


def request_from_args(args: argparse.Namespace) -> str:
    request = (args.request or "").strip()
    if not request:
        raise InputError("--request TEXT is required: say what to change")
    return str(request)


def slice_from_args(args: argparse.Namespace, loaded: LoadedSettings) -> tuple[Anchor, Slice]:
    from tandem.slicing import SliceError, slice_repository

    if args.budget_tokens is not None and args.budget_tokens <= 0:
        raise InputError("--budget-tokens must be a positive number of tokens")
    anchor = anchor_from_args(args)
    try:
        context = slice_repository(
            args.repo, anchor, loaded.settings, budget_tokens=args.budget_tokens
        )
    except SliceError as error:
        raise InputError(str(error)) from error
    if not context.touched:
        raise InputError("the change touches no code unit; give a diff or a line range in code")
    for warning in context.warnings:
        print(f"tandem: warning: {warning}", file=sys.stderr)
    return anchor, context


class StderrProgress:
    """Progress on stderr, one line per message; on a terminal a call's running count is
    redrawn in place on one line, which the next message (or the step's end) settles."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._redraw = self._stream.isatty()
        self._live = False

    def __call__(self, message: str) -> None:
        from tandem.providers.base import LiveMessage

        if self._redraw and isinstance(message, LiveMessage):
            self._stream.write(f"\r\x1b[Ktandem: {message}")
            self._stream.flush()
            self._live = True
            return
        self.settle()
        print(f"tandem: {message}", file=self._stream)

    def settle(self) -> None:
        """End the redrawn line, keeping its last count, before anything else is written."""
        if self._live:
            self._stream.write("\n")
            self._stream.flush()
            self._live = False


@dataclass
class FlowSession:
    env: FlowEnv
    recorder: GuardedRecorder
    fake: bool
    progress: StderrProgress

    def run(self, steps: Coroutine[Any, Any, T]) -> T:
        """Run flow steps to their end; the progress line is settled before the caller prints."""
        import asyncio

        try:
            return asyncio.run(steps)
        finally:
            self.progress.settle()

    def close(self) -> None:
        if self.recorder.problem:
            print(f"tandem: warning: {self.recorder.problem}", file=sys.stderr)
        self.recorder.close()


INTERRUPTED = 130
"""Exit code after Ctrl-C (128 + SIGINT, as shells report it)."""


def interrupted(command: str, next_step: str) -> int:
    """Ctrl-C cancelled a model step (its stream closed, the step recorded as cancelled): say so
    and how to go on."""
    print(
        f"tandem {command}: interrupted; the step under way is recorded as cancelled. {next_step}",
        file=sys.stderr,
    )
    return INTERRUPTED


def open_session(
    args: argparse.Namespace, loaded: LoadedSettings, *, review_requested: bool = False
) -> FlowSession:
    """The flow environment: settings, task store, ledger, providers, progress on stderr."""
    import os

    from tandem.flow.env import build_flow_env, one_provider, registry_providers
    from tandem.flow.taskstore import TaskStore
    from tandem.ledger.location import configured_ledger
    from tandem.ledger.recorder import GuardedRecorder
    from tandem.providers.base import Provider

    recorder = GuardedRecorder(configured_ledger(loaded.settings.ledger, args.workspace))
    fake_file: Path | None = getattr(args, "fake_replies", None)
    shared: Provider | None = None
    if fake_file is not None:
        from tandem.providers.fake import FakeProvider, FakeRepliesError

        try:
            shared = FakeProvider.from_file(fake_file)
        except FakeRepliesError as error:
            recorder.close()
            raise InputError(str(error)) from error
        print(
            f"tandem: replies come from the FAKE provider (canned replies in {fake_file}); "
            "no model is called",
            file=sys.stderr,
        )
    progress = StderrProgress()
    workspace = Path(args.workspace).resolve()
    # The live environment: API keys are read when a model is first used.
    live = registry_providers(os.environ, workspace=workspace)
    env = build_flow_env(
        loaded.settings,
        Path(args.repo).resolve(),
        store=TaskStore(workspace),
        recorder=recorder,
        providers=one_provider(shared) if shared is not None else live,
        history=recorder,
        progress=progress,
        review_requested=review_requested,
        confirm=consent_from_args(args),
    )
    return FlowSession(env=env, recorder=recorder, fake=shared is not None, progress=progress)
