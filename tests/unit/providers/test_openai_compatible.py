"""The OpenAI-compatible provider (Ollama, vLLM, llama.cpp, LM Studio, gateways) on the real openai
SDK: over a mock transport for replies, and over a real loopback port for a refused connection."""

from __future__ import annotations

import socket

import pytest
from provider_wire import (
    TEST_KEY,
    Sleeps,
    Wire,
    chat_body,
    make,
    openai_error,
    request_for,
    respond,
)

from tandem.providers.base import ProviderFailure
from tandem.values import Usage

LOCAL = "http://localhost:11434/v1"


async def test_local_server_without_key_variable_gets_a_placeholder_key() -> None:
    wire = Wire([respond(200, chat_body())])
    provider = make(
        "openai-compatible",
        wire,
        Sleeps(),
        model="qwen2.5-coder:7b",
        api_key_env=None,
        base_url=LOCAL,
        environ={},
    )
    reply = await provider.complete(request_for(max_output_tokens=512))

    sent = wire.requests[0]
    body = wire.body(0)
    assert str(sent.url) == f"{LOCAL}/chat/completions"
    assert sent.headers["authorization"] == "Bearer not-needed"
    assert body["model"] == "qwen2.5-coder:7b"
    assert body["max_tokens"] == 512
    assert body["messages"][0] == {"role": "system", "content": "You plan code changes."}
    assert body["messages"][1] == {"role": "user", "content": "Make the counter thread-safe."}
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["name"] == "Verdict"
    assert set(fmt["json_schema"]["schema"]["properties"]) == {"answer", "confidence"}
    assert reply.provider == "openai-compatible"
    assert reply.usage == Usage(
        input_tokens=800 - 256, cache_read_tokens=256, output_tokens=120, reasoning_tokens=30
    )


async def test_gateway_key_comes_from_the_named_variable() -> None:
    wire = Wire([respond(200, chat_body())])
    provider = make(
        "openai-compatible",
        wire,
        Sleeps(),
        model="anthropic/claude-haiku-4-5",
        base_url="https://llm-gateway.internal/v1",
    )
    await provider.complete(request_for())
    assert wire.requests[0].headers["authorization"] == f"Bearer {TEST_KEY}"


async def test_named_key_variable_that_is_unset_fails_as_auth() -> None:
    provider = make("openai-compatible", Wire([]), Sleeps(), model="m", base_url=LOCAL, environ={})
    with pytest.raises(ProviderFailure) as caught:
        await provider.complete(request_for())
    assert caught.value.kind == "auth"
    assert "TEST_API_KEY" in caught.value.message


async def test_server_without_usage_details_reports_plain_counts() -> None:
    body = chat_body()
    body["usage"] = {"prompt_tokens": 50, "completion_tokens": 12, "total_tokens": 62}
    wire = Wire([respond(200, body)])
    provider = make("openai-compatible", wire, Sleeps(), model="m", api_key_env=None)
    reply = await provider.complete(request_for())
    assert reply.usage == Usage(input_tokens=50, output_tokens=12)


async def test_finish_reason_length_is_truncated() -> None:
    wire = Wire([respond(200, chat_body('{"answer": "a', finish_reason="length"))])
    provider = make("openai-compatible", wire, Sleeps(), model="m", api_key_env=None)
    with pytest.raises(ProviderFailure) as caught:
        await provider.complete(request_for())
    assert caught.value.kind == "truncated"
    assert caught.value.usage.output_tokens == 120


async def test_invalid_then_repaired_sends_the_bad_reply_back() -> None:
    wire = Wire([respond(200, chat_body("```json\n{}\n```")), respond(200, chat_body())])
    provider = make("openai-compatible", wire, Sleeps(), model="m", api_key_env=None)
    reply = await provider.complete(request_for())
    assert reply.attempts == 2
    roles = [m["role"] for m in wire.body(1)["messages"]]
    assert roles == ["system", "user", "assistant", "user"]


async def test_invalid_twice_keeps_the_raw_reply() -> None:
    wire = Wire([respond(200, chat_body("{}")), respond(200, chat_body('{"answer": 1}'))])
    provider = make("openai-compatible", wire, Sleeps(), model="m", api_key_env=None)
    with pytest.raises(ProviderFailure) as caught:
        await provider.complete(request_for())
    assert caught.value.kind == "invalid_reply"
    assert caught.value.raw_text == '{"answer": 1}'
    assert caught.value.usage.output_tokens == 240


async def test_404_at_a_local_server_mentions_model_and_base_url_path() -> None:
    wire = Wire([respond(404, openai_error('model "llama9" not found', "not_found_error"))])
    provider = make(
        "openai-compatible", wire, Sleeps(), model="llama9", api_key_env=None, base_url=LOCAL
    )
    with pytest.raises(ProviderFailure) as caught:
        await provider.complete(request_for())
    assert caught.value.kind == "not_found"
    assert "and the path of models.strong.base_url" in caught.value.message


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # nothing listens here once the probe is closed


async def test_connection_refused_asks_whether_the_local_server_runs() -> None:
    base_url = f"http://127.0.0.1:{_closed_port()}/v1"
    sleeps = Sleeps()
    provider = make(
        "openai-compatible", None, sleeps, model="m", api_key_env=None, base_url=base_url
    )
    with pytest.raises(ProviderFailure) as caught:
        await provider.complete(request_for())
    failure = caught.value
    assert failure.kind == "connection"
    assert failure.message == (
        f"could not connect to {base_url}: is the local server at {base_url} running? "
        "Start it, or point models.strong.base_url at the address it listens on"
    )
    assert failure.attempts == 1
    assert sleeps.delays == []


async def test_openai_organisation_variables_are_not_sent_to_other_servers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_ORG_ID", "org-private")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-private")
    monkeypatch.setenv("OPENAI_BASE_URL", "https://elsewhere.example/v1")
    wire = Wire([respond(200, chat_body())])
    provider = make("openai-compatible", wire, Sleeps(), model="m", api_key_env=None)
    await provider.complete(request_for())
    sent = wire.requests[0]
    assert str(sent.url) == f"{LOCAL}/chat/completions"
    assert "openai-organization" not in sent.headers
    assert "openai-project" not in sent.headers


async def test_a_server_that_never_answers_times_out_after_bounded_retries() -> None:
    import asyncio

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(65536):
            pass
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    sleeps = Sleeps()
    provider = make(
        "openai-compatible",
        None,
        sleeps,
        model="m",
        api_key_env=None,
        base_url=f"http://127.0.0.1:{port}/v1",
        timeout_seconds=0.2,
    )
    try:
        with pytest.raises(ProviderFailure) as caught:
            await provider.complete(request_for())
    finally:
        server.close()
        await server.wait_closed()
    assert caught.value.kind == "timeout"
    assert caught.value.attempts == 4
    assert "did not answer within 0.2 s" in caught.value.message
    assert len(sleeps.delays) == 3
