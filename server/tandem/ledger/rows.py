"""What the ledger's rows hold, and the one conversion between a step record and its row.

Tokens are stored exactly as the provider reported them (normalised :class:`~tandem.values.Usage`;
``usage_counted`` marks the ones counted offline because the provider reported none),
dollars as Decimal text (never floats), timestamps as sortable UTC text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # Imported where rows become records: the report never builds one, so it never pays
    # for importing pydantic.
    from tandem.values import StepEstimate, StepRecord


@dataclass(frozen=True)
class LedgerRow:
    """A recorded step with its row id and the time it was written."""

    id: int
    recorded_at: datetime
    record: StepRecord


@dataclass(frozen=True)
class TaskNote:
    """The latest human note about a task: cleanup minutes and free text."""

    task_id: str
    cleanup_minutes: float | None
    note: str | None
    recorded_at: datetime


@dataclass(frozen=True)
class TrialRun:
    """One run of a task in a trial: which mode, did it finish, did the task's tests pass."""

    trial_id: str
    task_id: str
    mode: str
    run_index: int
    outcome: str
    test_command: str | None
    test_passed: bool | None
    duration_ms: int
    detail: str | None = None


def utc_text(moment: datetime) -> str:
    """One sortable text form for every timestamp (naive times are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def now_text() -> str:
    """The current time in the ledger's timestamp form."""
    return utc_text(datetime.now(UTC))


def _decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


STEP_COLUMNS = (  # in the order step_values gives them
    "recorded_at, started_at, task_id, task_type, step, attempt_of_step, provider, model, alias, "
    "prompt_version, risk_tier, input_tokens, cache_read_tokens, cache_write_tokens, "
    "output_tokens, reasoning_tokens, cost_usd, latency_ms, attempts, outcome, error, "
    "estimate_json, est_input_tokens, est_input_counted, est_output_typical, est_output_max, "
    "est_usd_typical, est_usd_max, findings_json, draft_accepted, trial_id, mode, "
    "redactions, redactions_json, usage_counted"
)


def step_values(record: StepRecord) -> tuple[object, ...]:
    """The row values of a step, in :data:`STEP_COLUMNS` order, stamped with the current time."""
    usage, estimate = record.usage, record.estimate
    return (
        now_text(),
        utc_text(record.started_at),
        record.task_id,
        record.task_type,
        record.step,
        record.attempt_of_step,
        record.provider,
        record.model,
        record.alias,
        record.prompt_version,
        record.risk_tier,
        usage.input_tokens,
        usage.cache_read_tokens,
        usage.cache_write_tokens,
        usage.output_tokens,
        usage.reasoning_tokens,
        _decimal_text(record.cost_usd),
        record.latency_ms,
        record.attempts,
        record.outcome,
        record.error,
        estimate.model_dump_json() if estimate else None,
        estimate.input_tokens if estimate else None,
        estimate.input_tokens_counted if estimate else None,
        estimate.output_tokens_typical if estimate else None,
        estimate.output_tokens_max if estimate else None,
        _decimal_text(estimate.usd_typical) if estimate else None,
        _decimal_text(estimate.usd_max) if estimate else None,
        json.dumps(record.findings, sort_keys=True),
        None if record.draft_accepted is None else int(record.draft_accepted),
        record.trial_id,
        record.mode,
        record.redaction_count,
        json.dumps(record.redactions, sort_keys=True),
        int(usage.counted),
    )


def row_to_record(row: Any) -> LedgerRow:
    """A ``steps`` row (read by column name) back as the record that was written."""
    from tandem.values import StepEstimate, StepRecord, Usage

    estimate_json = row["estimate_json"]
    record = StepRecord(
        **_record_fields(row),
        usage=Usage(**_usage_fields(row)),
        estimate=StepEstimate.model_validate_json(estimate_json) if estimate_json else None,
    )
    return _ledger_row(row, record)


def lean_row_to_record(row: Any) -> LedgerRow:
    """:func:`row_to_record` without validating the row again: the ledger wrote it from a
    validated record, so reports over many rows build it directly (a test checks both agree)."""
    from tandem.values import StepRecord, Usage

    record = StepRecord.model_construct(
        **_record_fields(row),
        usage=Usage.model_construct(**_usage_fields(row)),
        estimate=_lean_estimate(row["estimate_json"]),
    )
    return _ledger_row(row, record)


def _record_fields(row: Any) -> dict[str, Any]:
    """A step row's fields, as both readers build them (usage and estimate apart)."""
    accepted = row["draft_accepted"]
    return {
        "task_id": row["task_id"],
        "task_type": row["task_type"],
        "step": row["step"],
        "attempt_of_step": row["attempt_of_step"],
        "provider": row["provider"],
        "model": row["model"],
        "alias": row["alias"],
        "prompt_version": row["prompt_version"],
        "risk_tier": row["risk_tier"],
        "cost_usd": _decimal(row["cost_usd"]),
        "latency_ms": row["latency_ms"],
        "attempts": row["attempts"],
        "outcome": row["outcome"],
        "error": row["error"],
        "findings": json.loads(row["findings_json"]),
        "draft_accepted": None if accepted is None else bool(accepted),
        "started_at": datetime.fromisoformat(row["started_at"]),
        "trial_id": row["trial_id"],
        "mode": row["mode"],
        "redactions": json.loads(row["redactions_json"] or "{}"),
    }


def _usage_fields(row: Any) -> dict[str, Any]:
    """A step row's usage, as both readers build it."""
    return {
        "input_tokens": row["input_tokens"],
        "cache_read_tokens": row["cache_read_tokens"],
        "cache_write_tokens": row["cache_write_tokens"],
        "output_tokens": row["output_tokens"],
        "reasoning_tokens": row["reasoning_tokens"],
        "counted": bool(row["usage_counted"]),
    }


def _lean_estimate(text: str | None) -> StepEstimate | None:
    from tandem.values import StepEstimate

    if not text:
        return None
    fields = json.loads(text)
    for name in ("usd_typical", "usd_max"):
        fields[name] = _decimal(fields.get(name))
    return StepEstimate.model_construct(**fields)


def _ledger_row(row: Any, record: StepRecord) -> LedgerRow:
    return LedgerRow(
        id=row["id"], recorded_at=datetime.fromisoformat(row["recorded_at"]), record=record
    )


def row_to_trial_run(row: Any) -> TrialRun:
    """A ``trial_runs`` row (read by column name) back as the run that was written."""
    return TrialRun(
        trial_id=row["trial_id"],
        task_id=row["task_id"],
        mode=row["mode"],
        run_index=row["run_index"],
        outcome=row["outcome"],
        test_command=row["test_command"],
        test_passed=None if row["test_passed"] is None else bool(row["test_passed"]),
        duration_ms=row["duration_ms"],
        detail=row["detail"],
    )
