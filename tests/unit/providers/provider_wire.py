"""Real wire-format bodies of the three APIs, a recording mock transport, and test doubles.

A request that asks for a stream gets its 200 reply as that API's stream events
(:mod:`wire_stream`); error replies come as JSON, as servers send them before a stream begins.

The bodies follow the shapes the services document and send (Anthropic Messages with cache
usage, OpenAI Responses with cached and reasoning token details, Chat Completions with prompt
and completion token details), so the SDKs parse them exactly as they would in production.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import httpx2
import pytest
from pydantic import BaseModel
from wire_stream import as_stream

from tandem.config import ModelSettings
from tandem.providers.base import ModelRequest, Provider
from tandem.providers.registry import build_provider
from tandem.providers.retry import RetryPolicy


class Verdict(BaseModel):
    """The structured reply the tests ask for."""

    answer: str
    confidence: int


GOOD = {"answer": "use a lock", "confidence": 4}
GOOD_TEXT = json.dumps(GOOD)
TEST_KEY = "sk-test-0123456789abcdef"


def request_for(step: str = "plan", max_output_tokens: int = 1024) -> ModelRequest:
    return ModelRequest(
        system="You plan code changes.",
        user="Make the counter thread-safe.",
        output_type=Verdict,
        max_output_tokens=max_output_tokens,
        step=step,
    )


def anthropic_message(
    text: str = GOOD_TEXT,
    *,
    stop_reason: str = "end_turn",
    input_tokens: int = 1200,
    cache_write: int | None = 300,
    cache_read: int | None = 5000,
    output_tokens: int = 250,
) -> dict[str, Any]:
    return {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-6",
        "content": [{"type": "text", "text": text}],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": input_tokens,
            "cache_creation_input_tokens": cache_write,
            "cache_read_input_tokens": cache_read,
            "cache_creation": {
                "ephemeral_5m_input_tokens": cache_write or 0,
                "ephemeral_1h_input_tokens": 0,
            },
            "output_tokens": output_tokens,
            "service_tier": "standard",
        },
    }


def anthropic_error(kind: str, message: str) -> dict[str, Any]:
    return {
        "type": "error",
        "error": {"type": kind, "message": message},
        "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy",
    }


def responses_body(
    text: str = GOOD_TEXT,
    *,
    status: str = "completed",
    incomplete_reason: str | None = None,
    input_tokens: int = 3000,
    cached: int = 2048,
    output_tokens: int = 900,
    reasoning: int = 640,
) -> dict[str, Any]:
    return {
        "id": "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b",
        "object": "response",
        "created_at": 1763800000,
        "status": status,
        "error": None,
        "incomplete_details": (
            {"reason": incomplete_reason} if incomplete_reason is not None else None
        ),
        "instructions": "You plan code changes.",
        "max_output_tokens": 1024,
        "model": "gpt-5-mini-2025-08-07",
        "output": [
            {"id": "rs_67ccd2bf", "type": "reasoning", "summary": []},
            {
                "id": "msg_67ccd2bf17f0",
                "type": "message",
                "status": status,
                "role": "assistant",
                "content": [
                    {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
                ],
            },
        ],
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": "medium", "summary": None},
        "store": False,
        "temperature": 1.0,
        "text": {
            "format": {"type": "json_schema", "name": "Verdict", "schema": {}, "strict": True}
        },
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": cached},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": reasoning},
            "total_tokens": input_tokens + output_tokens,
        },
        "user": None,
        "metadata": {},
    }


def chat_body(
    text: str = GOOD_TEXT,
    *,
    finish_reason: str = "stop",
    prompt_tokens: int = 800,
    cached: int = 256,
    completion_tokens: int = 120,
    reasoning: int = 30,
) -> dict[str, Any]:
    return {
        "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        "object": "chat.completion",
        "created": 1763800000,
        "model": "qwen2.5-coder:7b",
        "system_fingerprint": "fp_ollama",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": reasoning,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
    }


def openai_error(message: str, kind: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


Step = httpx2.Response | Exception | Callable[[httpx2.Request], Any]


def respond(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx2.Response:
    return httpx2.Response(status, json=body, headers=headers or {})


@dataclass
class Wire:
    """A scripted server: each request gets the next step (a response, or an exception raised as
    the transport would raise it). Every request is recorded with its parsed JSON body."""

    steps: list[Step]
    requests: list[httpx2.Request] = field(default_factory=list)

    async def handle(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        if not self.steps:
            raise AssertionError(f"unexpected extra request to {request.url}")
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        if isinstance(step, httpx2.Response):
            return as_stream(request, step)
        result = step(request)
        if hasattr(result, "__await__"):
            result = await result
        assert isinstance(result, httpx2.Response)
        return as_stream(request, result)

    def client(self) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(transport=httpx2.MockTransport(self.handle))

    def body(self, index: int) -> dict[str, Any]:
        data = json.loads(self.requests[index].content)
        assert isinstance(data, dict)
        return data


async def cancel_when_ready(
    call: Coroutine[Any, Any, Any],
    ready: Callable[[], bool],
    closed_by_client: asyncio.Event,
    server: asyncio.Server,
) -> None:
    """Run ``call``, cancel it once ``ready()``, and wait until the loopback ``server`` saw the
    client close its connection (the waits are hang guards, not timing checks)."""
    try:
        task = asyncio.create_task(call)
        async with asyncio.timeout(10):
            while not ready():
                await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.wait_for(closed_by_client.wait(), 10)
    finally:
        server.close()
        await server.wait_closed()


@dataclass
class Sleeps:
    """Records every wait instead of sleeping (tests never wait for real)."""

    delays: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


FIXED_NOW = 1_763_800_000.0
POLICY = RetryPolicy(max_attempts=4, max_total_wait_s=60, max_retry_after_s=30)


def make(
    provider: str,
    wire: Wire | None,
    sleeps: Sleeps,
    *,
    model: str = "claude-sonnet-4-6",
    api_key_env: str | None = "TEST_API_KEY",
    base_url: str | None = None,
    environ: dict[str, str] | None = None,
    policy: RetryPolicy = POLICY,
    timeout_seconds: float = 30,
    structured_output: str = "auto",
) -> Provider:
    settings = ModelSettings.model_validate(
        {
            "provider": provider,
            "model": model,
            "api_key_env": api_key_env,
            "base_url": base_url,
            "timeout_seconds": timeout_seconds,
            "structured_output": structured_output,
        }
    )
    return build_provider(
        "strong",
        settings,
        {"TEST_API_KEY": TEST_KEY} if environ is None else environ,
        http_client=wire.client() if wire is not None else None,
        policy=policy,
        sleep=sleeps,
        clock=lambda: FIXED_NOW,
    )
