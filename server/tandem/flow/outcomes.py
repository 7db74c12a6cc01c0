"""Outcomes recorded as they happen: a review's findings, what each step changed, task decisions.

The steps call these as they finish (:mod:`tandem.flow.steps`), the faces when the user decides
(a draft applied, discarded or rated). Each writes to :attr:`FlowEnv.outcomes
<tandem.flow.env.FlowEnv.outcomes>` (the ledger); with none, nothing is recorded and the flow
runs as before. The rules:

- a finding is a *catch* when the redraft that followed changed the code or test it points at
  (:mod:`tandem.flow.catches`), the user applied its quick fix, or edited its lines; one still
  open when the task is accepted or closed is *dismissed*;
- a plan changed the decision to ship when the user edited it before approving; a draft changed
  code and/or tests; a review changed code/tests through its catches, and the decision to ship
  when its verdict sent the draft back and the redraft changed it;
- a task's rewrites are its redrafts and the user's re-runs of a draft; it was ready for the
  human's approval when the stop rule had nothing left to run.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tandem.flow.apply import drafted_texts
from tandem.flow.catches import Catch, catches, is_test_path, parse_location
from tandem.flow.env import FlowEnv
from tandem.flow.handoff import Plan, Review
from tandem.flow.stop_rule import next_step, position_of
from tandem.flow.taskstore import TaskStore
from tandem.values import (
    FindingRecord,
    FindingResolution,
    FindingVia,
    OutcomeRecorder,
    RewriteKind,
    StepChange,
    TaskDecision,
    TaskEvent,
)

Texts = dict[str, str | None]


def finding_records(task_id: str, review: Review) -> list[FindingRecord]:
    records = []
    for index, finding in enumerate(review.findings):
        where = parse_location(finding.location)
        records.append(
            FindingRecord(
                task_id=task_id,
                review_round=review.round,
                index=index,
                severity=finding.severity,
                category=finding.category,
                location=finding.location,
                path=where.path if where else None,
                line=where.line if where else None,
                message=finding.message,
            )
        )
    return records


def note_review(env: FlowEnv, task_id: str, review: Review) -> None:
    if env.outcomes is not None:
        env.outcomes.record_findings(task_id, review.round, finding_records(task_id, review))


def note_plan_approved(outcomes: OutcomeRecorder | None, task_id: str, plan: Plan) -> None:
    if outcomes is None:
        return
    detail = (
        "the user edited the plan before approving it"
        if plan.edited_by_user
        else "approved as proposed"
    )
    outcomes.record_step_change(
        StepChange(task_id=task_id, step="plan", ship=plan.edited_by_user, detail=detail)
    )


def reviewed_texts(store: TaskStore, task_id: str) -> tuple[Review, Texts] | None:
    """The latest review and the files as the draft it saw made them (the original text of a
    file that draft left alone). Read before a new draft replaces that draft."""
    for round_ in (2, 1):
        review = store.load_review(task_id, round_)
        if review is not None:
            texts: Texts = dict(store.load_snapshot(task_id) or {})
            texts.update(drafted_texts(store, task_id, round_))
            return review, texts
    return None


def settle_catches(
    outcomes: OutcomeRecorder,
    task_id: str,
    review_round: int,
    found: list[Catch],
    via: FindingVia,
    by: str,
) -> list[Catch]:
    """Record each catch (a finding already settled stays as it was) and what it changed for the
    review step; the catches that were settled now."""
    settled = [
        catch
        for catch in found
        if outcomes.resolve_findings(
            [
                FindingResolution(
                    task_id=task_id,
                    review_round=review_round,
                    index=catch.index,
                    outcome="catch",
                    via=via,
                    change=catch.describe(by),
                )
            ]
        )
    ]
    if settled:
        outcomes.record_step_change(
            StepChange(
                task_id=task_id,
                step="review",
                round=review_round,
                code=any(not c.in_tests for c in settled),
                tests=any(c.in_tests for c in settled),
                detail="; ".join(c.describe(by) for c in settled),
            )
        )
    return settled


def note_draft(
    env: FlowEnv,
    task_id: str,
    round_: int,
    files: dict[str, str],
    reviewed: tuple[Review, Texts] | None,
    rewrite: RewriteKind | None,
) -> None:
    """A draft made ``files`` (the texts it changed): what it changed, which findings of the
    review before it it acted on, and whether it was a rewrite."""
    outcomes = env.outcomes
    if outcomes is None:
        return
    code = any(not is_test_path(path) for path in files)
    tests = any(is_test_path(path) for path in files)
    outcomes.record_step_change(
        StepChange(
            task_id=task_id,
            step="draft",
            round=round_,
            code=code,
            tests=tests,
            detail=f"changed {len(files)} files" if files else "changed nothing",
        )
    )
    if rewrite is not None:
        outcomes.record_task_event(TaskEvent(task_id=task_id, rewrite=rewrite))
    if reviewed is None:
        return
    review, before = reviewed
    after: Texts = {**dict(env.store.load_snapshot(task_id) or {}), **files}
    by = f"draft {round_}" + (" (re-run)" if rewrite == "rerun" else "")
    settle_catches(
        outcomes, task_id, review.round, catches(review.findings, before, after), "redraft", by
    )
    sent_back = review.reply.verdict == "request_changes" or bool(review.blocking)
    changed = any(before.get(path) != after.get(path) for path in set(before) | set(after))
    if sent_back and changed:
        outcomes.record_step_change(
            StepChange(
                task_id=task_id,
                step="review",
                round=review.round,
                ship=True,
                detail=f"its verdict sent draft {review.round} back and {by} changed it",
            )
        )


def note_attention(outcomes: OutcomeRecorder | None, task_id: str, reason: str) -> None:
    """The flow ended with nothing done (``needs_attention``): the task outcome and its reasons."""
    if outcomes is not None:
        outcomes.record_task_event(TaskEvent(task_id=task_id, needs_attention=True, detail=reason))


def note_ready(env: FlowEnv, task_id: str) -> None:
    """Record the time from the request to now when the stop rule has nothing left to run, or
    that the task needs attention when it ended with nothing done."""
    if env.outcomes is None:
        return
    decision = next_step(position_of(env.store, task_id))
    if decision.step is None and decision.status == "needs_attention":
        note_attention(env.outcomes, task_id, decision.reason)
    if decision.step is not None or decision.status != "done":
        return
    created = env.store.load_task(task_id).created_at
    seconds = max((datetime.now(UTC) - created).total_seconds(), 0.0)
    env.outcomes.record_task_event(
        TaskEvent(task_id=task_id, ready_seconds=round(seconds, 3), detail=decision.reason)
    )


def close_task(
    outcomes: OutcomeRecorder | None, task_id: str, decision: TaskDecision, how: str
) -> None:
    """The user accepted or rejected the task's draft: record it, and dismiss every finding
    nobody acted on."""
    if outcomes is None:
        return
    outcomes.record_task_event(TaskEvent(task_id=task_id, decision=decision, detail=how))
    outcomes.dismiss_open_findings(
        task_id, "unacted", f"nobody acted on it before the task was {decision}"
    )


def claim_rating_prompt(store: TaskStore, task_id: str) -> bool:
    """Whether an editor should ask for the task's rating now: true the first time only."""
    state = store.load_state(task_id)
    if state.rating_asked:
        return False
    store.save_state(task_id, state.model_copy(update={"rating_asked": True}))
    return True
