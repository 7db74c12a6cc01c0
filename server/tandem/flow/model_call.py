"""One model call: redact the prompt, estimate it, pass the step gate, send it, record the end.

:func:`call_step` is the only place a provider is asked for a reply; whatever happens (a reply,
a failure, a cancellation, a refusal by the budget or the user), the call is recorded.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel

from tandem.cost.estimate import estimate_step
from tandem.cost.prices import price_usage
from tandem.flow.call_record import CallEnd, StepCall, record_call
from tandem.flow.env import FlowEnv
from tandem.flow.errors import FlowError
from tandem.flow.gate import pass_gate
from tandem.flow.handoff import Task
from tandem.flow.prompts import RenderedPrompt
from tandem.providers.base import CallMeter, ModelReply, ModelRequest, Provider, ProviderFailure
from tandem.redaction.redactor import findings_text, redact_prompt
from tandem.values import Route

R = TypeVar("R", bound=BaseModel)


async def call_step(
    env: FlowEnv,
    task: Task,
    route: Route,
    round_: int,
    prompt: RenderedPrompt,
    output_type: type[R],
    *,
    findings_of: Callable[[R], dict[str, int]] | None = None,
) -> tuple[R, ModelReply]:
    """Redact, estimate, check the budget, call the provider, record the step (whatever
    happens). Only the redacted prompt is estimated and sent."""
    call = prepare_call(env, task, route, round_, prompt, output_type.model_json_schema())
    provider = await pass_gate(call)
    await announce(call)
    reply = await send(call, provider, output_type)
    parsed = output_type.model_validate(reply.parsed.model_dump())
    for notice in reply.notices:
        await call.env.say(f"{call.step}: {notice}")
    end = CallEnd(
        "ok",
        usage=reply.usage,
        # A fake reply is priced as the routed model would have charged for the same tokens.
        cost=price_usage(call.model, reply.usage),
        provider=reply.provider,
        model=reply.model,
        latency_ms=reply.latency_ms,
        attempts=reply.attempts,
        findings=findings_of(parsed) if findings_of else None,
        fake=reply.is_fake,
        note="; ".join(reply.notices) or None,
    )
    record_call(call, end)
    return parsed, reply


def prepare_call(
    env: FlowEnv,
    task: Task,
    route: Route,
    round_: int,
    prompt: RenderedPrompt,
    schema: dict[str, Any],
) -> StepCall:
    """The call as it will leave: the prompt redacted, then estimated on the routed model."""
    assert route.alias is not None
    model = env.settings.models[route.alias]
    redacted = redact_prompt(prompt.system, prompt.user)
    sent = dataclasses.replace(prompt, system=redacted.system, user=redacted.user)
    estimate = estimate_step(
        route.step,
        route.alias,
        model,
        system=sent.system,
        user=sent.user,
        output_schema=schema,
        history=env.history,
    )
    return StepCall(
        env=env,
        task=task,
        route=route,
        alias=route.alias,
        model=model,
        round=round_,
        prompt=sent,
        redactions=redacted.findings,
        schema=schema,
        estimate=estimate,
        started=datetime.now(UTC),
    )


async def announce(call: StepCall) -> None:
    """Say what is being sent where, its estimate, and which secrets were replaced."""
    estimate, model = call.estimate, call.model
    cost_note = f", up to ${estimate.usd_max:.4f}" if estimate.usd_max is not None else ""
    await call.env.say(
        f"{call.step} (round {call.round}) on {call.alias} ({model.provider}:{model.model}): "
        f"~{estimate.input_tokens} input tokens{cost_note}"
    )
    if sum(call.redactions.values()):
        await call.env.say(
            f"{call.step}: secrets replaced by placeholders before sending: "
            f"{findings_text(call.redactions)}"
        )


async def send(call: StepCall, provider: Provider, output_type: type[BaseModel]) -> ModelReply:
    """The provider's reply; a cancellation or a failure is recorded before it leaves."""
    request = ModelRequest(
        system=call.prompt.system,
        user=call.prompt.user,
        output_type=output_type,
        max_output_tokens=call.model.max_output_tokens,
        step=call.step,
    )
    clock = time.monotonic()
    meter = CallMeter(call.step, call.env.progress)
    try:
        return await provider.complete(request, call.env.progress, meter)
    except asyncio.CancelledError:
        # What the call had spent when it was stopped: finished attempts as reported, the one
        # under way counted (its prompt, and the text received) if the server had answered.
        spent = meter.so_far()
        end = CallEnd(
            "cancelled",
            usage=spent,
            cost=price_usage(call.model, spent),
            latency_ms=_elapsed_ms(clock),
            error=f"{call.step} cancelled",
        )
        record_call(call, end, status="stopped")
        raise
    except ProviderFailure as failure:
        message = _failure_message(call, failure)
        end = CallEnd(
            "cancelled" if failure.kind == "cancelled" else "failed",
            usage=failure.usage,
            cost=price_usage(call.model, failure.usage),
            provider=failure.provider,
            model=failure.model,
            latency_ms=_elapsed_ms(clock),
            attempts=failure.attempts,
            error=message,
        )
        record_call(call, end, status="failed")
        # The raised error is what the user sees (once); saying it too would repeat it.
        raise FlowError(message, "failed") from failure


def _failure_message(call: StepCall, failure: ProviderFailure) -> str:
    """What failed and how to go on; a reply that could not be used is saved for the user."""
    if failure.raw_text is not None:
        saved = call.env.store.save_raw_reply(
            call.task.task_id, call.step, call.round, failure.raw_text
        )
        detail = f"{failure} (raw reply saved to {saved})"
    else:
        detail = str(failure)
    return f"{call.step} failed: {detail}. Fix the cause and run again: the task resumes here."


def _elapsed_ms(clock: float) -> int:
    return int((time.monotonic() - clock) * 1000)
