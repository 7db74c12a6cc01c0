"""Scorecards from the ledger: per task, step, model and week; estimate error; split vs baseline.

The seed documents' advice is to track the whole task, not one prompt: cost, time, calls,
retries, review findings, whether the draft was accepted, and human cleanup minutes; and to
compare the split against single-model baselines before believing it. This module turns the
ledger's grouped sums (:mod:`tandem.ledger.totals`, where each rule lives) into those tables (pure
functions, no I/O); :mod:`tandem.reports.render` renders them as text, markdown, JSON or CSV and
:mod:`tandem.reports.html` as a page with charts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tandem.ledger.rows import TaskNote, TrialRun
from tandem.ledger.totals import (
    EstimateTotals,
    GroupTotals,
    ReportTotals,
    StepTotals,
    TaskTotals,
    iso_week,
)
from tandem.reports.tables import (
    Cell,
    Report,
    ReportInputError,
    Table,
    findings_summary,
    mean_or_none,
    percent,
    rounded,
)

_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}
_UNITS["w"] = timedelta(weeks=1)


def parse_since(text: str, *, now: datetime | None = None) -> datetime:
    """``7d``, ``12h``, ``2w``, ``30m`` before now, or an ISO date/time (UTC if no zone)."""
    now = now or datetime.now(UTC)
    value = text.strip().lower()
    if len(value) >= 2 and value[-1] in _UNITS and value[:-1].isdigit():
        return now - int(value[:-1]) * _UNITS[value[-1]]
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ReportInputError(
            f"--since {text!r} is not understood; use e.g. 7d, 12h, 2w, 30m or 2026-11-01"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- tables ------------------------------------------------------------------------------------


def task_table(tasks: Sequence[TaskTotals], notes: dict[str, TaskNote]) -> Table:
    table = Table(
        "tasks",
        "Scorecard per task",
        (
            "task",
            "type",
            "mode",
            "started",
            "outcome",
            "cost_usd",
            "unpriced_calls",
            "model_seconds",
            "elapsed_seconds",
            "calls",
            "retries",
            "findings",
            "accepted",
            "cleanup_minutes",
            "redactions",
        ),
    )
    for task in tasks:
        note, sums = notes.get(task.task_id), task.totals
        table.rows.append(
            (
                task.task_id,
                task.task_type,
                task.mode,
                task.started_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
                task.outcome,
                None if sums.unpriced == sums.calls else sums.cost_usd,
                sums.unpriced,
                sums.model_seconds,
                task.elapsed_seconds,
                sums.calls,
                sums.retries,
                findings_summary(task.findings),
                task.accepted,
                note.cleanup_minutes if note else None,
                sums.redactions,
            )
        )
    return table


def _group_table(
    name: str,
    title: str,
    key_name: str,
    groups: dict[str, StepTotals],
    tasks: dict[str, int] | None = None,
) -> Table:
    columns = [key_name, "calls", "input_tokens", "output_tokens", "cost_usd", "unpriced_calls"]
    columns += ["model_seconds", "retries", "failed", "redactions", "counted_calls"]
    if tasks is not None:
        columns.insert(1, "tasks")
    table = Table(name, title, tuple(columns))
    for key, sums in groups.items():
        values: list[Cell] = [key, sums.calls, sums.input_tokens, sums.output_tokens]
        values += [sums.cost_usd, sums.unpriced, sums.model_seconds, sums.retries, sums.failed]
        values += [sums.redactions, sums.counted]
        if tasks is not None:
            values.insert(1, tasks.get(key, 0))
        table.rows.append(tuple(values))
    return table


def _rolled_up(
    groups: Sequence[GroupTotals], key: Callable[[GroupTotals], str]
) -> dict[str, StepTotals]:
    sums: dict[str, StepTotals] = {}
    for group in groups:
        name = key(group)
        sums[name] = sums.get(name, StepTotals()) + group.totals
    return sums


def step_table(groups: Sequence[GroupTotals]) -> Table:
    sums = _rolled_up(groups, lambda g: g.step)
    ordered: dict[str, StepTotals] = {
        step: sums[step] for step in ("plan", "draft", "review") if step in sums
    }
    return _group_table("steps", "Per step", "step", ordered)


def model_table(groups: Sequence[GroupTotals]) -> Table:
    sums = _rolled_up(groups, lambda g: f"{g.provider}/{g.model}")
    return _group_table("models", "Per model", "model", dict(sorted(sums.items())))


def week_table(groups: Sequence[GroupTotals], week_tasks: dict[str, int]) -> Table:
    sums = _rolled_up(groups, lambda g: iso_week(g.day))
    return _group_table("weeks", "Per week", "week", dict(sorted(sums.items())), week_tasks)


def estimate_table(estimates: Sequence[EstimateTotals]) -> Table:
    table = Table(
        "estimates",
        "Estimate versus actual (mean absolute error, %)",
        (
            "step",
            "model",
            "estimates",
            "input_error_pct",
            "input_bias_pct",
            "output_error_pct",
            "cost_error_pct",
            "output_within_max_pct",
        ),
        note="bias > 0: estimates ran high. Input on Anthropic models is a calibrated o200k count.",
    )
    for e in sorted(estimates, key=lambda e: (e.step, f"{e.provider}/{e.model}")):
        table.rows.append(
            (
                e.step,
                f"{e.provider}/{e.model}",
                e.estimates,
                rounded(percent(e.input_abs_error)),
                rounded(percent(e.input_bias)),
                rounded(percent(e.output_abs_error)),
                rounded(percent(e.cost_abs_error)),
                rounded(percent(e.output_within_max)),
            )
        )
    return table


@dataclass(frozen=True)
class ModeSummary:
    mode: str
    tasks: int
    cost_per_task: Decimal | None
    seconds_per_task: float | None
    retries_per_task: float | None
    findings_per_task: float | None
    accepted_rate: float | None
    tests_passed_rate: float | None
    cleanup_minutes_per_task: float | None


def mode_summaries(
    tasks: Sequence[TaskTotals], notes: dict[str, TaskNote], runs: Sequence[TrialRun]
) -> list[ModeSummary]:
    """Split against the single-model baselines, per task, averaged per mode."""
    by_mode: dict[str, list[TaskTotals]] = defaultdict(list)
    for task in tasks:
        by_mode[task.mode].append(task)
    runs_by_mode: dict[str, list[TrialRun]] = defaultdict(list)
    for run in runs:
        runs_by_mode[run.mode].append(run)
    seen = set(by_mode) | set(runs_by_mode)
    known = [mode for mode in ("split", "strong", "cheap") if mode in seen]
    summaries = []
    for mode in known + sorted(seen - set(known)):
        chosen = by_mode.get(mode, [])
        count = len(chosen)
        # An average over partly unpriced tasks would understate the mode: show none instead.
        priced = count > 0 and not any(task.totals.unpriced for task in chosen)
        accepted = [task.accepted for task in chosen if task.accepted is not None]
        tested = [r.test_passed for r in runs_by_mode.get(mode, []) if r.test_passed is not None]
        cleanup = [
            n.cleanup_minutes
            for task in chosen
            if (n := notes.get(task.task_id)) is not None and n.cleanup_minutes is not None
        ]
        summaries.append(
            ModeSummary(
                mode=mode,
                tasks=count,
                cost_per_task=(
                    (sum((t.totals.cost_usd for t in chosen), Decimal(0)) / count).quantize(
                        Decimal("0.000001")
                    )
                    if priced
                    else None
                ),
                seconds_per_task=rounded(mean_or_none([t.totals.model_seconds for t in chosen]), 1),
                retries_per_task=rounded(mean_or_none([t.totals.retries for t in chosen])),
                findings_per_task=rounded(mean_or_none([sum(t.findings.values()) for t in chosen])),
                accepted_rate=rounded(percent(mean_or_none([float(a) for a in accepted]))),
                tests_passed_rate=rounded(percent(mean_or_none([float(t) for t in tested]))),
                cleanup_minutes_per_task=rounded(mean_or_none(cleanup), 1),
            )
        )
    return summaries


def mode_table(
    tasks: Sequence[TaskTotals], notes: dict[str, TaskNote], runs: Sequence[TrialRun]
) -> Table:
    summaries = mode_summaries(tasks, notes, runs)
    strong = next((s for s in summaries if s.mode == "strong"), None)
    table = Table(
        "modes",
        "Split versus single-model baselines (per task)",
        (
            "mode",
            "tasks",
            "cost_per_task_usd",
            "vs_strong_pct",
            "model_seconds_per_task",
            "retries_per_task",
            "findings_per_task",
            "accepted_pct",
            "tests_passed_pct",
            "cleanup_minutes_per_task",
        ),
        note="If cost drops but retries and cleanup rise, the work only moved (seed scorecard).",
    )
    for summary in summaries:
        versus = None
        if strong and strong.cost_per_task and summary.cost_per_task is not None:
            versus = rounded(float(summary.cost_per_task / strong.cost_per_task - 1) * 100, 1)
        table.rows.append(
            (
                summary.mode,
                summary.tasks,
                summary.cost_per_task,
                versus,
                summary.seconds_per_task,
                summary.retries_per_task,
                summary.findings_per_task,
                summary.accepted_rate,
                summary.tests_passed_rate,
                summary.cleanup_minutes_per_task,
            )
        )
    return table


def build_report(
    totals: ReportTotals,
    notes: dict[str, TaskNote],
    runs: Sequence[TrialRun] = (),
    *,
    since: datetime | None = None,
    task_id: str | None = None,
    trial_id: str | None = None,
    now: datetime | None = None,
) -> Report:
    return Report(
        generated_at=now or datetime.now(UTC),
        since=since,
        task_id=task_id,
        trial_id=trial_id,
        tables=(
            task_table(totals.tasks, notes),
            step_table(totals.groups),
            model_table(totals.groups),
            week_table(totals.groups, totals.week_tasks),
            estimate_table(totals.estimates),
            mode_table(totals.tasks, notes, runs),
        ),
    )
