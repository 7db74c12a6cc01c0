"""What a change at a place in the code would involve and cost, before anything is sent.

The editor's hover and ``tandem.estimate`` show it: the slice (tokens, units, tests found,
excluded files), the risk tier and its reasons, the route of each step (a model or skip, and
why), the dollar range per step and in total, the all-strong baseline, and the budget left.
It reads only the live index (open buffers included) and the ledger; it never calls a model.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from tandem.flow.edits import FileSnapshot, Snapshot
from tandem.flow.estimate import FlowEstimate, estimate_flow
from tandem.policy.budgets import budget_for
from tandem.policy.risk import Risk, TouchedFile, assess_risk
from tandem.slicing.codeunits import code_units
from tandem.slicing.records import FileRecord
from tandem.slicing.result import FileRangeAnchor, Slice, SliceError
from tandem.values import TaskType

if TYPE_CHECKING:
    from tandem.config import Settings
    from tandem.cost.estimate import EstimateHistory
    from tandem.slicing.live import LiveIndex


class PreviewError(Exception):
    """Nothing to preview here (no code unit at the place, a file that cannot be sliced)."""


@dataclass(frozen=True)
class BudgetLeft:
    """The task type's budget against the estimate, and the day's spend against its cap."""

    task_type: TaskType
    max_usd: Decimal
    max_tokens: int
    estimate_max_usd: Decimal | None
    today_usd: Decimal
    daily_usd: Decimal | None

    @property
    def task_left_usd(self) -> Decimal | None:
        """What the task budget keeps after this task at its maximum (None when unpriced)."""
        return None if self.estimate_max_usd is None else self.max_usd - self.estimate_max_usd

    @property
    def daily_left_usd(self) -> Decimal | None:
        return None if self.daily_usd is None else self.daily_usd - self.today_usd


@dataclass(frozen=True)
class Preview:
    path: str
    start_line: int
    end_line: int
    request: str
    context: Slice
    flow: FlowEstimate
    budget: BudgetLeft


def default_request(context: Slice) -> str:
    """The request a hover stands in with when the user has not written one yet."""
    names = ", ".join(unit.name for unit in context.touched[:3])
    return f"Change {names}" if names else "Change this code"


def assess(index: LiveIndex, context: Slice, settings: Settings) -> tuple[Risk, int]:
    """Risk and lines touched, read from the buffers as edited."""
    by_path: dict[str, list[tuple[int, int, str]]] = {}
    for unit in context.touched:
        by_path.setdefault(unit.path, []).append((unit.start_line, unit.end_line, unit.name))
    files = []
    for path, units in sorted(by_path.items()):
        ranges = tuple((start, end) for start, end, _ in units)
        document = index.open.get(path)
        # Content signals are read inside the touched ranges only; a buffer's tree is kept
        # up to date as it is edited, so it is not parsed again.
        tree = document.tree() if document is not None else None
        names = tuple(name for _, _, name in units)
        files.append(TouchedFile(path, index.text_of(path), ranges, names, tree=tree))
    risk = assess_risk(files, settings.risk, has_related_tests=bool(context.tests))
    return risk, sum(file.lines for file in files)


def snapshot_of(index: LiveIndex, context: Slice) -> Snapshot:
    """The slice's files as the estimate's prompts would see them, from the index's units."""
    touched: dict[str, set[str]] = {}
    for unit in context.touched:
        touched.setdefault(unit.path, set()).add(unit.name)
    paths = set(touched) | {test.path for test in context.tests}
    files: dict[str, FileSnapshot] = {}
    for path in sorted(paths):
        found = index.record(path)
        if isinstance(found, FileRecord):
            # A file with touched units is shown by those units only: the rest is not needed.
            wanted = touched.get(path)
            units = code_units(u for u in found.units if wanted is None or u.name in wanted)
            files[path] = FileSnapshot(path=path, text=found.text, units=units)
        else:
            files[path] = FileSnapshot(path=path, text=index.text_of(path))
    return Snapshot(files=files)


def build_preview(
    index: LiveIndex,
    path: str,
    start_line: int,
    end_line: int,
    *,
    request: str | None = None,
    history: EstimateHistory | None = None,
    today_usd: Decimal = Decimal(0),
) -> Preview:
    """Slice, assess, route and estimate lines ``start_line``-``end_line`` of ``path``."""
    settings = index.settings
    try:
        context = index.slice(path, start_line, end_line)
    except SliceError as error:
        raise PreviewError(str(error)) from error
    if not context.touched:
        raise PreviewError(f"no code unit at {path}:{start_line}-{end_line}")
    asked = (request or "").strip() or default_request(context)
    anchor = FileRangeAnchor(path=path, start_line=start_line, end_line=end_line)
    flow = estimate_flow(
        settings,
        index.repo,
        asked,
        anchor,
        context,
        history=history,
        assessed=assess(index, context, settings),
        snapshot=snapshot_of(index, context),
    )
    budget = budget_for(flow.task_type, settings.budgets)
    left = BudgetLeft(
        task_type=flow.task_type,
        max_usd=budget.max_usd,
        max_tokens=budget.max_tokens,
        estimate_max_usd=flow.estimate.usd_max,
        today_usd=today_usd,
        daily_usd=settings.budgets.daily_usd,
    )
    return Preview(path, start_line, end_line, asked, context, flow, left)


# ---- rendering ---------------------------------------------------------------------------


def usd(value: Decimal | None) -> str:
    if value is None:
        return "unpriced"
    return f"${value:.4f}" if abs(value) < 1 else f"${value:.2f}"


def _range(low: Decimal | None, high: Decimal | None) -> str:
    return f"{usd(low)} – {usd(high)}"


def preview_markdown(preview: Preview) -> str:
    context, flow, budget = preview.context, preview.flow, preview.budget
    total = flow.estimate
    names = ", ".join(f"`{unit.name}`" for unit in context.touched[:4])
    more = f" and {len(context.touched) - 4} more" if len(context.touched) > 4 else ""
    lines = [
        f"**Tandem preview** · {names}{more} · risk **{flow.risk.tier}** · "
        f"{flow.task_type} task · nothing is sent",
        "",
        f"**Slice:** {context.tokens:,} tokens (whole files: {context.whole_file_tokens:,}) · "
        f"{len(context.touched)} unit{'s' if len(context.touched) != 1 else ''} · "
        f"{len(context.tests)} related test{'s' if len(context.tests) != 1 else ''} · "
        f"{len(context.callees)} callee signature{'s' if len(context.callees) != 1 else ''}",
    ]
    if context.excluded:
        shown = ", ".join(f"`{path}`" for path in context.excluded[:5])
        extra = f" and {len(context.excluded) - 5} more" if len(context.excluded) > 5 else ""
        lines.append(f"**Excluded:** {shown}{extra}")
    lines += ["", f"**Risk {flow.risk.tier}:**"]
    lines += [f"- {reason}" for reason in flow.risk.messages]
    lines += ["", "| step | route | estimate (typical – max) | why |", "| --- | --- | --- | --- |"]
    by_step = {step.step: step for step in total.steps}
    for name, route in flow.routes.items():
        estimate = by_step.get(name)
        if estimate is None:
            lines.append(f"| {name} | skip | – | {route.reason} |")
            continue
        lines.append(
            f"| {name} | {route.alias} ({estimate.model}) | "
            f"{_range(estimate.usd_typical, estimate.usd_max)} | {route.reason} |"
        )
    lines.append(f"| **total** | | **{_range(total.usd_typical, total.usd_max)}** | |")
    lines.append("")
    strong = _range(total.baseline_usd_typical, total.baseline_usd_max)
    baseline = f"**All-strong baseline:** {strong}"
    if total.saving_fraction is not None:
        baseline += f" (the split saves {total.saving_fraction:.0%})"
    lines.append(baseline)
    if flow.review_if_not_trivial is not None:
        other = flow.review_if_not_trivial
        lines.append(
            f"_If the draft grows past the trivial size, review runs on {other.alias}: "
            f"{_range(other.usd_typical, other.usd_max)}._"
        )
    task_left = budget.task_left_usd
    left = f"{usd(task_left)} left at the maximum" if task_left is not None else "unpriced"
    lines.append(
        f"**Budget ({budget.task_type}):** {usd(budget.max_usd)} and {budget.max_tokens:,} "
        f"tokens per task; {left}" + ("" if flow.budget.allowed else f" ⚠ {flow.budget.message}")
    )
    daily = budget.daily_left_usd
    today = f"**Today:** {usd(budget.today_usd)} spent"
    if daily is not None:
        today += f" of {usd(budget.daily_usd)} a day ({usd(daily)} left)"
    lines.append(today)
    if context.warnings:
        lines += ["", "_" + "; ".join(context.warnings[:3]) + "_"]
    return "\n".join(lines) + "\n"
