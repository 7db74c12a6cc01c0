"""A task and its stored state: created from a slice with its risk, rescoped by the plan, approved.

:func:`create_task` assesses the slice's risk, classifies the task type (unless the user chose
it) and persists the task with its slice; :func:`rescope_risk` raises the risk to that of the
plan's scope; :func:`approve_plan` and :func:`review_outside_change` move a task on without a
model call.
"""

from __future__ import annotations

from pathlib import Path

from tandem.config import Settings
from tandem.flow.edits import Snapshot
from tandem.flow.env import FlowEnv
from tandem.flow.errors import FlowError
from tandem.flow.handoff import (
    Draft,
    DraftReply,
    Plan,
    PlanReply,
    Scope,
    Task,
    split_unit_id,
    unit_id,
)
from tandem.flow.outcomes import note_plan_approved
from tandem.flow.taskstore import TaskState, TaskStore, new_task_id
from tandem.policy.budgets import classify_task_type
from tandem.policy.risk import Risk, TouchedFile, assess_risk
from tandem.slicing.result import Anchor, Slice
from tandem.values import TIER_ORDER, OutcomeRecorder, TaskType


def touched_files(repo: Path, context: Slice) -> list[TouchedFile]:
    by_path: dict[str, list[tuple[int, int, str]]] = {}
    for unit in context.touched:
        by_path.setdefault(unit.path, []).append((unit.start_line, unit.end_line, unit.name))
    files = []
    for path, units in sorted(by_path.items()):
        file = repo / path
        text = file.read_text(encoding="utf-8", errors="replace") if file.is_file() else None
        ranges = tuple((start, end) for start, end, _ in units)
        files.append(TouchedFile(path, text, ranges, tuple(name for _, _, name in units)))
    return files


def assess_slice(repo: Path, context: Slice, settings: Settings) -> tuple[Risk, int]:
    """The risk of the sliced change and the number of lines it touches."""
    files = touched_files(repo, context)
    risk = assess_risk(files, settings.risk, has_related_tests=bool(context.tests))
    return risk, sum(file.lines for file in files)


def create_task(
    env: FlowEnv,
    request: str,
    anchor: Anchor,
    context: Slice,
    *,
    task_type: TaskType | None = None,
    task_id: str | None = None,
) -> Task:
    """Assess risk, classify the task type (unless chosen) and persist the task and its slice."""
    risk, lines = assess_slice(env.repo, context, env.settings)
    chosen = task_type or classify_task_type(request, risk.tier, lines)
    task = Task(
        task_id=task_id or new_task_id(request),
        request=request,
        anchor=anchor,
        task_type=chosen,
        task_type_source="user" if task_type else "classified",
        risk_tier=risk.tier,
        risk_reasons=risk.messages,
        repo=str(env.repo.resolve()),
    )
    env.store.save_task(task)
    env.store.save_slice(task.task_id, context)
    env.store.save_state(task.task_id, TaskState(status="created"))
    return task


def lines_touched(context: Slice) -> int:
    return sum(unit.end_line - unit.start_line + 1 for unit in context.touched)


def rescope_risk(env: FlowEnv, task: Task, plan: PlanReply, snapshot: Snapshot) -> Task:
    """Raise the task's risk to that of the plan's scope (the plan may reach past the slice,
    e.g. into a query layer with SQL); the draft and review are routed by the result."""
    ranges: dict[str, list[tuple[int, int]]] = {}
    names: dict[str, list[str]] = {}
    for target in plan.scope.units:
        path, name = split_unit_id(target)
        unit = snapshot.get(path).unit(name) if name else None
        if unit is not None:
            ranges.setdefault(path, []).append((unit.start_line, unit.end_line))
            names.setdefault(path, []).append(unit.name)
    files = [
        TouchedFile(path, snapshot.get(path).text, tuple(spans), tuple(names[path]))
        for path, spans in sorted(ranges.items())
    ]
    files += [
        TouchedFile(path, None, (), ()) for path in sorted(set(plan.scope.files) - set(ranges))
    ]
    if not files:
        return task
    risk = assess_risk(files, env.settings.risk, has_related_tests=True)
    if TIER_ORDER.index(risk.tier) <= TIER_ORDER.index(task.risk_tier):
        return task
    raising = [reason.message for reason in risk.reasons if reason.tier != "low"]
    reasons = [*task.risk_reasons, *(f"plan scope: {m}" for m in raising)]
    raised = task.model_copy(update={"risk_tier": risk.tier, "risk_reasons": reasons})
    env.store.save_task(raised)
    return raised


def plan_from_slice(task: Task, context: Slice) -> PlanReply:
    """The plan used when routing skips the planner: the request over the sliced units."""
    files = sorted({u.path for u in context.touched} | {t.path for t in context.tests})
    return PlanReply(
        summary=task.request,
        scope=Scope(
            units=[unit_id(u.path, u.name) for u in context.touched],
            files=files,
            out_of_scope=["anything outside the units and files listed"],
        ),
        assumptions=[],
        steps=[task.request],
        risks=list(task.risk_reasons),
        test_cases=[],
        acceptance_checks=[],
        open_questions=[],
    )


def approve_plan(store: TaskStore, task_id: str, outcomes: OutcomeRecorder | None = None) -> Plan:
    """Approve the plan as it stands in ``plan.md`` (the user's edits included); the first
    approval records whether the user edited the plan (to ``outcomes``)."""
    plan = store.load_plan(task_id)
    if plan is None:
        raise FlowError(f"task {task_id} has no plan to approve yet; run the plan step first")
    approved = plan.model_copy(update={"approved": True})
    store.save_plan(task_id, approved)
    store.update_state(task_id, status="approved")
    if not plan.approved:
        note_plan_approved(outcomes, task_id, approved)
    return approved


def review_outside_change(env: FlowEnv, task_id: str, diff: str) -> None:
    """Set a task up to review a change Tandem did not draft: the plan the slice implies
    (approved) and a draft that holds only the outside diff."""
    task = env.store.load_task(task_id)
    context = env.store.load_slice(task_id)
    env.store.save_plan(task_id, Plan(reply=plan_from_slice(task, context), approved=True))
    notes = ["an outside change (not drafted by Tandem): judge it against the request"]
    env.store.save_draft(task_id, Draft(reply=DraftReply(edits=[], notes=notes), diff=diff))
