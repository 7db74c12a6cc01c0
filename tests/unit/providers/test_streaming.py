"""Replies stream on every SDK provider: the text reaches the meter (and the user's progress) as it
arrives, usage comes from the final stream event or is counted (and marked so) where a server
omits it, a stream cut mid-reply or an error event ends in a clear failure, and cancelling a
stream closes the connection with the usage known so far."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx2
import pytest
from provider_wire import (
    GOOD_TEXT,
    Sleeps,
    Verdict,
    Wire,
    anthropic_message,
    cancel_when_ready,
    chat_body,
    make,
    openai_error,
    request_for,
    respond,
    responses_body,
)
from wire_stream import chat_chunks, sse

from tandem.cost.estimate import count_request_tokens
from tandem.cost.tokens import count_tokens
from tandem.providers.base import CallMeter, LiveMessage, ProviderFailure
from tandem.values import Usage

REPLIES = {
    "anthropic": (anthropic_message(), ""),
    "openai": (responses_body(), "/v1"),
    "openai-compatible": (chat_body(), "/v1"),
}


class Ticks:
    """A clock that moves one second per reading."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


@pytest.mark.parametrize("provider", list(REPLIES))
async def test_each_provider_streams_and_reports_tokens_and_time(provider: str) -> None:
    body, _ = REPLIES[provider]
    wire = Wire([respond(200, body)])
    seen: list[str] = []
    meter = CallMeter("plan", seen.append, every_s=0, clock=Ticks())
    subject = make(provider, wire, Sleeps(), model="m")
    reply = await subject.complete(request_for(), meter=meter)

    sent = wire.body(0)
    assert sent["stream"] is True
    if provider == "openai-compatible":
        assert sent["stream_options"] == {"include_usage": True}
    assert reply.parsed == Verdict.model_validate_json(GOOD_TEXT)
    assert not reply.usage.counted
    assert seen, "no progress while the reply streamed"
    assert seen[0].startswith("plan: ") and seen[0].endswith(" s")
    assert all(isinstance(message, LiveMessage) for message in seen)  # redrawn in place
    assert seen[-1] == f"plan: {count_tokens(GOOD_TEXT)} tokens received, {len(seen)}.0 s"
    assert meter.settled == reply.usage


async def test_a_stream_without_usage_is_counted_as_estimates_count_and_marked() -> None:
    body = chat_body()
    del body["usage"]  # llama-cpp-python's server sends no usage chunk
    wire = Wire([respond(200, body)])
    subject = make("openai-compatible", wire, Sleeps(), model="m", api_key_env=None)
    request = request_for()
    reply = await subject.complete(request)
    prompt = count_request_tokens(
        "o200k_base",
        system=request.system,
        user=request.user,
        output_schema=Verdict.model_json_schema(),
    )
    assert reply.usage == Usage(
        input_tokens=prompt, output_tokens=count_tokens(GOOD_TEXT), counted=True
    )


def cut_after(events: bytes) -> httpx2.Response:
    """A 200 stream that delivers ``events`` and then breaks, as a server that dies does."""

    class Broken(httpx2.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            if events:
                yield events
            raise httpx2.RemoteProtocolError("peer closed connection without sending the body")

    return httpx2.Response(200, headers={"content-type": "text/event-stream"}, stream=Broken())


async def test_a_stream_cut_mid_reply_is_retried_once_and_its_partial_tokens_are_counted() -> None:
    head = sse(chat_chunks(chat_body('{"answer": "use'))[:-3])  # no finish, usage, [DONE]
    wire = Wire([cut_after(head), respond(200, chat_body())])
    seen: list[str] = []
    subject = make("openai-compatible", wire, Sleeps(), model="m", api_key_env=None)
    reply = await subject.complete(request_for(), seen.append)
    assert "connection to openai-compatible was lost (RemoteProtocolError)" in seen[0]
    assert all(wire.body(i)["stream"] is True for i in range(2))  # it had begun: stream again
    partial = reply.usage.output_tokens - 120
    assert partial == count_tokens('{"answer": "use') and reply.usage.counted


EMPTY = httpx2.Response(
    200, headers={"content-type": "text/event-stream"}, content=sse([(None, "[DONE]")])
)


@pytest.mark.parametrize("first", [cut_after(b""), EMPTY], ids=["cut", "empty"])
async def test_a_stream_ended_before_any_chunk_is_asked_again_without_streaming(
    first: httpx2.Response,
) -> None:
    too_long = openai_error(
        "This model's maximum context length is 512 tokens. However, you requested 3031 tokens",
        "invalid_request_error",
    )
    wire = Wire([first, respond(400, too_long)])
    subject = make("openai-compatible", wire, Sleeps(), model="m", api_key_env=None)
    with pytest.raises(ProviderFailure) as caught:
        await subject.complete(request_for())
    assert "stream" not in wire.body(1)  # so the server can say why, as a plain reply
    assert caught.value.kind == "too_large"
    assert "start the server with a larger context window" in caught.value.message
    assert caught.value.usage == Usage()  # nothing came back: nothing spent


async def test_an_error_event_mid_stream_names_the_cause_without_retrying() -> None:
    events = sse([(None, {"error": {"message": "the context size was exceeded", "code": 400}})])
    wire = Wire(
        [httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=events)]
    )
    subject = make("openai-compatible", wire, Sleeps(), model="m", api_key_env=None)
    with pytest.raises(ProviderFailure) as caught:
        await subject.complete(request_for())
    assert caught.value.kind == "too_large"
    assert "(mid-reply: the context size was exceeded)" in caught.value.message
    assert len(wire.requests) == 1


async def test_anthropic_overloaded_mid_stream_is_retried() -> None:
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    first = httpx2.Response(
        200, headers={"content-type": "text/event-stream"}, content=sse([("error", error)])
    )
    wire = Wire([first, respond(200, anthropic_message())])
    seen: list[str] = []
    reply = await make("anthropic", wire, Sleeps()).complete(request_for(), seen.append)
    assert reply.attempts == 2
    assert "anthropic reported an error mid-reply (Overloaded)" in seen[0]


@pytest.mark.parametrize("provider", list(REPLIES))
async def test_cancelling_mid_stream_closes_it_with_the_usage_known_so_far(provider: str) -> None:
    body, path = REPLIES[provider]
    events = _stream_of(body)
    head, sent_all = events[:3], asyncio.Event()
    closed_by_client = asyncio.Event()

    async def stalling_server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        length = int(request.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        await reader.readexactly(length)
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"transfer-encoding: chunked\r\n\r\n"
        )
        payload = sse(head)
        writer.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
        await writer.drain()
        sent_all.set()
        while await reader.read(65536):  # b"": the client closed the connection
            pass
        closed_by_client.set()
        writer.close()

    server = await asyncio.start_server(stalling_server, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    base_url = f"http://127.0.0.1:{port}{path}"
    subject = make(provider, None, Sleeps(), model="m", base_url=base_url)
    meter = CallMeter("plan", None)
    call = subject.complete(request_for(), meter=meter)
    await cancel_when_ready(call, lambda: bool(meter.text), closed_by_client, server)
    spent = meter.so_far()
    assert spent.counted and spent.output_tokens == count_tokens(meter.text) > 0
    if provider == "anthropic":  # message_start reported the input: kept as reported
        assert (spent.input_tokens, spent.cache_read_tokens) == (1200, 5000)
    else:
        assert spent.input_tokens > 0


def _stream_of(body: dict[str, object]) -> list[tuple[str | None, object]]:
    from wire_stream import anthropic_events, responses_events

    if body.get("type") == "message":
        return anthropic_events(body)
    if body.get("object") == "response":
        return responses_events(body)
    return chat_chunks(body)


def test_stream_events_round_trip_the_reply_text() -> None:
    text = "".join(
        json.loads(payload)["choices"][0]["delta"].get("content") or ""
        for name, payload in [
            (n, json.dumps(d)) for n, d in chat_chunks(chat_body()) if d != "[DONE]"
        ]
        if json.loads(payload)["choices"]
    )
    assert text == GOOD_TEXT
