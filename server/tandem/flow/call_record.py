"""What a model call leaves behind: its ledger row and its line in the task's state.

Every call, whether it succeeds, fails, is cancelled or is refused by the budget, becomes one
:class:`~tandem.values.StepRecord` carrying the estimate made before it (:func:`record_call`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from tandem.config import ModelSettings, Settings
from tandem.flow.env import FlowEnv
from tandem.flow.handoff import Task
from tandem.flow.prompts import RenderedPrompt
from tandem.flow.taskstore import StepSummary
from tandem.values import (
    Route,
    StepEstimate,
    StepName,
    StepOutcome,
    StepRecord,
    Usage,
)


@dataclass(frozen=True)
class StepCall:
    """One model call as it is about to be made: the task and route it serves, the prompt as it
    leaves (redacted) and the estimate made of it before anything is sent."""

    env: FlowEnv
    task: Task
    route: Route
    alias: str
    model: ModelSettings
    round: int
    prompt: RenderedPrompt
    """The redacted prompt: the only one estimated and sent."""
    redactions: dict[str, int]
    """Secrets replaced by placeholders, by kind."""
    schema: dict[str, Any]
    estimate: StepEstimate
    started: datetime

    @property
    def step(self) -> StepName:
        return self.route.step


@dataclass(frozen=True)
class CallEnd:
    """How a call ended, as its ledger row tells it; provider and model default to the routed
    model's (a reply or a failure names the one that really answered)."""

    outcome: StepOutcome
    usage: Usage | None = None
    cost: Decimal | None = None
    provider: str | None = None
    model: str | None = None
    latency_ms: int = 0
    attempts: int = 0
    error: str | None = None
    findings: dict[str, int] | None = None
    fake: bool = False
    note: str | None = None
    """Something the user should know about a call that worked (e.g. a fallback mode)."""


def routing_mode(settings: Settings) -> str:
    single = settings.routes.single_model
    return single if single in ("strong", "cheap") else "split"


def record_call(call: StepCall, end: CallEnd, *, status: str | None = None) -> None:
    """Write the call's ledger row and add it to the task's steps (with ``status``, also set
    the task's status and message)."""
    entry = StepRecord(
        task_id=call.task.task_id,
        task_type=call.task.task_type,
        step=call.step,
        attempt_of_step=call.round,
        provider=end.provider if end.provider is not None else call.model.provider,
        model=end.model if end.model is not None else call.model.model,
        alias=call.alias,
        prompt_version=call.prompt.version,
        risk_tier=call.task.risk_tier,
        usage=end.usage or Usage(),
        cost_usd=end.cost,
        latency_ms=end.latency_ms,
        attempts=end.attempts,
        outcome=end.outcome,
        error=end.error,
        estimate=call.estimate,
        findings=end.findings or {},
        started_at=call.started,
        mode=routing_mode(call.env.settings),
        redactions=call.redactions,
    )
    call.env.recorder.record_step(entry)
    message = end.error or f"{call.step} {end.outcome}" + (f" ({end.note})" if end.note else "")
    extra: dict[str, Any] = {"status": status, "message": message} if status else {}
    summary = step_summary(entry, call.route, message, end.fake)
    note_step(call.env, call.task.task_id, summary, **extra)


def step_summary(record: StepRecord, route: Route, message: str, fake: bool) -> StepSummary:
    return StepSummary(
        step=record.step,
        round=record.attempt_of_step,
        alias=route.alias,
        model=record.model,
        provider=record.provider,
        input_tokens=record.usage.total_input_tokens,
        output_tokens=record.usage.output_tokens,
        cost_usd=record.cost_usd,
        outcome=record.outcome,
        message=message,
        prompt_version=record.prompt_version,
        fake=fake,
        redactions=record.redaction_count,
        tokens_counted=record.usage.counted,
    )


def note_step(env: FlowEnv, task_id: str, summary: StepSummary, **state: Any) -> None:
    """Add a step to the task's state (``state`` updates other fields of it at once)."""
    current = env.store.load_state(task_id)
    updated = current.model_copy(update={"steps": [*current.steps, summary], **state})
    env.store.save_state(task_id, updated)


def note_skip(env: FlowEnv, task_id: str, route: Route, round_: int) -> None:
    """A step routing skipped: a line in the task's state, no ledger row (nothing was sent)."""
    summary = StepSummary(step=route.step, round=round_, outcome="skipped", message=route.reason)
    note_step(env, task_id, summary)
