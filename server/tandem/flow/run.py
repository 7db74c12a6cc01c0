"""plan → (the user approves, may edit, the plan) → draft → review, with a stop rule and budgets.

Stop rule: one plan, one draft, one review. Exactly one more draft and review only when the
review has blocking findings and the budget allows; never a loop (:func:`next_step` is the whole
rule, and :func:`run_flow` cannot take more than five steps). Every call, whether it succeeds,
fails, is cancelled or is refused by the budget, becomes a :class:`~tandem.values.StepRecord`
with the estimate made before it. Each step's handoff is persisted by :class:`TaskStore` as soon
as it exists, so a retry resumes from the last good step.

Nothing leaves without the user's say-so: a step runs only when a face (CLI, editor) runs the
flow on a user's action, its prompt is redacted first (:mod:`tandem.redaction`), and a step
estimated above ``budgets.confirm_above_usd`` runs only if :attr:`FlowEnv.confirm` says yes (no
``confirm`` means nobody can be asked: the step is not sent).
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from tandem.config import ModelSettings, Settings
from tandem.cost.estimate import EstimateHistory, estimate_step
from tandem.cost.prices import price_usage
from tandem.flow.edits import Snapshot, apply_edits, snapshot_text, write_files
from tandem.flow.handoff import (
    Draft,
    DraftReply,
    Finding,
    Plan,
    PlanReply,
    Rejection,
    Review,
    ReviewReply,
    Scope,
    Task,
    split_unit_id,
    unit_id,
)
from tandem.flow.inputs import draft_values, plan_values, review_values, scope_paths
from tandem.flow.prompts import RenderedPrompt, load_prompt, render
from tandem.flow.taskstore import StepSummary, TaskState, TaskStore, new_task_id
from tandem.policy.budgets import check_budget, classify_task_type
from tandem.policy.risk import TIER_ORDER, Risk, TouchedFile, assess_risk
from tandem.policy.routing import route_step
from tandem.providers.base import (
    ModelReply,
    ModelRequest,
    ProgressReport,
    Provider,
    ProviderFailure,
)
from tandem.redaction import findings_text, redact_prompt
from tandem.slicing.result import Anchor, Slice
from tandem.values import (
    Route,
    StepEstimate,
    StepName,
    StepOutcome,
    StepRecord,
    StepRecorder,
    TaskType,
    Usage,
)

logger = logging.getLogger("tandem.flow")

ProviderFactory = Callable[[str, ModelSettings], Provider]
Confirm = Callable[[str], bool | Awaitable[bool]]
"""Asks the user a yes/no question (the message says what would be sent and its price)."""
MAX_STEPS = 5
"""plan + draft + review + second draft + second review: the stop rule's ceiling."""

R = TypeVar("R", bound=BaseModel)


class FlowError(Exception):
    """A step that did not produce its handoff; ``outcome`` says how it ended."""

    def __init__(self, message: str, outcome: StepOutcome = "failed") -> None:
        super().__init__(message)
        self.message = message
        self.outcome = outcome


@dataclass
class FlowEnv:
    """Everything the flow needs from outside: settings, files, models, the ledger."""

    settings: Settings
    repo: Path
    store: TaskStore
    recorder: StepRecorder
    providers: ProviderFactory
    history: EstimateHistory | None = None
    progress: ProgressReport | None = None
    review_requested: bool = False
    confirm: Confirm | None = None
    """Asked before a step estimated above ``budgets.confirm_above_usd``; None: refuse it."""
    _provider_cache: dict[str, Provider] = field(default_factory=dict)

    def provider(self, alias: str) -> Provider:
        if alias not in self._provider_cache:
            self._provider_cache[alias] = self.providers(alias, self.settings.models[alias])
        return self._provider_cache[alias]

    async def ask(self, question: str) -> bool:
        if self.confirm is None:
            return False
        answer = self.confirm(question)
        if inspect.isawaitable(answer):
            answer = await answer
        return bool(answer)

    async def say(self, message: str) -> None:
        logger.info("%s", message)
        if self.progress is not None:
            result = self.progress(message)
            if inspect.isawaitable(result):
                await result


# ----- task creation ------------------------------------------------------------------------


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


# ----- the stop rule ------------------------------------------------------------------------


@dataclass(frozen=True)
class FlowPosition:
    """What exists for a task, as far as the stop rule cares."""

    has_plan: bool = False
    approved: bool = False
    drafts: int = 0
    reviews: int = 0
    review_skipped: bool = False
    last_review_blocking: bool = False
    stopped: bool = False


@dataclass(frozen=True)
class Decision:
    step: StepName | None
    round: int
    reason: str


def next_step(position: FlowPosition) -> Decision:
    """The whole stop rule: which step runs next, or why nothing does."""
    if not position.has_plan:
        return Decision("plan", 1, "no plan yet")
    if not position.approved:
        return Decision(None, 0, "the plan is waiting for approval")
    if position.drafts == 0:
        return Decision("draft", 1, "plan approved")
    if position.reviews < position.drafts and not position.review_skipped:
        return Decision("review", position.drafts, f"draft {position.drafts} not reviewed yet")
    if position.review_skipped:
        return Decision(None, 0, "review skipped: done")
    if not position.last_review_blocking:
        return Decision(None, 0, "the review found no blocking issues: done")
    if position.drafts == 1 and not position.stopped:
        return Decision("draft", 2, "the review found blocking issues: one more draft")
    return Decision(None, 0, "stop rule: one more draft and review at most; a human decides now")


def position_of(store: TaskStore, task_id: str) -> FlowPosition:
    plan = store.load_plan(task_id)
    state = store.load_state(task_id)
    drafts = sum(1 for r in (1, 2) if store.load_draft(task_id, r) is not None)
    reviews = [review for r in (1, 2) if (review := store.load_review(task_id, r)) is not None]
    skipped = any(
        s.step == "review" and s.round == drafts and s.outcome == "skipped" for s in state.steps
    )
    return FlowPosition(
        has_plan=plan is not None,
        approved=plan is not None and plan.approved,
        drafts=drafts,
        reviews=len(reviews),
        review_skipped=skipped and len(reviews) < drafts,
        last_review_blocking=bool(reviews and reviews[-1].blocking),
        stopped=state.status == "stopped",
    )


# ----- one model call -----------------------------------------------------------------------


def _mode(settings: Settings) -> str:
    single = settings.routes.single_model
    return single if single in ("strong", "cheap") else "split"


def _alternatives(
    env: FlowEnv, step: StepName, alias: str, prompt: RenderedPrompt, schema: dict[str, Any]
) -> list[StepEstimate]:
    return [
        estimate_step(
            step,
            other,
            model,
            system=prompt.system,
            user=prompt.user,
            output_schema=schema,
            history=env.history,
        )
        for other, model in env.settings.models.items()
        if other != alias and model.provider != "fake"
    ]


def _summary(record: StepRecord, route: Route, message: str, fake: bool) -> StepSummary:
    return StepSummary(
        step=record.step,
        round=record.attempt_of_step,
        alias=route.alias,
        model=record.model,
        provider=record.provider,
        input_tokens=record.usage.total_input_tokens,
        output_tokens=record.usage.output_tokens,
        cost_usd=record.cost_usd,
        outcome=record.outcome,
        message=message,
        prompt_version=record.prompt_version,
        fake=fake,
        redactions=record.redaction_count,
    )


def _note_step(env: FlowEnv, task_id: str, summary: StepSummary, **state: Any) -> None:
    current = env.store.load_state(task_id)
    updated = current.model_copy(update={"steps": [*current.steps, summary], **state})
    env.store.save_state(task_id, updated)


async def call_step(
    env: FlowEnv,
    task: Task,
    route: Route,
    round_: int,
    prompt: RenderedPrompt,
    output_type: type[R],
    *,
    findings_of: Callable[[R], dict[str, int]] | None = None,
) -> tuple[R, ModelReply]:
    """Redact, estimate, check the budget, call the provider, record the step (whatever
    happens). Only the redacted prompt is estimated and sent."""
    assert route.alias is not None
    step: StepName = route.step
    alias = route.alias
    model = env.settings.models[alias]
    schema = output_type.model_json_schema()
    redacted = redact_prompt(prompt.system, prompt.user)
    prompt = dataclasses.replace(prompt, system=redacted.system, user=redacted.user)
    estimate = estimate_step(
        step,
        alias,
        model,
        system=prompt.system,
        user=prompt.user,
        output_schema=schema,
        history=env.history,
    )
    started = datetime.now(UTC)

    def record(
        outcome: StepOutcome,
        *,
        usage: Usage | None = None,
        cost: Decimal | None = None,
        provider: str = model.provider,
        model_name: str = model.model,
        latency_ms: int = 0,
        attempts: int = 0,
        error: str | None = None,
        findings: dict[str, int] | None = None,
        fake: bool = False,
        status: str | None = None,
    ) -> None:
        entry = StepRecord(
            task_id=task.task_id,
            task_type=task.task_type,
            step=step,
            attempt_of_step=round_,
            provider=provider,
            model=model_name,
            alias=alias,
            prompt_version=prompt.version,
            risk_tier=task.risk_tier,
            usage=usage or Usage(),
            cost_usd=cost,
            latency_ms=latency_ms,
            attempts=attempts,
            outcome=outcome,
            error=error,
            estimate=estimate,
            findings=findings or {},
            started_at=started,
            mode=_mode(env.settings),
            redactions=redacted.findings,
        )
        env.recorder.record_step(entry)
        message = error or f"{step} {outcome}"
        extra: dict[str, Any] = {"status": status, "message": message} if status else {}
        _note_step(env, task.task_id, _summary(entry, route, message, fake), **extra)

    spent = env.recorder.task_spend(task.task_id)
    alternatives = _alternatives(env, step, alias, prompt, schema)
    budget = check_budget(
        task.task_type, env.settings.budgets, estimate, spent, alternatives=alternatives
    )
    if not budget.allowed:
        record("over_budget", cost=Decimal(0), error=budget.message, status="stopped")
        await env.say(budget.message)
        raise FlowError(budget.message, "over_budget")
    provider = env.provider(alias)
    declined = await _consent(env, estimate, provider.is_fake)
    if declined is not None:
        _note_step(
            env,
            task.task_id,
            StepSummary(
                step=step, round=round_, alias=alias, outcome="cancelled", message=declined
            ),
        )
        await env.say(declined)
        raise FlowError(declined, "cancelled")
    cost_note = f", up to ${estimate.usd_max:.4f}" if estimate.usd_max is not None else ""
    await env.say(
        f"{step} (round {round_}) on {alias} ({model.provider}:{model.model}): "
        f"~{estimate.input_tokens} input tokens{cost_note}"
    )
    if redacted.count:
        await env.say(
            f"{step}: secrets replaced by placeholders before sending: "
            f"{findings_text(redacted.findings)}"
        )
    request = ModelRequest(
        system=prompt.system,
        user=prompt.user,
        output_type=output_type,
        max_output_tokens=model.max_output_tokens,
        step=step,
    )
    clock = time.monotonic()
    try:
        reply = await provider.complete(request, env.progress)
    except asyncio.CancelledError:
        elapsed = int((time.monotonic() - clock) * 1000)
        record("cancelled", latency_ms=elapsed, error=f"{step} cancelled", status="stopped")
        raise
    except ProviderFailure as failure:
        if failure.raw_text is not None:
            saved = env.store.save_raw_reply(task.task_id, step, round_, failure.raw_text)
            detail = f"{failure} (raw reply saved to {saved})"
        else:
            detail = str(failure)
        message = f"{step} failed: {detail}. Fix the cause and run again: the task resumes here."
        elapsed = int((time.monotonic() - clock) * 1000)
        record(
            "cancelled" if failure.kind == "cancelled" else "failed",
            usage=failure.usage,
            cost=price_usage(model, failure.usage),
            provider=failure.provider,
            model_name=failure.model,
            latency_ms=elapsed,
            attempts=failure.attempts,
            error=message,
            status="failed",
        )
        await env.say(message)
        raise FlowError(message, "failed") from failure
    parsed = output_type.model_validate(reply.parsed.model_dump())
    record(
        "ok",
        usage=reply.usage,
        # A fake reply is priced as the routed model would have charged for the same tokens.
        cost=price_usage(model, reply.usage),
        provider=reply.provider,
        model_name=reply.model,
        latency_ms=reply.latency_ms,
        attempts=reply.attempts,
        findings=findings_of(parsed) if findings_of else None,
        fake=reply.is_fake,
    )
    return parsed, reply


def needs_confirmation(estimate: StepEstimate, threshold: Decimal | None) -> bool:
    """A step whose most it can cost is above the threshold, or unknown (an unpriced model)."""
    if threshold is None:
        return False
    return estimate.usd_max is None or estimate.usd_max > threshold


async def _consent(env: FlowEnv, estimate: StepEstimate, fake: bool) -> str | None:
    """None when the step may be sent; else why it was not (asked and declined, or nobody to
    ask). Replies from the fake provider cost nothing and need no consent."""
    threshold = env.settings.budgets.confirm_above_usd
    if fake or not needs_confirmation(estimate, threshold):
        return None
    cost = (
        f"up to ${estimate.usd_max:.4f}"
        if estimate.usd_max is not None
        else "an unknown price (the model is unpriced)"
    )
    where = f"{estimate.step} on {estimate.alias} ({estimate.provider}:{estimate.model})"
    question = (
        f"{where} would send ~{estimate.input_tokens} input tokens at {cost}, above "
        f"budgets.confirm_above_usd (${threshold}). Send it?"
    )
    if env.confirm is None:
        return (
            f"{where} not sent: it costs {cost}, above budgets.confirm_above_usd (${threshold}), "
            "and there is no one to ask. Run it interactively, pass --yes to confirm, or raise "
            "budgets.confirm_above_usd"
        )
    if await env.ask(question):
        return None
    return f"{where} not sent: declined ({cost}, above budgets.confirm_above_usd ${threshold})"


def _skip(env: FlowEnv, task_id: str, route: Route, round_: int) -> None:
    summary = StepSummary(step=route.step, round=round_, outcome="skipped", message=route.reason)
    _note_step(env, task_id, summary)


# ----- the steps ----------------------------------------------------------------------------


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


async def plan_step(env: FlowEnv, task_id: str) -> Plan:
    task = env.store.load_task(task_id)
    context = env.store.load_slice(task_id)
    route = route_step("plan", task.risk_tier, env.settings, lines_touched=lines_touched(context))
    if route.skipped:
        _skip(env, task_id, route, 1)
        plan = Plan(reply=plan_from_slice(task, context))
    else:
        template = load_prompt("plan")
        prompt = render(template, plan_values(task, context))
        reply, raw = await call_step(env, task, route, 1, prompt, PlanReply)
        plan = Plan(reply=reply, prompt_version=prompt.version, model=raw.model)
    env.store.save_plan(task_id, plan)
    state = env.store.load_state(task_id)
    document = env.store.plan_document(task_id)
    message = f"plan ready for approval: {document}"
    env.store.save_state(
        task_id, state.model_copy(update={"status": "planned", "message": message})
    )
    return plan


def approve_plan(store: TaskStore, task_id: str) -> Plan:
    """Approve the plan as it stands in ``plan.md`` (the user's edits included)."""
    plan = store.load_plan(task_id)
    if plan is None:
        raise FlowError(f"task {task_id} has no plan to approve yet; run the plan step first")
    approved = plan.model_copy(update={"approved": True})
    store.save_plan(task_id, approved)
    state = store.load_state(task_id)
    store.save_state(task_id, state.model_copy(update={"status": "approved"}))
    return approved


def _snapshot(env: FlowEnv, task_id: str, plan: PlanReply, context: Slice) -> Snapshot:
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


def _require_plan(env: FlowEnv, task_id: str) -> Plan:
    plan = env.store.load_plan(task_id)
    if plan is None or not plan.approved:
        raise FlowError(f"task {task_id}: approve the plan first (tandem run --yes, or approve)")
    return plan


async def draft_step(env: FlowEnv, task_id: str, round_: int = 1) -> Draft:
    task = env.store.load_task(task_id)
    context = env.store.load_slice(task_id)
    plan = _require_plan(env, task_id)
    snapshot = _snapshot(env, task_id, plan.reply, context)
    task = rescope_risk(env, task, plan.reply, snapshot)
    previous = None
    if round_ == 2:
        first, review = env.store.load_draft(task_id, 1), env.store.load_review(task_id, 1)
        if first is None or review is None:
            raise FlowError(f"task {task_id}: a second draft needs the first draft and review")
        previous = (first, review)
    route = route_step("draft", task.risk_tier, env.settings, lines_touched=lines_touched(context))
    if route.skipped:
        _skip(env, task_id, route, round_)
        raise FlowError(f"draft skipped: {route.reason}", "skipped")
    prompt = render(load_prompt("draft"), draft_values(plan.reply, snapshot, context, previous))
    reply, raw = await call_step(env, task, route, round_, prompt, DraftReply)
    result = apply_edits(snapshot, reply.edits, plan.scope)
    rejected = [
        Rejection(
            index=reply.edits.index(r.edit),
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
    state = env.store.load_state(task_id)
    env.store.save_state(
        task_id, state.model_copy(update={"status": "drafted", "message": message})
    )
    await env.say(message)
    return draft


def review_outside_change(env: FlowEnv, task_id: str, diff: str) -> None:
    """Set a task up to review a change Tandem did not draft: the plan the slice implies
    (approved) and a draft that holds only the outside diff."""
    task = env.store.load_task(task_id)
    context = env.store.load_slice(task_id)
    env.store.save_plan(task_id, Plan(reply=plan_from_slice(task, context), approved=True))
    notes = ["an outside change (not drafted by Tandem): judge it against the request"]
    env.store.save_draft(task_id, Draft(reply=DraftReply(edits=[], notes=notes), diff=diff))


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


def diff_lines(diff: str) -> int:
    """Lines added or removed in a unified diff."""
    return sum(
        1 for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))
    )


async def review_step(env: FlowEnv, task_id: str, round_: int = 1) -> Review | None:
    task = env.store.load_task(task_id)
    context = env.store.load_slice(task_id)
    plan = _require_plan(env, task_id)
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
        _skip(env, task_id, route, round_)
        await env.say(f"review skipped: {route.reason}")
        return None
    snapshot = _snapshot(env, task_id, plan.reply, context)
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
    state = env.store.load_state(task_id)
    env.store.save_state(
        task_id, state.model_copy(update={"status": "reviewed", "message": message})
    )
    await env.say(message)
    return review


# ----- the whole flow -----------------------------------------------------------------------


@dataclass
class FlowResult:
    task_id: str
    status: str
    message: str
    steps: list[StepSummary]
    draft: Draft | None
    review: Review | None
    plan: Plan | None

    @property
    def fake(self) -> bool:
        return any(step.fake for step in self.steps)

    @property
    def findings(self) -> list[Finding]:
        return list(self.review.findings) if self.review else []


def result_of(store: TaskStore, task_id: str) -> FlowResult:
    state = store.load_state(task_id)
    drafts = [d for r in (1, 2) if (d := store.load_draft(task_id, r)) is not None]
    reviews = [v for r in (1, 2) if (v := store.load_review(task_id, r)) is not None]
    return FlowResult(
        task_id=task_id,
        status=state.status,
        message=state.message,
        steps=state.steps,
        draft=drafts[-1] if drafts else None,
        review=reviews[-1] if reviews else None,
        plan=store.load_plan(task_id),
    )


async def run_flow(env: FlowEnv, task_id: str, *, approve: bool) -> FlowResult:
    """Run (or resume) a task as far as the stop rule allows.

    ``approve`` approves the plan as soon as it exists (``--yes``); without it the flow stops
    after the plan and waits. A failed, cancelled or over-budget step stops the flow with its
    state saved; calling again resumes from the last good step.
    """
    steps_run = 0
    # Bounded twice over: by the stop rule, and by this count (approval is not a step).
    while steps_run <= MAX_STEPS:
        decision = next_step(position_of(env.store, task_id))
        if decision.step is None and decision.reason.startswith("the plan is waiting"):
            if not approve:
                break
            approve_plan(env.store, task_id)
            continue
        if decision.step is None:
            state = env.store.load_state(task_id)
            update = {"status": "done", "message": decision.reason}
            env.store.save_state(task_id, state.model_copy(update=update))
            break
        steps_run += 1
        try:
            if decision.step == "plan":
                await plan_step(env, task_id)
            elif decision.step == "draft":
                await draft_step(env, task_id, decision.round)
            else:
                await review_step(env, task_id, decision.round)
        except FlowError as error:
            state = env.store.load_state(task_id)
            status = "failed" if error.outcome == "failed" else "stopped"
            update = {"status": status, "message": error.message}
            env.store.save_state(task_id, state.model_copy(update=update))
            break
    return result_of(env.store, task_id)


class ApplyError(FlowError):
    """Edits that cannot be written because the files changed since the draft."""


def apply_task_edits(env: FlowEnv, task_id: str) -> list[str]:
    """Write the last draft's edits into the repository; refuses if a file changed since."""
    result = result_of(env.store, task_id)
    if result.draft is None or result.plan is None:
        raise ApplyError(f"task {task_id} has no draft to apply")
    stored = env.store.load_snapshot(task_id) or {}
    snapshot = Snapshot(files={path: snapshot_text(path, text) for path, text in stored.items()})
    applied = apply_edits(snapshot, result.draft.edits, result.plan.scope)
    changed = [
        path
        for path in applied.files
        if (env.repo / path).is_file()
        and (env.repo / path).read_text(encoding="utf-8") != stored.get(path)
    ]
    if changed:
        raise ApplyError(
            "changed since the draft, not overwritten: " + ", ".join(changed) + "; run a new task"
        )
    return write_files(env.repo, applied.files)


def tandem_findings(draft: Draft | None) -> list[dict[str, Any]]:
    """Refused edits as findings Tandem itself reports (scope drift is a finding, not a patch)."""
    if draft is None:
        return []
    return [
        {
            "severity": "major" if rejection.scope_drift else "minor",
            "category": "scope-drift" if rejection.scope_drift else "bug",
            "location": rejection.target,
            "message": f"edit refused: {rejection.reason}",
            "suggested_change": None,
            "source": "tandem",
        }
        for rejection in draft.rejected
    ]


def edits_json(draft: Draft | None) -> list[dict[str, Any]]:
    if draft is None:
        return []
    refused = {rejection.index: rejection.reason for rejection in draft.rejected}
    return [
        {
            "kind": edit.kind,
            "target": edit.target,
            "reason": edit.reason,
            "applies": index not in refused,
            "refused_because": refused.get(index),
            "code": edit.code,
        }
        for index, edit in enumerate(draft.edits)
    ]


def run_json(result: FlowResult) -> dict[str, Any]:
    """The ``tandem run --json`` document."""
    return {
        "task_id": result.task_id,
        "status": result.status,
        "message": result.message,
        "fake_provider": result.fake,
        "steps": [
            {
                "step": step.step,
                "round": step.round,
                "model": step.model,
                "provider": step.provider,
                "input_tokens": step.input_tokens,
                "output_tokens": step.output_tokens,
                "cost_usd": str(step.cost_usd) if step.cost_usd is not None else None,
                "outcome": step.outcome,
                "prompt_version": step.prompt_version,
                "message": step.message,
                "redactions": step.redactions,
            }
            for step in result.steps
        ],
        "edits": edits_json(result.draft),
        "diff": result.draft.diff if result.draft else "",
        "findings": [{**finding.model_dump(), "source": "review"} for finding in result.findings]
        + tandem_findings(result.draft),
    }


def summaries_total(steps: Sequence[StepSummary]) -> Decimal | None:
    costs = [step.cost_usd for step in steps if step.outcome != "skipped"]
    if any(cost is None for cost in costs):
        return None
    return sum((cost for cost in costs if cost is not None), Decimal(0))
