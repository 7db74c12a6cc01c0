"""``tandem review``: review a diff, a revision range, the working tree, or a task's draft.

An outside change is reviewed against a plan implied by the slice (and ``--request`` when
given); the reviewer sees the diff and the related tests, never whole files, and returns
findings.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tandem.commands.common import SubParsers
from tandem.commands.flow_common import (
    BAD_INPUT,
    FAILED,
    InputError,
    add_output_options,
    add_yes_option,
    interrupted,
    open_session,
    settings_for,
    slice_from_args,
)
from tandem.commands.flow_output import print_json, print_result, run_json

DEFAULT_REQUEST = "Review this change for bugs, security problems and missing tests."


def register(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "review", help="review a diff, a range (A..B), the working tree, or a task's draft"
    )
    parser.add_argument("--repo", type=Path, default=Path.cwd(), metavar="PATH")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--diff", metavar="FILE", help="unified diff file, or - for stdin")
    source.add_argument("--range", metavar="A..B", help="a git revision range")
    source.add_argument(
        "--working-tree", action="store_true", help="the working tree against --base"
    )
    source.add_argument("--task", metavar="ID", help="review this task's latest draft")
    parser.add_argument("--base", default="HEAD", metavar="REV", help="base for --working-tree")
    parser.add_argument("--request", metavar="TEXT", help="what the change is meant to do")
    parser.add_argument("--budget-tokens", type=int, metavar="N", help="token budget of the slice")
    add_yes_option(parser)
    add_output_options(parser)
    parser.set_defaults(run=run, file=None, lines=None)


def _git_diff(repo: Path, *revisions: str) -> str:
    from tandem.slicing.git import GitError, git_diff

    try:
        return git_diff(repo, *revisions)
    except GitError as error:
        raise InputError(str(error)) from error


def _diff_file(args: argparse.Namespace) -> Path | None:
    """Turn --range / --working-tree into a diff text the slicer reads as --diff."""
    import tempfile

    if args.range is not None:
        if ".." not in args.range:
            raise InputError("--range needs A..B (e.g. main..HEAD)")
        start, _, end = args.range.partition("..")
        text = _git_diff(args.repo, start or "HEAD", end or "HEAD")
    elif args.working_tree:
        text = _git_diff(args.repo, args.base)
    else:
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".diff", delete=False, encoding="utf-8") as handle:
        handle.write(text)
    return Path(handle.name)


def run(args: argparse.Namespace) -> int:

    from tandem.flow.errors import FlowError
    from tandem.flow.outcome import result_of
    from tandem.flow.steps import review_step
    from tandem.flow.task import create_task, review_outside_change
    from tandem.flow.taskstore import TaskStoreError

    loaded = settings_for(args)
    if loaded is None:
        return BAD_INPUT
    temporary: Path | None = None
    try:
        session = open_session(args, loaded, review_requested=True)
    except InputError as error:
        print(f"tandem review: {error}", file=sys.stderr)
        return BAD_INPUT
    try:
        try:
            if args.task is not None:
                task = session.env.store.load_task(args.task)
                session.env.repo = Path(task.repo)
                rounds = [r for r in (1, 2) if session.env.store.load_draft(task.task_id, r)]
                if not rounds:
                    raise InputError(f"task {task.task_id} has no draft to review")
                round_ = rounds[-1]
            else:
                temporary = _diff_file(args)
                if temporary is not None:
                    args.diff, args.working_tree = str(temporary), False
                anchor, context = slice_from_args(args, loaded)
                request = (args.request or "").strip() or DEFAULT_REQUEST
                task = create_task(session.env, request, anchor, context)
                diff = anchor.diff if anchor.kind == "diff" else ""
                review_outside_change(session.env, task.task_id, diff)
                round_ = 1
        except (InputError, TaskStoreError) as error:
            print(f"tandem review: {error}", file=sys.stderr)
            return BAD_INPUT
        try:
            session.run(review_step(session.env, task.task_id, round_))
        except FlowError as error:
            print(f"tandem review: {error.message}", file=sys.stderr)
            return FAILED
        except KeyboardInterrupt:
            again = f"tandem review --task {task.task_id} --repo {args.repo}"
            return interrupted("review", f"review again: {again}")
        result = result_of(session.env.store, task.task_id)
        if args.json:
            print_json(run_json(result))
        else:
            print_result(result)
        return 0
    finally:
        session.close()
        if temporary is not None:
            temporary.unlink(missing_ok=True)
