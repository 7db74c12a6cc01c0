"""The HTML page's step value, recurring findings and advice: inline SVG bars and a short list.

Each bar carries its figures as ``data-*`` attributes and a ``<title>`` tooltip, so a person
hovers for the numbers and a browser test reads them back.
"""

from __future__ import annotations

from html import escape

from tandem.reports.advice import Advice
from tandem.reports.step_value import RecurringFinding, StepValue

STEP_COLOURS = {"plan": "#4e79a7", "draft": "#f28e2b", "review": "#59a14f"}
WIDTH, ROW, LABEL, TEXT = 960, 24, 240, 400
"""Chart width, row height, the label column and the room kept for the text after each bar."""


def _frame(rows: list[str], count: int, title: str, chart: str) -> str:
    height = max(1, count) * ROW + 10
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}" '
        f'data-chart="{chart}"><title>{escape(title)}</title>' + "".join(rows) + "</svg>"
    )


def step_value_chart(values: list[StepValue]) -> str:
    """One bar per step x tier x model, as long as its cost; faded when it never changed the
    outcome; beside it what the money bought."""
    title = "What each step bought: cost, catches and changed outcomes"
    if not values:
        return _frame(['<text x="10" y="20">nothing recorded in the window</text>'], 1, title, "")
    top = float(max(v.cost_usd for v in values)) or 1.0
    span = WIDTH - LABEL - TEXT
    rows = []
    for index, v in enumerate(values):
        y = 5 + index * ROW
        length = max(1.0, float(v.cost_usd) / top * span)
        each = "" if v.usd_per_catch is None else f" (${float(v.usd_per_catch):.4g} each)"
        told = f"{v.runs} runs · {v.catches} catches{each} · {v.changed_outcome_pct:g}% changed"
        if v.defects_after:
            told += f" · {v.defects_after} defects after merge"
        tip = f"{v.step} {v.tier} {v.model}: ${v.cost_usd}, {told}"
        opacity = "1" if v.changed_runs else "0.35"
        rows.append(
            f'<text x="{LABEL - 6}" y="{y + 15}" font-size="11" text-anchor="end">'
            f"{escape(v.step)} · {escape(v.tier)} · {escape(v.model)}</text>"
            f'<rect class="bar" x="{LABEL}" y="{y + 3}" width="{length:.1f}" height="{ROW - 8}" '
            f'fill="{STEP_COLOURS.get(v.step, "#888")}" fill-opacity="{opacity}" '
            f'data-step="{escape(v.step)}" data-tier="{escape(v.tier)}" '
            f'data-model="{escape(v.model)}" data-runs="{v.runs}" data-cost="{v.cost_usd}" '
            f'data-catches="{v.catches}" data-changed-pct="{v.changed_outcome_pct:g}" '
            f'data-defects="{v.defects_after}"><title>{escape(tip)}</title></rect>'
            f'<text x="{LABEL + length + 6:.1f}" y="{y + 15}" font-size="11">'
            f"${v.cost_usd} · {escape(told)}</text>"
        )
    return _frame(rows, len(values), title, "step-value")


def recurring_chart(found: list[RecurringFinding], limit: int = 15) -> str:
    """The most frequent findings as bars, longest first."""
    title = "Recurring findings: the same comment in many tasks"
    shown = found[:limit]
    if not shown:
        return _frame(['<text x="10" y="20">no finding recurs</text>'], 1, title, "")
    top = max(r.count for r in shown)
    span = WIDTH - LABEL - 60
    rows = []
    for index, r in enumerate(shown):
        y = 5 + index * ROW
        length = max(1.0, r.count / top * span)
        label = f"{r.category}: {r.message}"
        short = label if len(label) <= 38 else label[:37] + "…"
        tip = f"{label} ({r.folder or 'no folder'}): {r.count} times in {len(r.tasks)} tasks"
        rows.append(
            f'<text x="{LABEL - 6}" y="{y + 15}" font-size="11" text-anchor="end">'
            f"{escape(short)}</text>"
            f'<rect class="bar" x="{LABEL}" y="{y + 3}" width="{length:.1f}" height="{ROW - 8}" '
            f'fill="#e15759" data-category="{escape(r.category)}" '
            f'data-message="{escape(r.message)}" data-count="{r.count}" '
            f'data-tasks="{len(r.tasks)}"><title>{escape(tip)}</title></rect>'
            f'<text x="{LABEL + length + 6:.1f}" y="{y + 15}" font-size="11">{r.count}</text>'
        )
    return _frame(rows, len(shown), title, "recurring")


def advice_list(advice: list[Advice]) -> str:
    """Suggested changes first, marked; then what is kept and why."""
    if not advice:
        return "<p><em>No routing advice: nothing recorded in the window.</em></p>"
    items = []
    for a in advice:
        if a.suggested is None:
            change = f"keep <code>{escape(a.current)}</code>"
            kind = "keep"
        else:
            change = f"<code>{escape(a.current)}</code> → <code>{escape(a.suggested)}</code>"
            kind = "change"
        items.append(
            f'<li class="{kind}" data-setting="{escape(a.setting)}"><code>{escape(a.setting)}'
            f"</code>: {change}. {escape(a.reason)}</li>"
        )
    return "<ul class='advice'>" + "".join(items) + "</ul>"
