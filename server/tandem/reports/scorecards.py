"""Scorecards from the ledger: per task, step, model and week; estimate error; split vs baseline.

The seed documents' advice is to track the whole task, not one prompt: cost, time, calls,
retries, review findings, whether the draft was accepted, and human cleanup minutes; and to
compare the split against single-model baselines before believing it. This module turns ledger
rows into those tables (pure functions, no I/O); :mod:`tandem.reports.render` renders them as text,
markdown, JSON or CSV and :mod:`tandem.reports.html` as a page with charts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tandem.ledger.rows import LedgerRow, TaskNote, TrialRun
from tandem.reports.tables import (
    Cell,
    Report,
    ReportInputError,
    Table,
    counted_count,
    elapsed_seconds,
    findings_by_severity,
    findings_summary,
    mean_or_none,
    model_seconds,
    percent,
    redaction_count,
    retry_count,
    rounded,
    rows_by_task,
    task_outcome,
    token_totals,
    total_cost,
    unpriced_count,
    was_accepted,
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


def task_table(rows: Sequence[LedgerRow], notes: dict[str, TaskNote]) -> Table:
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
    for task_id, steps in rows_by_task(rows).items():
        note = notes.get(task_id)
        first = steps[0].record
        table.rows.append(
            (
                task_id,
                first.task_type,
                first.mode,
                first.started_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
                task_outcome(steps),
                None if unpriced_count(steps) == len(steps) else total_cost(steps),
                unpriced_count(steps),
                model_seconds(steps),
                elapsed_seconds(steps),
                len(steps),
                retry_count(steps),
                findings_summary(findings_by_severity(steps)),
                was_accepted(steps),
                note.cleanup_minutes if note else None,
                redaction_count(steps),
            )
        )
    return table


def _group_table(
    name: str, title: str, key_name: str, groups: dict[str, list[LedgerRow]], tasks_col: bool
) -> Table:
    columns = [key_name, "calls", "input_tokens", "output_tokens", "cost_usd", "unpriced_calls"]
    columns += ["model_seconds", "retries", "failed", "redactions", "counted_calls"]
    if tasks_col:
        columns.insert(1, "tasks")
    table = Table(name, title, tuple(columns))
    for key, steps in groups.items():
        tokens_in, tokens_out = token_totals(steps)
        failed = sum(1 for r in steps if r.record.outcome not in ("ok", "skipped"))
        values: list[Cell] = [key, len(steps), tokens_in, tokens_out, total_cost(steps)]
        values += [unpriced_count(steps), model_seconds(steps), retry_count(steps), failed]
        values += [redaction_count(steps), counted_count(steps)]
        if tasks_col:
            values.insert(1, len({r.record.task_id for r in steps}))
        table.rows.append(tuple(values))
    return table


def step_table(rows: Sequence[LedgerRow]) -> Table:
    groups: dict[str, list[LedgerRow]] = {}
    for step in ("plan", "draft", "review"):
        chosen = [r for r in rows if r.record.step == step]
        if chosen:
            groups[step] = chosen
    return _group_table("steps", "Per step", "step", groups, tasks_col=False)


def model_table(rows: Sequence[LedgerRow]) -> Table:
    groups: dict[str, list[LedgerRow]] = defaultdict(list)
    for row in rows:
        groups[f"{row.record.provider}/{row.record.model}"].append(row)
    return _group_table("models", "Per model", "model", dict(sorted(groups.items())), False)


def week_table(rows: Sequence[LedgerRow]) -> Table:
    groups: dict[str, list[LedgerRow]] = defaultdict(list)
    for row in rows:
        year, week, _ = row.record.started_at.astimezone(UTC).isocalendar()
        groups[f"{year}-W{week:02d}"].append(row)
    return _group_table("weeks", "Per week", "week", dict(sorted(groups.items())), True)


@dataclass(frozen=True)
class EstimateError:
    """How far one estimate was from what the provider billed (signed: + = over-estimate)."""

    step: str
    model: str
    calibrated: bool
    input_error: float | None
    output_error: float | None
    cost_error: float | None
    within_max: bool


def estimate_errors(rows: Sequence[LedgerRow]) -> list[EstimateError]:
    errors = []
    for row in rows:
        record, estimate = row.record, row.record.estimate
        if estimate is None or record.outcome != "ok" or record.usage.counted:
            continue  # a count made offline says nothing about how good the estimate was
        actual_in = record.usage.total_input_tokens
        actual_out = record.usage.output_tokens
        cost_error = None
        if estimate.usd_typical is not None and record.cost_usd:
            cost_error = float((estimate.usd_typical - record.cost_usd) / record.cost_usd)
        errors.append(
            EstimateError(
                step=record.step,
                model=f"{record.provider}/{record.model}",
                calibrated=estimate.input_is_calibrated_guess,
                input_error=(estimate.input_tokens - actual_in) / actual_in if actual_in else None,
                output_error=(
                    (estimate.output_tokens_typical - actual_out) / actual_out
                    if actual_out
                    else None
                ),
                cost_error=cost_error,
                within_max=actual_out <= estimate.output_tokens_max,
            )
        )
    return errors


def estimate_table(rows: Sequence[LedgerRow]) -> Table:
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
    groups: dict[tuple[str, str], list[EstimateError]] = defaultdict(list)
    for error in estimate_errors(rows):
        groups[(error.step, error.model)].append(error)
    for (step, model), errors in sorted(groups.items()):
        inputs = [e.input_error for e in errors if e.input_error is not None]
        outputs = [e.output_error for e in errors if e.output_error is not None]
        costs = [e.cost_error for e in errors if e.cost_error is not None]
        table.rows.append(
            (
                step,
                model,
                len(errors),
                rounded(percent(mean_or_none([abs(v) for v in inputs]))),
                rounded(percent(mean_or_none(inputs))),
                rounded(percent(mean_or_none([abs(v) for v in outputs]))),
                rounded(percent(mean_or_none([abs(v) for v in costs]))),
                rounded(percent(sum(e.within_max for e in errors) / len(errors))),
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
    rows: Sequence[LedgerRow], notes: dict[str, TaskNote], runs: Sequence[TrialRun]
) -> list[ModeSummary]:
    """Split against the single-model baselines, per task, averaged per mode."""
    by_mode: dict[str, dict[str, list[LedgerRow]]] = defaultdict(dict)
    for task_id, steps in rows_by_task(rows).items():
        by_mode[steps[0].record.mode][task_id] = steps
    runs_by_mode: dict[str, list[TrialRun]] = defaultdict(list)
    for run in runs:
        runs_by_mode[run.mode].append(run)
    seen = set(by_mode) | set(runs_by_mode)
    known = [mode for mode in ("split", "strong", "cheap") if mode in seen]
    summaries = []
    for mode in known + sorted(seen - set(known)):
        tasks = by_mode.get(mode, {})
        count = len(tasks)
        # An average over partly unpriced tasks would understate the mode: show none instead.
        priced = count > 0 and not any(unpriced_count(steps) for steps in tasks.values())
        accepted = [a for steps in tasks.values() if (a := was_accepted(steps)) is not None]
        tested = [r.test_passed for r in runs_by_mode.get(mode, []) if r.test_passed is not None]
        cleanup = [
            n.cleanup_minutes
            for task_id in tasks
            if (n := notes.get(task_id)) is not None and n.cleanup_minutes is not None
        ]
        summaries.append(
            ModeSummary(
                mode=mode,
                tasks=count,
                cost_per_task=(
                    (total_cost(r for s in tasks.values() for r in s) / count).quantize(
                        Decimal("0.000001")
                    )
                    if priced
                    else None
                ),
                seconds_per_task=rounded(
                    mean_or_none([model_seconds(s) for s in tasks.values()]), 1
                ),
                retries_per_task=rounded(mean_or_none([retry_count(s) for s in tasks.values()])),
                findings_per_task=rounded(
                    mean_or_none([sum(findings_by_severity(s).values()) for s in tasks.values()])
                ),
                accepted_rate=rounded(percent(mean_or_none([float(a) for a in accepted]))),
                tests_passed_rate=rounded(percent(mean_or_none([float(t) for t in tested]))),
                cleanup_minutes_per_task=rounded(mean_or_none(cleanup), 1),
            )
        )
    return summaries


def mode_table(
    rows: Sequence[LedgerRow], notes: dict[str, TaskNote], runs: Sequence[TrialRun]
) -> Table:
    summaries = mode_summaries(rows, notes, runs)
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
    rows: Sequence[LedgerRow],
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
            task_table(rows, notes),
            step_table(rows),
            model_table(rows),
            week_table(rows),
            estimate_table(rows),
            mode_table(rows, notes, runs),
        ),
    )
