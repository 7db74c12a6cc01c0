"""The step gate: a model call is sent only within budget and, when it may cost more than
``budgets.confirm_above_usd`` (or its price is unknown), only on the user's yes.

Nothing leaves without the user's say-so: no ``confirm`` means nobody can be asked, and such a
step is not sent. Replies from the fake provider cost nothing and need no consent.
"""

from __future__ import annotations

from decimal import Decimal

from tandem.cost.estimate import estimate_step
from tandem.flow.call_record import CallEnd, StepCall, note_step, record_call
from tandem.flow.env import FlowEnv
from tandem.flow.errors import FlowError
from tandem.flow.taskstore import StepSummary
from tandem.policy.budgets import check_budget
from tandem.providers.base import Provider
from tandem.values import StepEstimate


async def pass_gate(call: StepCall) -> Provider:
    """The provider to send ``call`` to, once the budget and the user allow it; otherwise the
    refusal is recorded, said, and raised as a :class:`FlowError`."""
    await _check_budget(call)
    provider = call.env.provider(call.alias)
    declined = await consent_refusal(call.env, call.estimate, provider.is_fake)
    if declined is not None:
        summary = StepSummary(
            step=call.step,
            round=call.round,
            alias=call.alias,
            outcome="cancelled",
            message=declined,
        )
        note_step(call.env, call.task.task_id, summary)
        # The raised error is what the user sees (once); saying it too would repeat it.
        raise FlowError(declined, "cancelled")
    return provider


async def _check_budget(call: StepCall) -> None:
    env, task = call.env, call.task
    spent = env.recorder.task_spend(task.task_id)
    budget = check_budget(
        task.task_type, env.settings.budgets, call.estimate, spent, alternatives=alternatives(call)
    )
    if not budget.allowed:
        end = CallEnd("over_budget", cost=Decimal(0), error=budget.message)
        record_call(call, end, status="stopped")
        # The raised error is what the user sees (once); saying it too would repeat it.
        raise FlowError(budget.message, "over_budget")


def alternatives(call: StepCall) -> list[StepEstimate]:
    """The same prompt estimated on every other real model (what the budget message suggests)."""
    return [
        estimate_step(
            call.step,
            other,
            model,
            system=call.prompt.system,
            user=call.prompt.user,
            output_schema=call.schema,
            history=call.env.history,
        )
        for other, model in call.env.settings.models.items()
        if other != call.alias and model.provider != "fake"
    ]


def needs_confirmation(estimate: StepEstimate, threshold: Decimal | None) -> bool:
    """A step whose most it can cost is above the threshold, or unknown (an unpriced model)."""
    if threshold is None:
        return False
    return estimate.usd_max is None or estimate.usd_max > threshold


async def consent_refusal(env: FlowEnv, estimate: StepEstimate, fake: bool) -> str | None:
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
