"""The OpenAI Responses provider, exercised through the real openai SDK over a mock transport."""

from __future__ import annotations

import asyncio

import httpx2
import pytest
from provider_wire import (
    GOOD,
    TEST_KEY,
    Sleeps,
    Verdict,
    Wire,
    make,
    openai_error,
    request_for,
    respond,
    responses_body,
)

from tandem.providers.base import ProviderFailure
from tandem.values import Usage


async def test_cached_tokens_are_taken_out_of_input_and_reasoning_stays_in_output() -> None:
    wire = Wire([respond(200, responses_body())])
    reply = await make("openai", wire, Sleeps(), model="gpt-5-mini").complete(request_for())

    assert reply.parsed == Verdict(**GOOD)
    assert reply.usage == Usage(
        input_tokens=3000 - 2048, cache_read_tokens=2048, output_tokens=900, reasoning_tokens=640
    )
    assert reply.provider == "openai"


async def test_request_is_a_strict_schema_responses_call_with_the_bearer_key() -> None:
    wire = Wire([respond(200, responses_body())])
    await make("openai", wire, Sleeps(), model="gpt-5-mini").complete(
        request_for(max_output_tokens=2048)
    )
    sent = wire.requests[0]
    body = wire.body(0)
    assert str(sent.url) == "https://api.openai.com/v1/responses"
    assert sent.headers["authorization"] == f"Bearer {TEST_KEY}"
    assert body["model"] == "gpt-5-mini"
    assert body["max_output_tokens"] == 2048
    assert body["instructions"] == "You plan code changes."
    assert body["input"] == [{"role": "user", "content": "Make the counter thread-safe."}]
    assert body["store"] is False
    fmt = body["text"]["format"]
    assert (fmt["type"], fmt["name"], fmt["strict"]) == ("json_schema", "Verdict", True)
    assert set(fmt["schema"]["required"]) == {"answer", "confidence"}


async def test_retry_after_ms_is_honoured() -> None:
    wire = Wire(
        [
            respond(
                429,
                openai_error(
                    "Rate limit reached for gpt-5-mini", "requests", "rate_limit_exceeded"
                ),
                {"retry-after-ms": "1500", "retry-after": "2"},
            ),
            respond(200, responses_body()),
        ]
    )
    sleeps = Sleeps()
    messages: list[str] = []
    await make("openai", wire, sleeps, model="gpt-5-mini").complete(request_for(), messages.append)
    assert sleeps.delays == [1.5]
    assert messages == ["rate limited by openai (HTTP 429); retrying in 1.5 s (attempt 2 of 4)"]


async def test_incomplete_at_max_output_tokens_is_truncated() -> None:
    body = responses_body(
        '{"answer": "us', status="incomplete", incomplete_reason="max_output_tokens"
    )
    wire = Wire([respond(200, body)])
    with pytest.raises(ProviderFailure) as caught:
        await make("openai", wire, Sleeps(), model="gpt-5-mini").complete(request_for())
    assert caught.value.kind == "truncated"
    assert caught.value.usage.reasoning_tokens == 640
    assert caught.value.raw_text == '{"answer": "us'


async def test_schema_invalid_reply_is_repaired_once() -> None:
    wire = Wire(
        [
            respond(200, responses_body('{"answer": "use a lock"}')),
            respond(200, responses_body()),
        ]
    )
    reply = await make("openai", wire, Sleeps(), model="gpt-5-mini").complete(request_for())
    assert reply.parsed == Verdict(**GOOD)
    assert reply.attempts == 2
    second = wire.body(1)["input"]
    assert [m["role"] for m in second] == ["user", "assistant", "user"]
    assert "confidence: Field required" in second[2]["content"]
    assert reply.usage.output_tokens == 1800


async def test_invalid_twice_is_an_invalid_reply() -> None:
    wire = Wire([respond(200, responses_body("nope")), respond(200, responses_body("still no"))])
    with pytest.raises(ProviderFailure) as caught:
        await make("openai", wire, Sleeps(), model="gpt-5-mini").complete(request_for())
    assert caught.value.kind == "invalid_reply"
    assert caught.value.raw_text == "still no"
    assert caught.value.usage.input_tokens == 2 * (3000 - 2048)


async def test_refusal_is_not_parsed_and_gets_the_repair_turn() -> None:
    refused = responses_body()
    refused["output"][1]["content"] = [{"type": "refusal", "refusal": "I can't help with that."}]
    wire = Wire([respond(200, refused), respond(200, responses_body())])
    reply = await make("openai", wire, Sleeps(), model="gpt-5-mini").complete(request_for())
    assert reply.attempts == 2
    assert "the model refused: I can't help with that." in wire.body(1)["input"][2]["content"]


async def test_401_names_the_key_variable_and_masks_an_echoed_key() -> None:
    wire = Wire(
        [
            respond(
                401,
                openai_error(
                    f"Incorrect API key provided: {TEST_KEY}.",
                    "invalid_request_error",
                    "invalid_api_key",
                ),
            )
        ]
    )
    with pytest.raises(ProviderFailure) as caught:
        await make("openai", wire, Sleeps(), model="gpt-5-mini").complete(request_for())
    assert caught.value.kind == "auth"
    assert "TEST_API_KEY" in caught.value.message
    assert TEST_KEY not in caught.value.message
    assert "Incorrect API key provided: ***" in caught.value.message


async def test_context_length_exceeded_is_too_large() -> None:
    error = openai_error(
        "This model's maximum context length is 400000 tokens.",
        "invalid_request_error",
        "context_length_exceeded",
    )
    wire = Wire([respond(400, error)])
    with pytest.raises(ProviderFailure) as caught:
        await make("openai", wire, Sleeps(), model="gpt-5-mini").complete(request_for())
    assert caught.value.kind == "too_large"


async def test_model_not_found() -> None:
    error = openai_error(
        "The model `gpt-9` does not exist or you do not have access to it.",
        "invalid_request_error",
        "model_not_found",
    )
    wire = Wire([respond(404, error)])
    with pytest.raises(ProviderFailure) as caught:
        await make("openai", wire, Sleeps(), model="gpt-9").complete(request_for())
    assert caught.value.kind == "not_found"
    assert "does not exist" in caught.value.message


async def test_503_is_retried_then_succeeds() -> None:
    wire = Wire(
        [
            respond(503, openai_error("The server is overloaded", "server_error")),
            respond(200, responses_body()),
        ]
    )
    sleeps = Sleeps()
    reply = await make("openai", wire, sleeps, model="gpt-5-mini").complete(request_for())
    assert reply.attempts == 2
    assert len(sleeps.delays) == 1


async def test_cancelling_the_task_cancels_the_http_request() -> None:
    entered = asyncio.Event()
    handler_cancelled = asyncio.Event()

    async def hang(request: httpx2.Request) -> httpx2.Response:
        entered.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            handler_cancelled.set()
            raise
        raise AssertionError("unreachable")

    provider = make("openai", Wire([hang]), Sleeps(), model="gpt-5-mini")
    task = asyncio.create_task(provider.complete(request_for()))
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert handler_cancelled.is_set()
