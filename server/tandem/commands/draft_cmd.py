"""``tandem draft TASK``: approve the task's plan as it stands in plan.md and draft the edits."""

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
)
from tandem.commands.flow_output import print_json, print_result, run_json, written_lines


def register(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "draft", help="approve a task's plan (with your edits to plan.md) and draft the edits"
    )
    parser.add_argument("task", metavar="TASK", help="task id printed by tandem plan")
    parser.add_argument("--repo", type=Path, default=Path.cwd(), metavar="PATH")
    parser.add_argument("--apply", action="store_true", help="write the edits that apply")
    add_yes_option(parser)
    add_output_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:

    from tandem.flow.apply import apply_task_edits
    from tandem.flow.errors import FlowError
    from tandem.flow.handoff import PlanDocumentError
    from tandem.flow.outcome import result_of
    from tandem.flow.outcomes import close_task
    from tandem.flow.steps import draft_step
    from tandem.flow.task import approve_plan
    from tandem.flow.taskstore import TaskStoreError

    loaded = settings_for(args)
    if loaded is None:
        return BAD_INPUT
    try:
        session = open_session(args, loaded)
    except InputError as error:
        print(f"tandem draft: {error}", file=sys.stderr)
        return BAD_INPUT
    try:
        try:
            task = session.env.store.load_task(args.task)
            session.env.repo = Path(task.repo)
            approve_plan(session.env.store, args.task, session.env.outcomes)
        except (TaskStoreError, PlanDocumentError, FlowError) as error:
            print(f"tandem draft: {error}", file=sys.stderr)
            return BAD_INPUT
        try:
            session.run(draft_step(session.env, args.task, 1))
            written = apply_task_edits(session.env, args.task) if args.apply else []
            if args.apply:
                close_task(session.env.outcomes, args.task, "accepted", "tandem draft --apply")
        except FlowError as error:
            print(f"tandem draft: {error.message}", file=sys.stderr)
            return FAILED
        except KeyboardInterrupt:
            again = f"tandem draft {args.task} --repo {args.repo}"
            return interrupted("draft", f"draft again: {again}")
        result = result_of(session.env.store, args.task)
        if args.json:
            print_json({**run_json(result), "written": written})
        else:
            print_result(result)
            for line in written_lines(written, result.draft):
                print(line)
        return 0
    finally:
        session.close()
