"""Where a task stands, read back from its store: status, steps, last plan, draft and review."""

from __future__ import annotations

from dataclasses import dataclass

from tandem.flow.handoff import Draft, Finding, Plan, Review
from tandem.flow.taskstore import StepSummary, TaskStore


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
