"""The Anthropic provider, exercised through the real anthropic SDK over a mock httpx2 transport."""

from __future__ import annotations

import asyncio
from email.utils import formatdate

import httpx2
import pytest
from provider_wire import (
    FIXED_NOW,
    GOOD,
    TEST_KEY,
    Sleeps,
    Verdict,
    Wire,
    anthropic_error,
    anthropic_message,
    make,
    request_for,
    respond,
)

from tandem.providers.base import ProviderFailure
from tandem.values import Usage


async def test_reply_is_parsed_and_usage_keeps_cache_reads_and_writes_apart() -> None:
    wire = Wire([respond(200, anthropic_message())])
    provider = make("anthropic", wire, Sleeps())

    reply = await provider.complete(request_for())

    assert reply.parsed == Verdict(**GOOD)
    assert reply.usage == Usage(
        input_tokens=1200, cache_write_tokens=300, cache_read_tokens=5000, output_tokens=250
    )
    assert (reply.provider, reply.model, reply.attempts, reply.is_fake) == (
        "anthropic",
        "claude-sonnet-4-6",
        1,
        False,
    )


async def test_request_carries_model_limit_system_schema_and_key_header() -> None:
    wire = Wire([respond(200, anthropic_message())])
    await make("anthropic", wire, Sleeps()).complete(request_for(max_output_tokens=777))

    sent = wire.requests[0]
    body = wire.body(0)
    assert str(sent.url) == "https://api.anthropic.com/v1/messages"
    assert sent.headers["authorization"] == f"Bearer {TEST_KEY}"  # how SDK 2.x sends api_key
    assert body["model"] == "claude-sonnet-4-6"
    assert body["max_tokens"] == 777
    assert body["system"] == "You plan code changes."
    assert body["messages"] == [{"role": "user", "content": "Make the counter thread-safe."}]
    schema = body["output_config"]["format"]
    assert schema["type"] == "json_schema"
    assert set(schema["schema"]["properties"]) == {"answer", "confidence"}
    assert schema["schema"]["additionalProperties"] is False


async def test_null_cache_fields_count_as_zero() -> None:
    wire = Wire([respond(200, anthropic_message(cache_read=None, cache_write=None))])
    reply = await make("anthropic", wire, Sleeps()).complete(request_for())
    assert reply.usage == Usage(input_tokens=1200, output_tokens=250)


async def test_rate_limit_waits_the_retry_after_seconds_and_says_so() -> None:
    wire = Wire(
        [
            respond(
                429,
                anthropic_error("rate_limit_error", "Number of request tokens has exceeded"),
                {"retry-after": "4"},
            ),
            respond(200, anthropic_message()),
        ]
    )
    sleeps = Sleeps()
    messages: list[str] = []

    reply = await make("anthropic", wire, sleeps).complete(request_for(), messages.append)

    assert sleeps.delays == [4.0]
    assert messages == ["rate limited by anthropic (HTTP 429); retrying in 4 s (attempt 2 of 4)"]
    assert reply.attempts == 2
    assert len(wire.requests) == 2


async def test_retry_after_as_http_date_is_measured_from_now() -> None:
    when = formatdate(FIXED_NOW + 7, usegmt=True)
    wire = Wire(
        [
            respond(429, anthropic_error("rate_limit_error", "slow down"), {"retry-after": when}),
            respond(200, anthropic_message()),
        ]
    )
    sleeps = Sleeps()
    await make("anthropic", wire, sleeps).complete(request_for())
    assert sleeps.delays == [7.0]


async def test_retry_after_beyond_the_cap_fails_at_once_with_the_asked_wait() -> None:
    wire = Wire([respond(429, anthropic_error("rate_limit_error", "slow"), {"retry-after": "300"})])
    sleeps = Sleeps()
    with pytest.raises(ProviderFailure) as caught:
        await make("anthropic", wire, sleeps).complete(request_for())
    assert caught.value.kind == "rate_limited"
    assert "asks to wait 300 s" in caught.value.message
    assert sleeps.delays == []


async def test_overloaded_529_is_retried_with_backoff_then_fails_after_bounded_attempts() -> None:
    overloaded = anthropic_error("overloaded_error", "Overloaded")
    wire = Wire([respond(529, overloaded) for _ in range(4)])
    sleeps = Sleeps()
    messages: list[str] = []

    with pytest.raises(ProviderFailure) as caught:
        await make("anthropic", wire, sleeps).complete(request_for(), messages.append)

    failure = caught.value
    assert failure.kind == "overloaded"
    assert failure.attempts == 4
    assert "gave up after 4 attempts" in failure.message
    assert len(wire.requests) == 4
    assert len(sleeps.delays) == 3
    assert sleeps.delays[0] < sleeps.delays[1] < sleeps.delays[2]  # exponential
    assert [m.split("(attempt ")[1] for m in messages] == ["2 of 4)", "3 of 4)", "4 of 4)"]
    assert all(m.startswith("anthropic overloaded (HTTP 529)") for m in messages)


async def test_server_error_500_then_success() -> None:
    wire = Wire(
        [
            respond(500, anthropic_error("api_error", "Internal server error")),
            respond(200, anthropic_message()),
        ]
    )
    reply = await make("anthropic", wire, Sleeps()).complete(request_for())
    assert reply.attempts == 2


async def test_timeouts_are_retried_then_reported_as_timeout() -> None:
    wire = Wire([httpx2.ReadTimeout("timed out") for _ in range(4)])
    with pytest.raises(ProviderFailure) as caught:
        await make("anthropic", wire, Sleeps()).complete(request_for())
    assert caught.value.kind == "timeout"
    assert "did not answer within 30 s" in caught.value.message
    assert caught.value.attempts == 4


async def test_connection_reset_is_retried() -> None:
    reset = httpx2.ReadError("[Errno 104] Connection reset by peer")
    wire = Wire([reset, respond(200, anthropic_message())])
    messages: list[str] = []
    reply = await make("anthropic", wire, Sleeps()).complete(request_for(), messages.append)
    assert reply.attempts == 2
    assert messages[0].startswith("connection to anthropic was lost (ReadError); retrying in")


async def test_reply_cut_at_max_tokens_fails_as_truncated_with_its_usage() -> None:
    cut = anthropic_message('{"answer": "use a lo', stop_reason="max_tokens", output_tokens=1024)
    wire = Wire([respond(200, cut)])
    with pytest.raises(ProviderFailure) as caught:
        await make("anthropic", wire, Sleeps()).complete(request_for(max_output_tokens=1024))
    failure = caught.value
    assert failure.kind == "truncated"
    assert "output limit of 1024 tokens" in failure.message
    assert "models.strong.max_output_tokens" in failure.message
    assert failure.usage.output_tokens == 1024
    assert failure.raw_text == '{"answer": "use a lo'


async def test_invalid_json_gets_one_repair_turn_with_the_validation_error() -> None:
    wire = Wire(
        [
            respond(200, anthropic_message("Sure! Here is the plan: use a lock.", output_tokens=9)),
            respond(200, anthropic_message(output_tokens=20)),
        ]
    )
    messages: list[str] = []
    reply = await make("anthropic", wire, Sleeps()).complete(request_for(), messages.append)

    assert reply.parsed == Verdict(**GOOD)
    assert reply.usage.output_tokens == 29  # both attempts are paid for
    assert reply.usage.input_tokens == 2400
    repair = wire.body(1)["messages"]
    assert [m["role"] for m in repair] == ["user", "assistant", "user"]
    assert repair[1]["content"] == "Sure! Here is the plan: use a lock."
    assert "Invalid JSON" in repair[2]["content"]
    assert "did not fit the Verdict schema" in messages[0]


async def test_schema_invalid_twice_fails_with_the_raw_reply_and_all_usage() -> None:
    wrong = '{"answer": "use a lock", "confidence": "high"}'
    wire = Wire([respond(200, anthropic_message(wrong)), respond(200, anthropic_message(wrong))])
    with pytest.raises(ProviderFailure) as caught:
        await make("anthropic", wire, Sleeps()).complete(request_for())
    failure = caught.value
    assert failure.kind == "invalid_reply"
    assert failure.raw_text == wrong
    assert "confidence" in failure.message
    assert failure.usage == Usage(
        input_tokens=2400, cache_write_tokens=600, cache_read_tokens=10000, output_tokens=500
    )
    assert failure.attempts == 2
    assert "confidence: Input should be a valid integer" in wire.body(1)["messages"][2]["content"]


async def test_rejected_key_names_the_variable_never_the_key() -> None:
    wire = Wire(
        [respond(401, anthropic_error("authentication_error", f"invalid x-api-key {TEST_KEY}"))]
    )
    with pytest.raises(ProviderFailure) as caught:
        await make("anthropic", wire, Sleeps()).complete(request_for())
    failure = caught.value
    assert failure.kind == "auth"
    assert "TEST_API_KEY" in failure.message and "anthropic" in failure.message
    assert TEST_KEY not in str(failure)
    assert TEST_KEY not in repr(failure)
    assert len(wire.requests) == 1  # never retried


async def test_forbidden_is_an_auth_failure_too() -> None:
    wire = Wire([respond(403, anthropic_error("permission_error", "no access to this model"))])
    with pytest.raises(ProviderFailure) as caught:
        await make("anthropic", wire, Sleeps()).complete(request_for())
    assert caught.value.kind == "auth"


async def test_unknown_model_is_not_found_and_names_the_setting() -> None:
    wire = Wire([respond(404, anthropic_error("not_found_error", "model: claude-sonnet-9"))])
    with pytest.raises(ProviderFailure) as caught:
        await make("anthropic", wire, Sleeps(), model="claude-sonnet-9").complete(request_for())
    assert caught.value.kind == "not_found"
    assert "'claude-sonnet-9'" in caught.value.message
    assert "models.strong.model" in caught.value.message
    assert "path" not in caught.value.message  # the default endpoint's path is right


async def test_413_suggests_a_smaller_context_budget() -> None:
    wire = Wire([respond(413, anthropic_error("request_too_large", "Request exceeds size"))])
    with pytest.raises(ProviderFailure) as caught:
        await make("anthropic", wire, Sleeps()).complete(request_for())
    assert caught.value.kind == "too_large"
    assert "context.budget_tokens" in caught.value.message


async def test_prompt_too_long_400_is_too_large() -> None:
    wire = Wire(
        [
            respond(
                400,
                anthropic_error(
                    "invalid_request_error", "prompt is too long: 215000 tokens > 200000 maximum"
                ),
            )
        ]
    )
    with pytest.raises(ProviderFailure) as caught:
        await make("anthropic", wire, Sleeps()).complete(request_for())
    assert caught.value.kind == "too_large"


async def test_other_400_is_a_bad_request_with_the_server_message() -> None:
    wire = Wire([respond(400, anthropic_error("invalid_request_error", "max_tokens: too big"))])
    with pytest.raises(ProviderFailure) as caught:
        await make("anthropic", wire, Sleeps()).complete(request_for())
    assert caught.value.kind == "bad_request"
    assert "max_tokens: too big" in caught.value.message


async def test_missing_key_fails_at_call_time_without_any_request() -> None:
    wire = Wire([])
    provider = make("anthropic", wire, Sleeps(), environ={})
    with pytest.raises(ProviderFailure) as caught:
        await provider.complete(request_for())
    assert caught.value.kind == "auth"
    assert caught.value.message.startswith("set TEST_API_KEY to your anthropic API key")
    assert wire.requests == []


async def test_base_url_override_is_used() -> None:
    wire = Wire([respond(200, anthropic_message())])
    provider = make("anthropic", wire, Sleeps(), base_url="https://gateway.example/anthropic")
    await provider.complete(request_for())
    assert str(wire.requests[0].url) == "https://gateway.example/anthropic/v1/messages"


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

    wire = Wire([hang])
    task = asyncio.create_task(make("anthropic", wire, Sleeps()).complete(request_for()))
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert handler_cancelled.is_set()


async def test_request_schema_is_the_one_messages_parse_sends() -> None:
    import anthropic

    ours = Wire([respond(200, anthropic_message())])
    await make("anthropic", ours, Sleeps()).complete(request_for())
    theirs = Wire([respond(200, anthropic_message())])
    client = anthropic.AsyncAnthropic(api_key=TEST_KEY, max_retries=0, http_client=theirs.client())
    await client.messages.parse(
        model="claude-sonnet-4-6",
        max_tokens=1024,
        messages=[{"role": "user", "content": "x"}],
        output_format=Verdict,
    )
    assert ours.body(0)["output_config"] == theirs.body(0)["output_config"]


async def test_a_stopped_local_anthropic_compatible_endpoint_is_a_connection_failure() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}"
    with pytest.raises(ProviderFailure) as caught:
        await make("anthropic", None, Sleeps(), base_url=base_url).complete(request_for())
    assert caught.value.kind == "connection"
    assert f"is the local server at {base_url} running?" in caught.value.message


async def test_sdk_environment_variables_are_not_consulted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "https://elsewhere.example")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-from-the-process-environment")
    wire = Wire([respond(200, anthropic_message())])
    await make("anthropic", wire, Sleeps()).complete(request_for())
    assert str(wire.requests[0].url).startswith("https://api.anthropic.com/")
    assert wire.requests[0].headers["authorization"] == f"Bearer {TEST_KEY}"


async def test_unreachable_remote_endpoint_points_at_network_and_base_url() -> None:
    wire = Wire([httpx2.ConnectError("[Errno -3] Temporary failure in name resolution")])
    with pytest.raises(ProviderFailure) as caught:
        await make("anthropic", wire, Sleeps()).complete(request_for())
    assert caught.value.kind == "connection"
    assert caught.value.message == (
        "could not connect to https://api.anthropic.com: check the network and "
        "models.strong.base_url (https://api.anthropic.com)"
    )
