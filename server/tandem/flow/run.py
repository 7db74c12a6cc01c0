"""The runner: plan → (the user approves, may edit, the plan) → draft → review, as far as the stop
rule allows.

Stop rule (:mod:`tandem.flow.stop_rule`): one plan, one draft, one review; exactly one more draft
and review only when the review has blocking findings and the budget allows; never a loop
(:func:`run_flow` cannot take more than five steps). Every call, whether it succeeds, fails, is
cancelled or is refused by the budget, becomes a :class:`~tandem.values.StepRecord` with the
estimate made before it (:mod:`tandem.flow.call_record`). Each step's handoff is persisted as
soon as it exists, so a retry resumes from the last good step.

Nothing leaves without the user's say-so: a step runs only when a face (CLI, editor) runs the
flow on a user's action, its prompt is redacted first (:mod:`tandem.redaction`), and a step
estimated above ``budgets.confirm_above_usd`` runs only if
:attr:`~tandem.flow.env.FlowEnv.confirm` says yes (:mod:`tandem.flow.gate`).
"""

from __future__ import annotations

from tandem.flow.env import FlowEnv
from tandem.flow.errors import FlowError
from tandem.flow.outcome import FlowResult, result_of
from tandem.flow.steps import draft_step, plan_step, review_step
from tandem.flow.stop_rule import MAX_STEPS, Decision, next_step, position_of
from tandem.flow.task import approve_plan


async def run_flow(
    env: FlowEnv, task_id: str, *, approve: bool, redraft: bool = False
) -> FlowResult:
    """Run (or resume) a task as far as the stop rule allows.

    ``approve`` approves the plan as soon as it exists (``--yes``); without it the flow stops
    after the plan and waits. A failed, cancelled or over-budget step stops the flow with its
    state saved; calling again resumes from the last good step. ``redraft`` takes the one more
    draft the stop rule offers after a draft that changed nothing (``needs_attention``).
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
        if decision.step is None and decision.offers_redraft and redraft:
            redraft = False  # the one more draft the stop rule offers, taken on request
            decision = Decision("draft", 2, "redraft requested")
        if decision.step is None:
            env.store.update_state(task_id, status=decision.status, message=decision.reason)
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
            status = "failed" if error.outcome == "failed" else "stopped"
            env.store.update_state(task_id, status=status, message=error.message)
            break
    return result_of(env.store, task_id)
