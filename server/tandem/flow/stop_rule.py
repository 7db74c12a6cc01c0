"""The stop rule: one plan, one draft, one review, and at most one more draft and review.

Exactly one more draft and review run only when the review has blocking findings; never a loop
(:func:`next_step` is the whole rule, and the runner cannot take more than :data:`MAX_STEPS`).
"""

from __future__ import annotations

from dataclasses import dataclass

from tandem.flow.taskstore import TaskStore
from tandem.values import StepName

MAX_STEPS = 5
"""plan + draft + review + second draft + second review: the stop rule's ceiling."""


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
    last_draft_changed_nothing: bool = False
    """The last draft's edits applied to nothing (all refused, or none given)."""


@dataclass(frozen=True)
class Decision:
    step: StepName | None
    round: int
    reason: str
    status: str = "done"
    """The task's status when nothing runs next: ``done``; ``needs_attention`` when a draft
    changed nothing; ``stopped`` when a human must act."""
    offers_redraft: bool = False
    """Nothing runs by itself, but the user may ask for the one more draft the rule allows."""


def next_step(position: FlowPosition) -> Decision:
    """The whole stop rule: which step runs next, or why nothing does."""
    if not position.has_plan:
        return Decision("plan", 1, "no plan yet")
    if not position.approved:
        return Decision(None, 0, "the plan is waiting for approval")
    if position.drafts == 0:
        return Decision("draft", 1, "plan approved")
    unreviewed = position.reviews < position.drafts
    if unreviewed and position.last_draft_changed_nothing:  # an empty diff has nothing to review
        reason = f"draft {position.drafts} changed nothing (no edit applies): nothing was done"
        if position.drafts == 1:
            reason += "; one more draft, told why, is allowed (redraft)"
            return Decision(None, 0, reason, status="needs_attention", offers_redraft=True)
        return Decision(None, 0, reason, status="needs_attention")
    if unreviewed and not position.review_skipped:
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
    first_draft, second_draft = (store.load_draft(task_id, r) for r in (1, 2))
    first_review, second_review = (store.load_review(task_id, r) for r in (1, 2))
    drafts = sum(1 for draft in (first_draft, second_draft) if draft is not None)
    last_draft = {1: first_draft, 2: second_draft}.get(drafts)
    reviews = [review for review in (first_review, second_review) if review is not None]
    # A first draft that changed nothing had nothing to review; its round is settled all the same.
    first_settled = (
        drafts == 2 and first_draft is not None and not first_draft.diff and first_review is None
    )
    settled = 1 if first_settled else 0
    skipped = any(
        s.step == "review" and s.round == drafts and s.outcome == "skipped" for s in state.steps
    )
    return FlowPosition(
        has_plan=plan is not None,
        approved=plan is not None and plan.approved,
        drafts=drafts,
        reviews=len(reviews) + settled,
        review_skipped=skipped and len(reviews) < drafts,
        last_review_blocking=bool(reviews and reviews[-1].blocking),
        stopped=state.status == "stopped",
        last_draft_changed_nothing=last_draft is not None and not last_draft.diff,
    )
