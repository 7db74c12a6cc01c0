"""Scorecards from the ledger: per task, step, model and week; estimate error; split vs baseline.

The seed documents' advice is to track the whole task, not one prompt: cost, time, calls,
retries, review findings, whether the draft was accepted, and human cleanup minutes; and to
compare the split against single-model baselines before believing it. This module turns ledger
rows into those tables (pure functions, no I/O) and renders them as text, markdown, JSON or CSV.
The HTML page with charts lives in :mod:`tandem.reports.html`.
"""

from __future__ import annotations

import csv
import io
import json
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Literal

from tandem.ledger.rows import LedgerRow, TaskNote, TrialRun

Cell = str | int | float | Decimal | bool | None
ReportFormat = Literal["table", "markdown", "json", "csv"]
FORMATS: tuple[ReportFormat, ...] = ("table", "markdown", "json", "csv")


class ReportInputError(ValueError):
    """A bad report option (e.g. an unreadable ``--since``)."""


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Cell, ...]] = field(default_factory=list)
    note: str | None = None

    def records(self) -> list[dict[str, Cell]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


@dataclass(frozen=True)
class Report:
    generated_at: datetime
    since: datetime | None
    task_id: str | None
    tables: tuple[Table, ...]
    trial_id: str | None = None

    def table(self, name: str) -> Table:
        return next(table for table in self.tables if table.name == name)


# --- options -----------------------------------------------------------------------------------

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


# --- helpers -----------------------------------------------------------------------------------


def _sum_cost(rows: Iterable[LedgerRow]) -> Decimal:
    return sum((r.record.cost_usd for r in rows if r.record.cost_usd is not None), Decimal(0))


def _unpriced(rows: Iterable[LedgerRow]) -> int:
    return sum(1 for r in rows if r.record.cost_usd is None and r.record.outcome != "skipped")


def _retries(rows: Iterable[LedgerRow]) -> int:
    """HTTP retries plus repeated steps (a second draft or review after a failed review)."""
    total = 0
    for row in rows:
        total += max(0, row.record.attempts - 1)
        if row.record.attempt_of_step > 1:
            total += 1
    return total


def _findings(rows: Iterable[LedgerRow]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        for severity, count in row.record.findings.items():
            counts[severity] += count
    return dict(counts)


def _redactions(rows: Iterable[LedgerRow]) -> int:
    """Secrets replaced by placeholders before the prompts left (a count, never a value)."""
    return sum(row.record.redaction_count for row in rows)


def _findings_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{severity} {count}" for severity, count in sorted(counts.items())) or "-"


def _accepted(rows: Sequence[LedgerRow]) -> bool | None:
    """Whether the task's last draft was accepted (None when nobody said)."""
    for row in reversed(rows):
        if row.record.draft_accepted is not None:
            return row.record.draft_accepted
    return None


def _tokens(rows: Iterable[LedgerRow]) -> tuple[int, int]:
    rows = list(rows)
    return (
        sum(r.record.usage.total_input_tokens for r in rows),
        sum(r.record.usage.output_tokens for r in rows),
    )


def _seconds(rows: Iterable[LedgerRow]) -> float:
    return round(sum(r.record.latency_ms for r in rows) / 1000, 1)


def _elapsed(rows: Sequence[LedgerRow]) -> float:
    """Wall time from the first step's start to the last step's end (includes the human's
    pause between plan and draft, which is part of what the task cost)."""
    start = min(r.record.started_at for r in rows)
    end = max(r.record.started_at + timedelta(milliseconds=r.record.latency_ms) for r in rows)
    return round((end - start).total_seconds(), 1)


def _task_outcome(rows: Sequence[LedgerRow]) -> str:
    outcomes = {r.record.outcome for r in rows}
    for worst in ("over_budget", "failed", "cancelled"):
        if worst in outcomes:
            return worst
    return "ok"


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def _mean(values: Sequence[float]) -> float | None:
    return statistics.fmean(values) if values else None


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def _by_task(rows: Iterable[LedgerRow]) -> dict[str, list[LedgerRow]]:
    tasks: dict[str, list[LedgerRow]] = defaultdict(list)
    for row in rows:
        tasks[row.record.task_id].append(row)
    return tasks


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
    for task_id, steps in _by_task(rows).items():
        note = notes.get(task_id)
        first = steps[0].record
        table.rows.append(
            (
                task_id,
                first.task_type,
                first.mode,
                first.started_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
                _task_outcome(steps),
                None if _unpriced(steps) == len(steps) else _sum_cost(steps),
                _unpriced(steps),
                _seconds(steps),
                _elapsed(steps),
                len(steps),
                _retries(steps),
                _findings_text(_findings(steps)),
                _accepted(steps),
                note.cleanup_minutes if note else None,
                _redactions(steps),
            )
        )
    return table


def _group_table(
    name: str, title: str, key_name: str, groups: dict[str, list[LedgerRow]], tasks_col: bool
) -> Table:
    columns = [key_name, "calls", "input_tokens", "output_tokens", "cost_usd", "unpriced_calls"]
    columns += ["model_seconds", "retries", "failed", "redactions"]
    if tasks_col:
        columns.insert(1, "tasks")
    table = Table(name, title, tuple(columns))
    for key, steps in groups.items():
        tokens_in, tokens_out = _tokens(steps)
        failed = sum(1 for r in steps if r.record.outcome not in ("ok", "skipped"))
        values: list[Cell] = [key, len(steps), tokens_in, tokens_out, _sum_cost(steps)]
        values += [_unpriced(steps), _seconds(steps), _retries(steps), failed]
        values.append(_redactions(steps))
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
        if estimate is None or record.outcome != "ok":
            continue
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
                _round(_pct(_mean([abs(v) for v in inputs]))),
                _round(_pct(_mean(inputs))),
                _round(_pct(_mean([abs(v) for v in outputs]))),
                _round(_pct(_mean([abs(v) for v in costs]))),
                _round(_pct(sum(e.within_max for e in errors) / len(errors))),
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
    for task_id, steps in _by_task(rows).items():
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
        priced = count > 0 and not any(_unpriced(steps) for steps in tasks.values())
        accepted = [a for steps in tasks.values() if (a := _accepted(steps)) is not None]
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
                    (_sum_cost(r for s in tasks.values() for r in s) / count).quantize(
                        Decimal("0.000001")
                    )
                    if priced
                    else None
                ),
                seconds_per_task=_round(_mean([_seconds(s) for s in tasks.values()]), 1),
                retries_per_task=_round(_mean([_retries(s) for s in tasks.values()])),
                findings_per_task=_round(
                    _mean([sum(_findings(s).values()) for s in tasks.values()])
                ),
                accepted_rate=_round(_pct(_mean([float(a) for a in accepted]))),
                tests_passed_rate=_round(_pct(_mean([float(t) for t in tested]))),
                cleanup_minutes_per_task=_round(_mean(cleanup), 1),
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
            versus = _round(float(summary.cost_per_task / strong.cost_per_task - 1) * 100, 1)
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


# --- rendering ---------------------------------------------------------------------------------


def cell_text(value: Cell) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return f"{value:.4f}" if value < 1000 else f"{value:.2f}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _json_cell(value: Cell) -> object:
    # Dollars stay exact: Decimal as a string.
    return str(value) if isinstance(value, Decimal) else value


def report_heading(report: Report) -> str:
    scope = f"since {report.since:%Y-%m-%d %H:%M} UTC" if report.since else "all time"
    if report.task_id:
        scope += f", task {report.task_id}"
    if report.trial_id:
        scope = f"trial {report.trial_id}"
    return f"Tandem report ({scope})"


def render_table(report: Report) -> str:
    out = [report_heading(report), ""]
    for table in report.tables:
        out.append(table.title)
        if not table.rows:
            out += ["  (nothing recorded)", ""]
            continue
        cells = [list(table.columns)] + [[cell_text(c) for c in row] for row in table.rows]
        widths = [max(len(line[i]) for line in cells) for i in range(len(table.columns))]
        for index, line in enumerate(cells):
            padded = "  ".join(text.ljust(widths[i]) for i, text in enumerate(line))
            out.append(("  " + padded).rstrip())
            if index == 0:
                out.append("  " + "  ".join("-" * width for width in widths))
        if table.note:
            out.append(f"  ({table.note})")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def render_markdown(report: Report) -> str:
    out = [f"# {report_heading(report)}", ""]
    for table in report.tables:
        out += [f"## {table.title}", ""]
        if not table.rows:
            out += ["_Nothing recorded._", ""]
            continue
        out.append("| " + " | ".join(table.columns) + " |")
        out.append("| " + " | ".join("---" for _ in table.columns) + " |")
        for row in table.rows:
            texts = [cell_text(c).replace("|", "\\|") for c in row]
            out.append("| " + " | ".join(texts) + " |")
        if table.note:
            out += ["", f"_{table.note}_"]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def render_json(report: Report) -> str:
    data = {
        "generated_at": report.generated_at.isoformat(),
        "since": report.since.isoformat() if report.since else None,
        "task": report.task_id,
        "trial": report.trial_id,
        "tables": {
            table.name: [
                {key: _json_cell(value) for key, value in record.items()}
                for record in table.records()
            ]
            for table in report.tables
        },
    }
    return json.dumps(data, indent=2) + "\n"


def render_csv(report: Report) -> str:
    """Every table stacked; the first column names the table so a spreadsheet can filter it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for table in report.tables:
        writer.writerow(["table", *table.columns])
        for row in table.rows:
            writer.writerow([table.name, *("" if c is None else _json_cell(c) for c in row)])
    return buffer.getvalue()


def render(report: Report, fmt: ReportFormat) -> str:
    renderers = {
        "table": render_table,
        "markdown": render_markdown,
        "json": render_json,
        "csv": render_csv,
    }
    return renderers[fmt](report)
