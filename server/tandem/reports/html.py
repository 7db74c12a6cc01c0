"""One self-contained HTML page for ``tandem report --html``: inline SVG charts, no assets.

Three charts (spend per day by step, estimated against actual cost, split against the
single-model baselines) above the report's tables. Everything is escaped; nothing is fetched.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from html import escape
from typing import TYPE_CHECKING

from tandem.ledger.totals import GroupTotals
from tandem.reports.render import cell_text, report_heading
from tandem.reports.scorecards import ModeSummary
from tandem.reports.tables import Report
from tandem.reports.value_charts import advice_list, recurring_chart, step_value_chart

if TYPE_CHECKING:
    from tandem.config import Settings
    from tandem.reports.advice import Advice
    from tandem.reports.evidence import Evidence
    from tandem.reports.step_value import RecurringFinding, StepValue

    ValueFigures = tuple[list[StepValue], list[RecurringFinding], list[Advice]]

STEP_COLOURS = {"plan": "#4e79a7", "draft": "#f28e2b", "review": "#59a14f"}
MODE_COLOURS = {"split": "#4e79a7", "strong": "#e15759", "cheap": "#76b7b2"}
WIDTH, HEIGHT, PAD = 640, 260, 48


def _svg(body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"
    )


def _axes(max_value: float, label: str) -> list[str]:
    parts = [
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - 10}" y2="{HEIGHT - PAD}" '
        'stroke="#333"/>',
        f'<line x1="{PAD}" y1="10" x2="{PAD}" y2="{HEIGHT - PAD}" stroke="#333"/>',
        f'<text x="{PAD + 6}" y="12" font-size="11">{escape(label)}</text>',
    ]
    for fraction in (0.5, 1.0):
        y = HEIGHT - PAD - fraction * (HEIGHT - PAD - 20)
        parts.append(
            f'<text x="{PAD - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end">'
            f"{max_value * fraction:.4g}</text>"
        )
        parts.append(
            f'<line x1="{PAD}" y1="{y:.1f}" x2="{WIDTH - 10}" y2="{y:.1f}" stroke="#ddd"/>'
        )
    return parts


def _empty(title: str) -> str:
    return _svg(
        [f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">nothing recorded</text>'],
        title,
    )


def spend_per_day_chart(groups: Sequence[GroupTotals]) -> str:
    title = "Spend per day by step (USD)"
    days: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for group in groups:
        days[group.day][group.step] += group.totals.cost_usd
    if not days:
        return _empty(title)
    ordered = sorted(days)
    top = float(max(sum(steps.values(), Decimal(0)) for steps in days.values())) or 1.0
    plot_h = HEIGHT - PAD - 20
    slot = (WIDTH - PAD - 20) / len(ordered)
    bar = max(2.0, slot * 0.7)
    body = _axes(top, "USD")
    for index, day in enumerate(ordered):
        x = PAD + 5 + index * slot
        y = float(HEIGHT - PAD)
        for step in ("plan", "draft", "review"):
            value = float(days[day].get(step, Decimal(0)))
            height = value / top * plot_h
            y -= height
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{height:.1f}" '
                f'fill="{STEP_COLOURS[step]}"><title>{day} {step}: ${value:.4f}</title></rect>'
            )
        if len(ordered) <= 14 or index % max(1, len(ordered) // 10) == 0:
            body.append(
                f'<text x="{x + bar / 2:.1f}" y="{HEIGHT - PAD + 14}" font-size="9" '
                f'text-anchor="middle">{day[5:]}</text>'
            )
    for index, (step, colour) in enumerate(STEP_COLOURS.items()):
        body.append(
            f'<rect x="{WIDTH - 200 + index * 65}" y="{HEIGHT - 18}" width="10" height="10" '
            f'fill="{colour}"/><text x="{WIDTH - 186 + index * 65}" y="{HEIGHT - 9}" '
            f'font-size="11">{step}</text>'
        )
    return _svg(body, title)


BIN_PX = 4.0
"""Calls of one step whose points fall in the same square of this many pixels share one circle
(sized by their count): a real ledger has tens of thousands of calls."""

Bin = tuple[str, int, tuple[float, float], tuple[tuple[float, float], tuple[float, float]]]


def _bins(
    points: list[tuple[float, float, str]], top: float, span_x: float, span_y: float
) -> list[Bin]:
    """(step, calls, mean position, ((lowest estimate, actual), (highest estimate, actual)))
    of each occupied square, in the order first reached."""
    cells: dict[tuple[str, int, int], list[tuple[float, float]]] = {}
    for estimated, actual, step in points:
        x = PAD + estimated / top * span_x
        y = HEIGHT - PAD - actual / top * span_y
        cells.setdefault((step, int(x // BIN_PX), int(y // BIN_PX)), []).append((estimated, actual))
    bins: list[Bin] = []
    for (step, _, _), members in cells.items():
        estimates, actuals = [m[0] for m in members], [m[1] for m in members]
        mean_x = PAD + sum(estimates) / len(members) / top * span_x
        mean_y = HEIGHT - PAD - sum(actuals) / len(members) / top * span_y
        low, high = (min(estimates), min(actuals)), (max(estimates), max(actuals))
        bins.append((step, len(members), (mean_x, mean_y), (low, high)))
    return bins


def _dollars(low: float, high: float) -> str:
    return f"${low:.5f}" if low == high else f"${low:.5f}-${high:.5f}"


def estimate_chart(estimates: Sequence[tuple[Decimal, Decimal, str]]) -> str:
    """Estimated (typical) against actual cost per step; the diagonal is a perfect estimate."""
    title = "Estimated against actual cost per step (USD)"
    points = [(float(guess), float(actual), step) for guess, actual, step in estimates]
    if not points:
        return _empty(title)
    top = max(max(p[0], p[1]) for p in points) or 1.0
    span_x, span_y = WIDTH - PAD - 20, HEIGHT - PAD - 20
    body = _axes(top, "actual USD")
    body.append(
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{PAD + span_x}" y2="{HEIGHT - PAD - span_y}" '
        'stroke="#999" stroke-dasharray="4 3"/>'
    )
    body.append(
        f'<text x="{WIDTH - 12}" y="{HEIGHT - PAD + 30}" font-size="11" text-anchor="end">'
        "estimated USD</text>"
    )
    for fraction in (0.5, 1.0):
        body.append(
            f'<text x="{PAD + fraction * span_x:.1f}" y="{HEIGHT - PAD + 14}" font-size="10" '
            f'text-anchor="middle">{top * fraction:.4g}</text>'
        )
    for step, count, (x, y), (low, high) in _bins(points, top, span_x, span_y):
        radius = min(10.0, 3.5 + 1.5 * math.log2(count))
        calls = "1 call" if count == 1 else f"{count} calls"
        body.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius:.1f}" '
            f'fill="{STEP_COLOURS.get(step, "#333")}" fill-opacity="0.75"><title>{step}, {calls}: '
            f"estimated {_dollars(low[0], high[0])}, actual {_dollars(low[1], high[1])}"
            "</title></circle>"
        )
    return _svg(body, title)


def modes_chart(summaries: Sequence[ModeSummary]) -> str:
    title = "Cost per task: split against single-model baselines (USD)"
    priced = [s for s in summaries if s.cost_per_task is not None and s.tasks]
    if not priced:
        return _empty(title)
    top = float(max(s.cost_per_task or Decimal(0) for s in priced)) or 1.0
    slot = (WIDTH - PAD - 20) / len(priced)
    bar = min(120.0, slot * 0.6)
    body = _axes(top, "USD / task")
    for index, summary in enumerate(priced):
        value = float(summary.cost_per_task or 0)
        height = value / top * (HEIGHT - PAD - 20)
        x = PAD + 10 + index * slot
        body.append(
            f'<rect x="{x:.1f}" y="{HEIGHT - PAD - height:.1f}" width="{bar:.1f}" '
            f'height="{height:.1f}" fill="{MODE_COLOURS.get(summary.mode, "#888")}">'
            f"<title>{escape(summary.mode)}: ${value:.5f} per task over {summary.tasks} tasks"
            "</title></rect>"
        )
        body.append(
            f'<text x="{x + bar / 2:.1f}" y="{HEIGHT - PAD + 14}" font-size="11" '
            f'text-anchor="middle">{escape(summary.mode)} ({summary.tasks})</text>'
        )
    return _svg(body, title)


def _html_table(report: Report) -> list[str]:
    parts = []
    for table in report.tables:
        parts.append(f"<h2>{escape(table.title)}</h2>")
        if not table.rows:
            parts.append("<p><em>Nothing recorded.</em></p>")
            continue
        head = "".join(f"<th>{escape(c)}</th>" for c in table.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(cell_text(c))}</td>" for c in row) + "</tr>"
            for row in table.rows
        )
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        if table.note:
            parts.append(f"<p class='note'>{escape(table.note)}</p>")
    return parts


def value_figures(
    evidence: Evidence, settings: Settings, values: list[StepValue] | None = None
) -> ValueFigures:
    from tandem.reports.advice import advise
    from tandem.reports.step_value import recurring_findings, step_values

    values = step_values(evidence) if values is None else values
    return values, recurring_findings(evidence), advise(evidence, settings, values)


def value_section(value: ValueFigures | None) -> str:
    """Step value, recurring findings and advice, when the report covers a window."""
    if value is None:
        return ""
    values, recurring, advice = value
    return (
        "<h2>Does each step earn its cost?</h2>"
        f"<figure>{step_value_chart(values)}</figure>"
        f"<h2>Routing advice (<code>tandem advise</code>)</h2>{advice_list(advice)}"
        f"<figure>{recurring_chart(recurring)}</figure>"
    )


def render_html(
    report: Report,
    groups: Sequence[GroupTotals],
    estimated: Sequence[tuple[Decimal, Decimal, str]],
    summaries: Sequence[ModeSummary],
    value: ValueFigures | None = None,
) -> str:
    """The page; ``groups`` and ``estimated`` are the ledger's sums per step and day and its
    (estimated, actual, step) points (:mod:`tandem.ledger.totals`)."""
    charts = [spend_per_day_chart(groups), estimate_chart(estimated), modes_chart(summaries)]
    style = (
        "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
        "table{border-collapse:collapse;margin-bottom:1em;font-size:13px}"
        "th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}"
        "th{background:#f3f3f3}.charts{display:flex;flex-wrap:wrap;gap:1em}"
        "figure{margin:0}figcaption{font-size:13px;font-weight:600}.note{color:#666;font-size:12px}"
        ".advice li.change{font-weight:600}.advice li.keep{color:#555}"
    )
    figures = "".join(
        f"<figure><figcaption>{escape(caption)}</figcaption>{svg}</figure>"
        for caption, svg in zip(
            ("Spend per day by step", "Estimate against actual", "Split against baseline"),
            charts,
            strict=True,
        )
    )
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(report_heading(report))}</title><style>{style}</style></head><body>"
        f"<h1>{escape(report_heading(report))}</h1>"
        f"<p>Generated {report.generated_at:%Y-%m-%d %H:%M} UTC from the Tandem ledger.</p>"
        f"<div class='charts'>{figures}</div>{value_section(value)}"
        + "".join(_html_table(report))
        + "</body></html>\n"
    )
