"""Builders of values the unit and end-to-end tests share (importable as ``factories``: pytest
puts ``tests/`` on the path for ``tests/conftest.py``).

``step_record`` is the one way tests make a ledger row: a complete, valid ``StepRecord`` of an
ordinary successful step, with any field overridden by keyword.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from tandem.values import StepName, StepRecord, Usage

AT = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def step_record(
    task_id: str = "t1",
    *,
    step: StepName = "draft",
    usage: Usage | None = None,
    cost: Decimal | None = Decimal("0.01"),
    started_at: datetime = AT,
    **fields: object,
) -> StepRecord:
    """A successful ``step`` of ``task_id`` by the strong Anthropic model; ``fields`` override
    any other ``StepRecord`` field (validated, so a wrong override fails loudly)."""
    values: dict[str, object] = {
        "task_id": task_id,
        "task_type": "bugfix",
        "step": step,
        "provider": "anthropic",
        "model": "claude-sonnet-4-6",
        "alias": "strong",
        "prompt_version": "abc123",
        "risk_tier": "medium",
        "usage": usage or Usage(input_tokens=100, output_tokens=50),
        "cost_usd": cost,
        "latency_ms": 1234,
        "attempts": 1,
        "outcome": "ok",
        "started_at": started_at,
    }
    values.update(fields)
    return StepRecord.model_validate(values)


def spend_record(
    task_id: str, dollars: str, *, started_at: datetime, usage: Usage | None = None
) -> StepRecord:
    """The plan step of a small, low-risk task that cost ``dollars``: spend for status and
    report tests."""
    return step_record(
        task_id,
        task_type="small",
        step="plan",
        risk_tier="low",
        usage=usage or Usage(input_tokens=100, output_tokens=10),
        cost=Decimal(dollars),
        started_at=started_at,
    )
