"""Budgets per task type, checked before every model call; over budget, say why and what fits.

A task's type (small, bugfix, feature, risky) is chosen by the user or classified from the size
and risk of the change. Before each call the step's estimate, counted at its maximum output, is
added to what the task has already spent; if either the token or the dollar cap would be
crossed the step does not run. The refusal names the numbers and the cheapest way to fit: a
cheaper model, a smaller context budget, a shorter reply limit, or a larger task type.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from tandem.config import Budget, BudgetSettings
from tandem.values import RiskTier, StepEstimate, TaskType

TASK_TYPES: tuple[TaskType, ...] = ("small", "bugfix", "feature", "risky")
SMALL_MAX_LINES = 40
"""A low-risk change up to this many touched lines is a small task."""
_BUGFIX_WORDS = re.compile(r"\b(fix|bug|broken|crash|error|regression|fails?|wrong)\b", re.I)


def classify_task_type(request: str, tier: RiskTier, lines_touched: int) -> TaskType:
    """High risk → risky; small low-risk change → small; a fix → bugfix; else feature."""
    if tier == "high":
        return "risky"
    if tier == "low" and lines_touched <= SMALL_MAX_LINES:
        return "small"
    if _BUGFIX_WORDS.search(request):
        return "bugfix"
    return "feature"


def budget_for(task_type: TaskType, budgets: BudgetSettings) -> Budget:
    budget: Budget = getattr(budgets, task_type)
    return budget


def _usd(value: Decimal) -> str:
    return f"${value.quantize(Decimal('0.0001'))}"


@dataclass(frozen=True)
class BudgetCheck:
    allowed: bool
    message: str
    projected_tokens: int
    projected_usd: Decimal | None
    suggestions: tuple[str, ...] = field(default=())


def _fits(
    estimate: StepEstimate, budget: Budget, spent_tokens: int, spent_usd: Decimal
) -> tuple[bool, bool]:
    """(tokens fit, dollars fit) for ``estimate`` at maximum output."""
    tokens_ok = spent_tokens + estimate.max_tokens <= budget.max_tokens
    dollars_ok = estimate.usd_max is None or spent_usd + estimate.usd_max <= budget.max_usd
    return tokens_ok, dollars_ok


def check_budget(
    task_type: TaskType,
    budgets: BudgetSettings,
    estimate: StepEstimate,
    spent: tuple[int, Decimal],
    *,
    alternatives: Sequence[StepEstimate] = (),
) -> BudgetCheck:
    """Whether ``estimate`` (at max output) fits the task's budget after what it ``spent``.

    ``alternatives`` are estimates of the same step on other aliases (e.g. the cheap model);
    those that fit are suggested when this one does not.
    """
    budget = budget_for(task_type, budgets)
    spent_tokens, spent_usd = spent
    tokens_ok, dollars_ok = _fits(estimate, budget, spent_tokens, spent_usd)
    projected_tokens = spent_tokens + estimate.max_tokens
    projected_usd = None if estimate.usd_max is None else spent_usd + estimate.usd_max
    if tokens_ok and dollars_ok:
        return BudgetCheck(True, "within budget", projected_tokens, projected_usd)
    problems = []
    if not tokens_ok:
        problems.append(
            f"{projected_tokens} tokens (spent {spent_tokens} + this step up to "
            f"{estimate.max_tokens}) exceeds the {task_type} budget of {budget.max_tokens}"
        )
    if not dollars_ok and projected_usd is not None:
        problems.append(
            f"{_usd(projected_usd)} (spent {_usd(spent_usd)} + this step up to "
            f"{_usd(estimate.usd_max or Decimal(0))}) exceeds the {task_type} budget of "
            f"{_usd(budget.max_usd)}"
        )
    suggestions = _suggestions(task_type, budgets, estimate, spent, alternatives)
    message = f"{estimate.step} on {estimate.alias} would go over budget: " + "; ".join(problems)
    if suggestions:
        message += ". Would fit: " + "; or ".join(suggestions)
    else:
        message += f". Nothing smaller fits: raise budgets.{task_type}"
    return BudgetCheck(False, message, projected_tokens, projected_usd, tuple(suggestions))


def _suggestions(
    task_type: TaskType,
    budgets: BudgetSettings,
    estimate: StepEstimate,
    spent: tuple[int, Decimal],
    alternatives: Sequence[StepEstimate],
) -> list[str]:
    budget = budget_for(task_type, budgets)
    spent_tokens, spent_usd = spent
    out: list[str] = []
    for other in alternatives:
        if other.alias != estimate.alias and all(_fits(other, budget, spent_tokens, spent_usd)):
            cost = f" (up to {_usd(other.usd_max)})" if other.usd_max is not None else ""
            out.append(f"the {other.alias} model ({other.model}){cost}")
    room = budget.max_tokens - spent_tokens - estimate.output_tokens_max
    if estimate.usd_max is not None and estimate.max_tokens and spent_usd < budget.max_usd:
        # Dollars scale roughly with tokens: shrink the input by the same share.
        share = (budget.max_usd - spent_usd) / estimate.usd_max
        room = min(room, int(Decimal(estimate.max_tokens) * share) - estimate.output_tokens_max)
    if 200 <= room < estimate.input_tokens:
        out.append(f"a smaller context: about {room} input tokens (--budget-tokens)")
    output_room = budget.max_tokens - spent_tokens - estimate.input_tokens
    if 64 <= output_room < estimate.output_tokens_max:
        out.append(f"models.{estimate.alias}.max_output_tokens = {output_room}")
    for larger in TASK_TYPES[TASK_TYPES.index(task_type) + 1 :]:
        if all(_fits(estimate, budget_for(larger, budgets), spent_tokens, spent_usd)):
            out.append(f"task type {larger} (--task-type {larger})")
            break
    return out
