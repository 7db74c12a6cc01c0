"""``tandem run``: the whole flow non-interactively (plan → approve with --yes → draft → review,
at most one more round on blocking findings); ``--apply`` writes the edits; ``--resume TASK``
continues a task from its last good step."""

from __future__ import annotations

import argparse
import sys

from tandem.commands.common import SubParsers
from tandem.commands.flow_common import (
    BAD_INPUT,
    InputError,
    add_output_options,
    add_source_options,
    add_task_options,
    interrupted,
    open_session,
    request_from_args,
    settings_for,
    slice_from_args,
)
from tandem.commands.flow_output import (
    print_json,
    print_result,
    run_json,
    status_exit,
    written_lines,
)


def register(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "run", help="plan, draft and review a change in one go (--yes approves the plan)"
    )
    add_source_options(parser, required=False)
    add_task_options(parser)
    parser.add_argument(
        "--yes",
        action="store_true",
        help="approve the plan without asking, and confirm steps above budgets.confirm_above_usd",
    )
    parser.add_argument("--apply", action="store_true", help="write the final edits to the files")
    parser.add_argument("--resume", metavar="TASK", help="continue this task where it stopped")
    parser.add_argument(
        "--redraft",
        action="store_true",
        help="with --resume: draft once more a task whose draft changed nothing",
    )
    add_output_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tandem.flow.apply import ApplyError, apply_task_edits
    from tandem.flow.outcomes import close_task
    from tandem.flow.run import run_flow
    from tandem.flow.task import create_task
    from tandem.flow.taskstore import TaskStoreError

    loaded = settings_for(args)
    if loaded is None:
        return BAD_INPUT
    try:
        if args.resume is None:
            if not (args.diff or args.file or args.working_tree):
                raise InputError("give --diff FILE, --file F --lines A-B or --working-tree")
            request = request_from_args(args)
            anchor, context = slice_from_args(args, loaded)
        session = open_session(args, loaded, review_requested=args.review)
    except InputError as error:
        print(f"tandem run: {error}", file=sys.stderr)
        return BAD_INPUT
    try:
        if args.resume is not None:
            try:
                task = session.env.store.load_task(args.resume)
            except TaskStoreError as error:
                print(f"tandem run: {error}", file=sys.stderr)
                return BAD_INPUT
            session.env.repo = Path(task.repo)
        else:
            task = create_task(session.env, request, anchor, context, task_type=args.task_type)
        try:
            result = session.run(
                run_flow(session.env, task.task_id, approve=args.yes, redraft=args.redraft)
            )
        except KeyboardInterrupt:
            resume = f"tandem run --resume {task.task_id} --yes --repo {args.repo}"
            return interrupted("run", f"resume: {resume}")
        written: list[str] = []
        if args.apply and result.draft is not None and result.status == "done":
            try:
                written = apply_task_edits(session.env, task.task_id)
            except ApplyError as error:
                print(f"tandem run: {error.message}", file=sys.stderr)
                return 1
            close_task(session.env.outcomes, task.task_id, "accepted", "tandem run --apply")
        if args.json:
            print_json({**run_json(result), "written": written})
        else:
            print_result(result)
            for line in written_lines(written, result.draft):
                print(line)
            if result.status in ("failed", "stopped"):
                print(f"resume: tandem run --resume {task.task_id} --yes --repo {args.repo}")
            if result.status == "needs_attention" and "redraft" in result.message:
                print(f"redraft: tandem run --resume {task.task_id} --redraft --repo {args.repo}")
            if result.status == "planned":
                document = session.env.store.plan_document(task.task_id)
                print(f"review {document}, then: tandem run --resume {task.task_id} --yes")
        return status_exit(result)
    finally:
        session.close()
