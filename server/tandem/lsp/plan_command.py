"""``tandem.plan``: plan a change to the selected code and show the plan document to edit.

Run only from ``workspace/executeCommand`` (the "Plan this change…" code action); the change
request comes from the argument, the selection or ``.tandem/request.md``
(:mod:`tandem.lsp.change_request`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from tandem.lsp import flow_actions
from tandem.lsp.change_request import resolve_request
from tandem.lsp.command_errors import answered
from tandem.lsp.jobs import Job
from tandem.lsp.positions import line_span
from tandem.lsp.server import TandemServer

if TYPE_CHECKING:  # the flow loads after ``initialize`` is answered (issue 18)
    from tandem.flow.taskstore import TaskStore
    from tandem.lsp.arguments import PlanArgs

log = logging.getLogger(__name__)


def cost_of(store: TaskStore, task_id: str, step: str) -> float | None:
    costs = [s.cost_usd for s in store.load_state(task_id).steps if s.step == step]
    if not costs or costs[-1] is None:
        return None
    return float(costs[-1])


async def show_plan(ls: TandemServer, plan_uri: str, task_id: str) -> None:
    window = ls.client_capabilities.window
    if window is not None and window.show_document is not None and window.show_document.support:
        shown = ls.window_show_document_async(
            types.ShowDocumentParams(uri=plan_uri, take_focus=True)
        )
        try:
            answer = await asyncio.wait_for(shown, 10)
        except Exception as error:  # the plan exists either way: say where it is
            log.info("showDocument failed: %s", error)
        else:
            if answer.success:
                return
    ls.window_show_message(
        types.ShowMessageParams(
            type=types.MessageType.Info,
            message=f"Tandem: plan of task {task_id} ready: {plan_uri}; edit it, then run "
            "tandem.draft",
        )
    )


async def run_plan(ls: TandemServer, args: PlanArgs) -> dict[str, Any]:
    from tandem.flow.steps import plan_step
    from tandem.flow.task import create_task
    from tandem.lsp.flow_session import open_env, slice_at, target_of, uri_of
    from tandem.slicing.result import FileRangeAnchor

    target = target_of(ls, "tandem.plan", args.uri)
    text = target.text
    lines = text.splitlines()
    selection = args.range.lsp() if args.range else None
    start, end = line_span(selection, len(lines))  # no range: the whole document
    selected = lines[start - 1 : end] if selection is not None else []
    request, origin = resolve_request(args.request, selected, target.root)
    log.info("tandem.plan: request from %s", origin)
    anchor = FileRangeAnchor(path=target.path, start_line=start, end_line=end, text=text)
    context = await slice_at(target, anchor, ls)
    catalog = ls.session.catalog(target.root)
    async with Job(ls, "Tandem: plan") as job:
        env, recorder = open_env(ls, ls.session, target.root, job)
        task_id: str | None = None
        try:
            task_id = create_task(env, request, anchor, context).task_id
            job.report(f"task {task_id}: planning")
            await plan_step(env, task_id)
        finally:
            recorder.close()
            if task_id is not None:
                catalog.refresh(task_id)
    plan_uri = uri_of(ls, catalog.store.plan_document(task_id))
    await show_plan(ls, plan_uri, task_id)
    return {
        "task_id": task_id,
        "plan_uri": plan_uri,
        "cost_usd": cost_of(env.store, task_id, "plan"),
    }


def register(server: TandemServer) -> None:
    @server.command(flow_actions.PLAN)
    async def plan(ls: TandemServer, *args: Any) -> dict[str, Any]:
        from tandem.lsp.arguments import PlanArgs, parse_argument

        return await answered(
            "tandem.plan", run_plan(ls, parse_argument("tandem.plan", args, PlanArgs))
        )
