"""What a whole task should cost before anything is sent: route and estimate per step, and the
same task on the all-strong baseline.

The plan prompt is rendered exactly as it would be sent. The draft and review prompts depend on
replies that do not exist yet, so they are rendered with the plan the slice implies and an empty
diff, and the missing parts are added as tokens: the plan's typical size (for draft and review)
and the draft's typical size (the diff the reviewer would read). Each prompt is redacted first,
as the flow would send it: the estimate counts the redacted text and says how many secrets were
replaced in each step's prompt.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from tandem.config import ModelSettings, Settings
from tandem.cost.estimate import EstimateHistory, TaskEstimate, estimate_step, estimate_task
from tandem.cost.prices import price_usage
from tandem.cost.tokens import count_tokens
from tandem.flow.edits import Snapshot, take_snapshot
from tandem.flow.handoff import Draft, DraftReply, PlanReply, ReviewReply, Task, plan_markdown
from tandem.flow.inputs import draft_values, plan_values, review_values, scope_paths
from tandem.flow.prompts import RenderedPrompt, load_prompt, render
from tandem.flow.task import assess_slice, plan_from_slice
from tandem.policy.budgets import BudgetCheck, check_budget, classify_task_type
from tandem.policy.risk import Risk
from tandem.policy.routing import baseline_routes, route_task
from tandem.redaction.redactor import redact_prompt
from tandem.slicing.result import Anchor, Slice
from tandem.values import Route, StepEstimate, StepName, TaskType, Usage


@dataclass(frozen=True)
class FlowEstimate:
    risk: Risk
    lines_touched: int
    task_type: TaskType
    routes: dict[StepName, Route]
    estimate: TaskEstimate
    budget: BudgetCheck
    review_if_not_trivial: StepEstimate | None = None
    """When review is skipped as trivial: its cost should the draft grow past the threshold
    (the flow decides on the draft's real diff)."""
    redactions: dict[StepName, dict[str, int]] | None = None
    """Secrets that would be replaced in each step's prompt before sending, by kind."""

    def redaction_count(self, step: StepName | None = None) -> int:
        """Secrets replaced in one step's prompt, or in the largest (each prompt carries the
        same code, so steps mostly see the same secrets)."""
        found = self.redactions or {}
        counts = {name: sum(kinds.values()) for name, kinds in found.items()}
        return counts.get(step, 0) if step else max(counts.values(), default=0)


def _plus_input(estimate: StepEstimate, model: ModelSettings, extra: int) -> StepEstimate:
    if extra <= 0:
        return estimate
    tokens = estimate.input_tokens + extra
    return estimate.model_copy(
        update={
            "input_tokens": tokens,
            "usd_typical": price_usage(
                model, Usage(input_tokens=tokens, output_tokens=estimate.output_tokens_typical)
            ),
            "usd_max": price_usage(
                model, Usage(input_tokens=tokens, output_tokens=estimate.output_tokens_max)
            ),
        }
    )


Prompts = dict[StepName, tuple[str, str, int, dict[str, int]]]


def _prompts(task: Task, context: Slice, repo: Path, snapshot: Snapshot | None = None) -> Prompts:
    """(system, user, tokens of the stand-in plan to take off, redactions) for each step, with
    the prompt text redacted as it would be sent."""
    plan = plan_from_slice(task, context)
    if snapshot is None:
        snapshot = take_snapshot(repo, scope_paths(plan) | {t.path for t in context.tests})
    rendered_plan = render(load_prompt("plan"), plan_values(task, context))
    draft = render(load_prompt("draft"), draft_values(plan, snapshot, context))
    empty = Draft(reply=DraftReply(edits=[], notes=[]))
    review = render(load_prompt("review"), review_values(plan, empty, context, snapshot))
    stand_in = count_tokens(plan_markdown(plan))
    prompts: Prompts = {}
    steps: tuple[tuple[StepName, RenderedPrompt, int], ...] = (
        ("plan", rendered_plan, 0),
        ("draft", draft, -stand_in),
        ("review", review, -stand_in),
    )
    for step, rendered, offset in steps:
        redacted = redact_prompt(rendered.system, rendered.user)
        prompts[step] = (redacted.system, redacted.user, offset, redacted.findings)
    return prompts


_OUTPUT: dict[StepName, type[Any]] = {"plan": PlanReply, "draft": DraftReply, "review": ReviewReply}


@cache
def _output_schema(step: StepName) -> dict[str, Any]:
    """The reply schema counted into each estimate; generating it costs more than counting it."""
    schema: dict[str, Any] = _OUTPUT[step].model_json_schema()
    return schema


def _estimates(
    routes: dict[StepName, Route],
    settings: Settings,
    prompts: Prompts,
    history: EstimateHistory | None,
) -> list[StepEstimate]:
    estimates: dict[StepName, StepEstimate] = {}
    for step, route in routes.items():
        if route.alias is None:
            continue
        model = settings.models[route.alias]
        system, user, plan_offset, _ = prompts[step]
        estimate = estimate_step(
            step,
            route.alias,
            model,
            system=system,
            user=user,
            output_schema=_output_schema(step),
            history=history,
        )
        extra = 0
        if step in ("draft", "review"):
            plan = estimates.get("plan")
            extra += max(0, (plan.output_tokens_typical if plan else 0) + plan_offset)
        if step == "review":
            draft = estimates.get("draft")
            extra += draft.output_tokens_typical if draft else 0
        estimates[step] = _plus_input(estimate, model, extra)
    return list(estimates.values())


def estimate_flow(
    settings: Settings,
    repo: Path,
    request: str,
    anchor: Anchor,
    context: Slice,
    *,
    task_type: TaskType | None = None,
    history: EstimateHistory | None = None,
    review_requested: bool = False,
    assessed: tuple[Risk, int] | None = None,
    snapshot: Snapshot | None = None,
) -> FlowEstimate:
    """Routes, per-step estimates, totals and the baseline for a task; nothing is sent.

    ``assessed`` is the (risk, lines touched) the caller already has, e.g. the language server's
    assessment of an unsaved buffer; by default the files on disk are assessed. ``snapshot``
    likewise replaces reading the scope's files from disk.
    """
    risk, lines = assessed if assessed is not None else assess_slice(repo, context, settings)
    chosen = task_type or classify_task_type(request, risk.tier, lines)
    task = Task(
        task_id="estimate",
        request=request,
        anchor=anchor,
        task_type=chosen,
        risk_tier=risk.tier,
        risk_reasons=risk.messages,
        repo=str(repo),
    )
    prompts = _prompts(task, context, repo, snapshot)
    routes = route_task(risk.tier, settings, lines_touched=lines, review_requested=review_requested)
    steps = _estimates(routes, settings, prompts, history)
    conditional = None
    if routes["review"].skipped and not review_requested:
        asked = route_task(risk.tier, settings, lines_touched=lines, review_requested=True)
        if not asked["review"].skipped:
            full = _estimates(asked, settings, prompts, history)
            conditional = next((e for e in full if e.step == "review"), None)
    baseline = _estimates(baseline_routes(settings), settings, prompts, history)
    total = estimate_task(steps, baseline)
    whole = StepEstimate(
        step="plan",
        alias="task",
        provider="-",
        model="-",
        input_tokens=total.input_tokens,
        output_tokens_typical=total.output_tokens_typical,
        output_tokens_max=total.output_tokens_max,
        usd_typical=total.usd_typical,
        usd_max=total.usd_max,
    )
    budget = check_budget(chosen, settings.budgets, whole, (0, Decimal(0)))
    return FlowEstimate(
        risk=risk,
        lines_touched=lines,
        task_type=chosen,
        routes=routes,
        estimate=total,
        budget=budget,
        review_if_not_trivial=conditional,
        redactions={step: prompt[3] for step, prompt in prompts.items()},
    )


# ---- the estimate as JSON (tandem estimate --json, the editor's tandem.estimate) ----


def _step_json(estimate: StepEstimate) -> dict[str, Any]:
    return {
        "step": estimate.step,
        "alias": estimate.alias,
        "provider": estimate.provider,
        "model": estimate.model,
        "input_tokens": estimate.input_tokens,
        "output_tokens_typical": estimate.output_tokens_typical,
        "output_tokens_max": estimate.output_tokens_max,
        "usd_typical": estimate.usd_typical,
        "usd_max": estimate.usd_max,
        "input_is_calibrated_guess": estimate.input_is_calibrated_guess,
    }


def estimate_json(result: FlowEstimate) -> dict[str, Any]:
    total = result.estimate
    by_step = {step.step: step for step in total.steps}
    return {
        "risk": {"tier": result.risk.tier, "reasons": result.risk.messages},
        "task_type": result.task_type,
        "lines_touched": result.lines_touched,
        "steps": [
            {
                "step": name,
                "route": route.alias or "skip",
                "reason": route.reason,
                "redactions": result.redaction_count(name),
                **(_step_json(by_step[name]) if name in by_step else {}),
            }
            for name, route in result.routes.items()
        ],
        "total": {
            "input_tokens": total.input_tokens,
            "output_tokens_typical": total.output_tokens_typical,
            "output_tokens_max": total.output_tokens_max,
            "usd_typical": total.usd_typical,
            "usd_max": total.usd_max,
        },
        "baseline": {
            "steps": [_step_json(step) for step in total.baseline],
            "usd_typical": total.baseline_usd_typical,
            "usd_max": total.baseline_usd_max,
        },
        "review_if_not_trivial": (
            _step_json(result.review_if_not_trivial) if result.review_if_not_trivial else None
        ),
        "saving_usd_typical": total.saving_usd_typical,
        "budget": {"fits": result.budget.allowed, "message": result.budget.message},
        "redactions": {"count": result.redaction_count(), "by_step": result.redactions or {}},
    }
