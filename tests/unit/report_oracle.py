"""The scorecards recomputed from raw ledger rows, call by call, without Tandem's SQL: the test
oracle the ledger's grouped sums (``tandem.ledger.totals``) are checked against."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from factories import step_record
from tandem.ledger.base import Ledger
from tandem.ledger.rows import LedgerRow, TaskNote, TrialRun
from tandem.values import StepEstimate, Usage

Rows = list[tuple[object, ...]]


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


def _pct(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(round(value * 100, 1), digits)


def _sums(rows: list[LedgerRow]) -> tuple[object, ...]:
    """calls, input, output, cost, unpriced, model seconds, retries, failed, redactions, counted"""
    records = [r.record for r in rows]
    return (
        len(records),
        sum(r.usage.total_input_tokens for r in records),
        sum(r.usage.output_tokens for r in records),
        sum((r.cost_usd for r in records if r.cost_usd is not None), Decimal(0)),
        sum(1 for r in records if r.cost_usd is None and r.outcome != "skipped"),
        round(sum(r.latency_ms for r in records) / 1000, 1),
        sum(max(0, r.attempts - 1) + (r.attempt_of_step > 1) for r in records),
        sum(1 for r in records if r.outcome not in ("ok", "skipped")),
        sum(r.redaction_count for r in records),
        sum(1 for r in records if r.usage.counted),
    )


def _findings(rows: list[LedgerRow]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        for severity, n in row.record.findings.items():
            counts[severity] += n
    return dict(counts)


def _accepted(rows: list[LedgerRow]) -> bool | None:
    said = [r.record.draft_accepted for r in rows if r.record.draft_accepted is not None]
    return said[-1] if said else None


def by_task(rows: list[LedgerRow]) -> dict[str, list[LedgerRow]]:
    ordered = sorted(rows, key=lambda r: (r.record.started_at, r.id))
    tasks: dict[str, list[LedgerRow]] = defaultdict(list)
    for row in ordered:
        tasks[row.record.task_id].append(row)
    return tasks


def task_rows(rows: list[LedgerRow], notes: dict[str, TaskNote]) -> Rows:
    out: Rows = []
    for task_id, steps in by_task(rows).items():
        first, sums = steps[0].record, _sums(steps)
        outcomes = {r.record.outcome for r in steps}
        worst = next((o for o in ("over_budget", "failed", "cancelled") if o in outcomes), "ok")
        start = min(r.record.started_at for r in steps)
        end = max(r.record.started_at + timedelta(milliseconds=r.record.latency_ms) for r in steps)
        findings = _findings(steps)
        note = notes.get(task_id)
        out.append(
            (
                task_id,
                first.task_type,
                first.mode,
                first.started_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
                worst,
                None if sums[4] == sums[0] else sums[3],
                sums[4],
                sums[5],
                round((end - start).total_seconds(), 1),
                sums[0],
                sums[6],
                ", ".join(f"{k} {v}" for k, v in sorted(findings.items())) or "-",
                _accepted(steps),
                note.cleanup_minutes if note else None,
                sums[8],
            )
        )
    return out


def group_rows(rows: list[LedgerRow], table: str) -> Rows:
    groups: dict[str, list[LedgerRow]] = defaultdict(list)
    for row in rows:
        record = row.record
        if table == "steps":
            key = record.step
        elif table == "models":
            key = f"{record.provider}/{record.model}"
        else:
            year, week, _ = record.started_at.astimezone(UTC).isocalendar()
            key = f"{year}-W{week:02d}"
        groups[key].append(row)
    if table == "steps":
        keys = [step for step in ("plan", "draft", "review") if step in groups]
    else:
        keys = sorted(groups)
    out: Rows = []
    for key in keys:
        tasks = (len({r.record.task_id for r in groups[key]}),) if table == "weeks" else ()
        out.append((key, *tasks, *_sums(groups[key])))
    return out


def estimate_rows(rows: list[LedgerRow]) -> Rows:
    groups: dict[tuple[str, str], list[tuple[float | None, float | None, float | None, bool]]]
    groups = defaultdict(list)
    for row in rows:
        record, estimate = row.record, row.record.estimate
        if estimate is None or record.outcome != "ok" or record.usage.counted:
            continue
        actual_in, actual_out = record.usage.total_input_tokens, record.usage.output_tokens
        cost = None
        if estimate.usd_typical is not None and record.cost_usd:
            cost = float((estimate.usd_typical - record.cost_usd) / record.cost_usd)
        groups[(record.step, f"{record.provider}/{record.model}")].append(
            (
                (estimate.input_tokens - actual_in) / actual_in if actual_in else None,
                (estimate.output_tokens_typical - actual_out) / actual_out if actual_out else None,
                cost,
                actual_out <= estimate.output_tokens_max,
            )
        )
    out: Rows = []
    for (step, model), errors in sorted(groups.items()):
        inputs = [e[0] for e in errors if e[0] is not None]
        outputs = [e[1] for e in errors if e[1] is not None]
        costs = [e[2] for e in errors if e[2] is not None]
        out.append(
            (
                step,
                model,
                len(errors),
                _pct(_mean([abs(v) for v in inputs])),
                _pct(_mean(inputs)),
                _pct(_mean([abs(v) for v in outputs])),
                _pct(_mean([abs(v) for v in costs])),
                _pct(sum(e[3] for e in errors) / len(errors)),
            )
        )
    return out


def mode_rows(rows: list[LedgerRow], notes: dict[str, TaskNote], runs: list[TrialRun]) -> Rows:
    """mode, tasks, cost per task, model seconds, retries, findings, accepted %, tests %, cleanup
    (the ``vs_strong_pct`` column left out: it is arithmetic on two of these)."""
    by_mode: dict[str, list[list[LedgerRow]]] = defaultdict(list)
    for steps in by_task(rows).values():
        by_mode[steps[0].record.mode].append(steps)
    run_modes: dict[str, list[TrialRun]] = defaultdict(list)
    for run in runs:
        run_modes[run.mode].append(run)
    seen = set(by_mode) | set(run_modes)
    known = [m for m in ("split", "strong", "cheap") if m in seen]
    out: Rows = []
    for mode in known + sorted(seen - set(known)):
        tasks = by_mode.get(mode, [])
        sums = [_sums(steps) for steps in tasks]
        priced = bool(tasks) and not any(s[4] for s in sums)
        cost = sum((s[3] for s in sums), Decimal(0))  # type: ignore[misc]
        accepted = [a for steps in tasks if (a := _accepted(steps)) is not None]
        tested = [r.test_passed for r in run_modes.get(mode, []) if r.test_passed is not None]
        cleanup = [
            n.cleanup_minutes
            for steps in tasks
            if (n := notes.get(steps[0].record.task_id)) and n.cleanup_minutes is not None
        ]
        seconds = _mean([float(s[5]) for s in sums])  # type: ignore[arg-type]
        out.append(
            (
                mode,
                len(tasks),
                (cost / len(tasks)).quantize(Decimal("0.000001")) if priced else None,
                None if seconds is None else round(seconds, 1),
                _round(_mean([float(s[6]) for s in sums])),  # type: ignore[arg-type]
                _round(_mean([float(sum(_findings(steps).values())) for steps in tasks])),
                _pct(_mean([float(a) for a in accepted])),
                _pct(_mean([float(t) for t in tested])),
                None if not cleanup else round(statistics.fmean(cleanup), 1),
            )
        )
    return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def write_varied(ledger: Ledger) -> None:
    """Calls that exercise every rule: unpriced, skipped, failed, cancelled and over-budget calls,
    HTTP retries and repeated steps, estimates (one with no price, one counted offline),
    findings, decisions on drafts, redactions, two providers, two ISO weeks, a trial with runs
    and cleanup notes; started at times with microseconds."""
    at = datetime(2026, 11, 29, 23, 59, 58, 123456, tzinfo=UTC)  # a Sunday: week 48
    cheap = {"provider": "openai", "model": "gpt-5-mini", "alias": "cheap"}
    guess = StepEstimate(
        step="draft",
        alias="strong",
        provider="anthropic",
        model="claude-sonnet-4-6",
        input_tokens=1200,
        output_tokens_typical=300,
        output_tokens_max=400,
        usd_typical=Decimal("0.015"),
        usd_max=Decimal("0.05"),
        input_is_calibrated_guess=True,
        input_tokens_counted=1000,
    )
    calls: list[tuple[str, dict[str, object]]] = [
        ("v1", {"step": "plan", "cost": None, "mode": "split", "trial_id": "V"}),
        (
            "v1",
            {
                "step": "draft",
                "estimate": guess,
                "attempts": 3,
                "mode": "split",
                "trial_id": "V",
                "draft_accepted": True,
                "redactions": {"password": 2},
                "usage": Usage(input_tokens=900, cache_read_tokens=200, output_tokens=500),
            },
        ),
        (
            "v1",
            {
                "step": "review",
                "findings": {"blocking": 1, "nit": 2},
                "mode": "split",
                "trial_id": "V",
                "started_at": at + timedelta(seconds=3, microseconds=900_000),
            },
        ),
        (
            "v1",
            {
                "step": "draft",
                "attempt_of_step": 2,
                "draft_accepted": False,
                "mode": "split",
                "trial_id": "V",
                "estimate": guess.model_copy(update={"usd_typical": None}),
                "started_at": at + timedelta(seconds=5),
                "latency_ms": 2500,
            },
        ),
        (
            "v2",
            {
                "step": "plan",
                "outcome": "skipped",
                "cost": None,
                "mode": "strong",
                "trial_id": "V",
                **cheap,
            },
        ),
        (
            "v2",
            {
                "step": "draft",
                "outcome": "failed",
                "error": "timeout",
                "mode": "strong",
                "trial_id": "V",
                "estimate": guess,
                **cheap,
            },
        ),
        (
            "v2",
            {
                "step": "draft",
                "outcome": "over_budget",
                "cost": Decimal("0.000123456789"),
                "mode": "strong",
                "trial_id": "V",
                **cheap,
            },
        ),
        (
            "v3",
            {
                "step": "draft",
                "outcome": "cancelled",
                "estimate": guess,
                "usage": Usage(input_tokens=10, output_tokens=0, counted=True),
            },
        ),
        (
            "v3",
            {
                "step": "draft",
                "estimate": guess,
                "cost": Decimal("0"),
                "usage": Usage(input_tokens=10, output_tokens=700, counted=True),
            },
        ),
        (
            "v3",
            {
                "step": "review",
                "estimate": guess,
                "findings": {"major": 1},
                "usage": Usage(input_tokens=0, output_tokens=0),
                **cheap,
            },
        ),
    ]
    for n, (task, fields) in enumerate(calls):
        values: dict[str, object] = {"started_at": at + timedelta(milliseconds=250 * n)}
        values.update(fields)
        ledger.record_step(step_record(task, **values))  # type: ignore[arg-type]
    ledger.note_task("v1", cleanup_minutes=7)
    ledger.note_task("v2", note="messy")
    ledger.note_task("v2", cleanup_minutes=3.5)
    ledger.record_trial_run(TrialRun("V", "v1", "split", 1, "ok", "pytest", True, 900))
    ledger.record_trial_run(TrialRun("V", "v2", "strong", 1, "failed", "pytest", False, 900))
