"""``tandem plan``: create a task and run the plan step; the plan lands in an editable plan.md."""

from __future__ import annotations

import argparse
import sys

from tandem.commands.common import SubParsers
from tandem.commands.flow_common import (
    BAD_INPUT,
    FAILED,
    InputError,
    add_output_options,
    add_source_options,
    add_task_options,
    add_yes_option,
    interrupted,
    open_session,
    request_from_args,
    settings_for,
    slice_from_args,
)
from tandem.commands.flow_output import print_json, run_json


def register(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "plan", help="plan a change (strong or cheap model by risk); writes an editable plan.md"
    )
    add_source_options(parser, required=True)
    add_task_options(parser)
    add_yes_option(parser)
    add_output_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:

    from tandem.flow.errors import FlowError
    from tandem.flow.outcome import result_of
    from tandem.flow.steps import plan_step
    from tandem.flow.task import create_task

    loaded = settings_for(args)
    if loaded is None:
        return BAD_INPUT
    try:
        request = request_from_args(args)
        anchor, context = slice_from_args(args, loaded)
        session = open_session(args, loaded, review_requested=args.review)
    except InputError as error:
        print(f"tandem plan: {error}", file=sys.stderr)
        return BAD_INPUT
    try:
        task = create_task(session.env, request, anchor, context, task_type=args.task_type)
        try:
            session.run(plan_step(session.env, task.task_id))
        except FlowError as error:
            print(f"tandem plan: {error.message}", file=sys.stderr)
            return FAILED
        except KeyboardInterrupt:
            resume = f"tandem run --resume {task.task_id} --repo {args.repo}"
            return interrupted("plan", f"resume: {resume}")
        result = result_of(session.env.store, task.task_id)
        document = session.env.store.plan_document(task.task_id)
        if args.json:
            plan = result.plan.model_dump(mode="json") if result.plan else None
            print_json({**run_json(result), "plan": plan, "plan_md": str(document)})
        else:
            print(document.read_text(encoding="utf-8"))
            print(
                f"task {task.task_id}: edit {document} if needed, then: tandem draft {task.task_id}"
            )
        return 0
    finally:
        session.close()
