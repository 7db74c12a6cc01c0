"""The three steps: plan, draft and review, each routed, prompted, called and persisted.

Each step's handoff is persisted by :class:`~tandem.flow.taskstore.TaskStore` as soon as it
exists, so a retry resumes from the last good step. A step routing skips leaves a ``skipped``
line and no model call.
"""

from __future__ import annotations

from tandem.flow.call_record import note_skip
from tandem.flow.edits import Snapshot, apply_edits, snapshot_text
from tandem.flow.env import FlowEnv
from tandem.flow.errors import FlowError
from tandem.flow.handoff import (
    Draft,
    DraftReply,
    Plan,
    PlanReply,
    Rejection,
    Review,
    ReviewReply,
)
from tandem.flow.inputs import draft_values, plan_values, review_values, scope_paths
from tandem.flow.model_call import call_step
from tandem.flow.prompts import load_prompt, render
from tandem.flow.task import lines_touched, plan_from_slice, rescope_risk
from tandem.policy.routing import route_step
from tandem.slicing.result import Slice
from tandem.values import Route


async def plan_step(env: FlowEnv, task_id: str) -> Plan:
    task = env.store.load_task(task_id)
    context = env.store.load_slice(task_id)
    route = route_step("plan", task.risk_tier, env.settings, lines_touched=lines_touched(context))
    if route.skipped:
        note_skip(env, task_id, route, 1)
        plan = Plan(reply=plan_from_slice(task, context))
    else:
        template = load_prompt("plan")
        prompt = render(template, plan_values(task, context))
        reply, raw = await call_step(env, task, route, 1, prompt, PlanReply)
        plan = Plan(reply=reply, prompt_version=prompt.version, model=raw.model)
    env.store.save_plan(task_id, plan)
    message = f"plan ready for approval: {env.store.plan_document(task_id)}"
    env.store.update_state(task_id, status="planned", message=message)
    return plan


def draft_snapshot(env: FlowEnv, task_id: str, plan: PlanReply, context: Slice) -> Snapshot:
    """The files the draft edits, as they were at the first draft (persisted for round two)."""
    stored = env.store.load_snapshot(task_id)
    paths = scope_paths(plan) | {test.path for test in context.tests}
    if stored is None or not paths <= set(stored):
        stored = dict(stored or {})
        for path in sorted(paths - set(stored)):
            file = env.repo / path
            stored[path] = file.read_text(encoding="utf-8") if file.is_file() else None
        env.store.save_snapshot(task_id, stored)
    return Snapshot(files={path: snapshot_text(path, text) for path, text in stored.items()})


def approved_plan(env: FlowEnv, task_id: str) -> Plan:
    plan = env.store.load_plan(task_id)
    if plan is None or not plan.approved:
        raise FlowError(f"task {task_id}: approve the plan first (tandem run --yes, or approve)")
    return plan


async def draft_step(env: FlowEnv, task_id: str, round_: int = 1) -> Draft:
    task = env.store.load_task(task_id)
    context = env.store.load_slice(task_id)
    plan = approved_plan(env, task_id)
    snapshot = draft_snapshot(env, task_id, plan.reply, context)
    task = rescope_risk(env, task, plan.reply, snapshot)
    previous = None
    if round_ == 2:
        first, review = env.store.load_draft(task_id, 1), env.store.load_review(task_id, 1)
        if first is None or (review is None and first.diff):
            raise FlowError(f"task {task_id}: a second draft needs the first draft and review")
        previous = (first, review)
    route = route_step("draft", task.risk_tier, env.settings, lines_touched=lines_touched(context))
    if route.skipped:
        note_skip(env, task_id, route, round_)
        raise FlowError(f"draft skipped: {route.reason}", "skipped")
    prompt = render(load_prompt("draft"), draft_values(plan.reply, snapshot, context, previous))
    reply, raw = await call_step(env, task, route, round_, prompt, DraftReply)
    result = apply_edits(snapshot, reply.edits, plan.scope)
    # By identity: two identical edits are two edits, each refused (or not) in its own right.
    position = {id(edit): index for index, edit in enumerate(reply.edits)}
    rejected = [
        Rejection(
            index=position[id(r.edit)],
            kind=r.edit.kind,
            target=r.edit.target,
            reason=r.reason,
            scope_drift=r.scope_drift,
        )
        for r in result.rejected
    ]
    draft = Draft(
        reply=reply,
        round=round_,
        prompt_version=prompt.version,
        model=raw.model,
        diff=result.diff,
        rejected=rejected,
    )
    env.store.save_draft(task_id, draft)
    applied = len(result.applied)
    message = f"draft {round_}: {applied} edits apply, {len(rejected)} refused"
    env.store.update_state(task_id, status="drafted", message=message)
    await env.say(message)
    return draft


def diff_lines(diff: str) -> int:
    """Lines added or removed in a unified diff."""
    return sum(
        1 for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))
    )


async def review_step(env: FlowEnv, task_id: str, round_: int = 1) -> Review | None:
    task = env.store.load_task(task_id)
    context = env.store.load_slice(task_id)
    plan = approved_plan(env, task_id)
    draft = env.store.load_draft(task_id, round_)
    if draft is None:
        raise FlowError(f"task {task_id}: no draft {round_} to review")
    route = route_step(
        "review",
        task.risk_tier,
        env.settings,
        lines_touched=diff_lines(draft.diff),
        review_requested=env.review_requested,
    )
    if not draft.diff:
        route = Route(step="review", alias=None, reason="nothing to review: no edit applied")
    if route.skipped:
        note_skip(env, task_id, route, round_)
        await env.say(f"review skipped: {route.reason}")
        return None
    snapshot = draft_snapshot(env, task_id, plan.reply, context)
    prompt = render(load_prompt("review"), review_values(plan.reply, draft, context, snapshot))
    reply, raw = await call_step(
        env,
        task,
        route,
        round_,
        prompt,
        ReviewReply,
        findings_of=lambda r: Review(reply=r).counts(),
    )
    review = Review(reply=reply, round=round_, prompt_version=prompt.version, model=raw.model)
    env.store.save_review(task_id, review)
    message = f"review {round_}: {reply.verdict}, {len(review.blocking)} blocking findings"
    env.store.update_state(task_id, status="reviewed", message=message)
    await env.say(message)
    return review
