"""Routing advice shown: the stable ``--json`` contract and the plain-text list people read."""

from __future__ import annotations

from typing import Any

from tandem.reports.advice import Advice
from tandem.reports.evidence import Evidence
from tandem.reports.step_value import StepValue, recurring_findings, step_values


def advice_json(
    evidence: Evidence, advice: list[Advice], values: list[StepValue] | None = None
) -> dict[str, Any]:
    """The README's contract: window, step value, recurring findings and advice (``values``:
    the evidence's step values when already computed)."""
    return {
        "window_days": evidence.window_days,
        "step_value": [
            {
                "step": v.step,
                "tier": v.tier,
                "model": v.model,
                "runs": v.runs,
                "cost_usd": str(v.cost_usd),
                "catches": v.catches,
                "usd_per_catch": None if v.usd_per_catch is None else str(v.usd_per_catch),
                "changed_outcome_pct": v.changed_outcome_pct,
                "defects_after": v.defects_after,
            }
            for v in (step_values(evidence) if values is None else values)
        ],
        "recurring_findings": [
            {"category": r.category, "message": r.message, "count": r.count, "tasks": list(r.tasks)}
            for r in recurring_findings(evidence)
        ],
        "advice": [a.as_json() for a in advice],
    }


def advice_lines(advice: list[Advice]) -> list[str]:
    """One line per piece of advice: the change (or what is kept) and its reason."""
    lines = []
    for item in advice:
        if item.suggested is None:
            lines.append(f"{item.setting}: keep {item.current!r}: {item.reason}")
        else:
            lines.append(f"{item.setting}: {item.current!r} -> {item.suggested!r}: {item.reason}")
    return lines


def advice_text(evidence: Evidence, advice: list[Advice]) -> str:
    heading = f"Routing advice (last {evidence.window_days} days; thresholds in [advice])"
    lines = advice_lines(advice) or ["no advice: nothing recorded in the window"]
    suggested = sum(1 for a in advice if a.suggested is not None)
    footer = (
        f"{suggested} suggested change(s); `tandem advise --apply` writes them, diff first"
        if suggested
        else "nothing to change"
    )
    return "\n".join([heading, "", *(f"  {line}" for line in lines), "", footer]) + "\n"
