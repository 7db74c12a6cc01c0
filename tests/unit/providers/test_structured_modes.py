"""Structured output per server dialect, on the real openai SDK over a mock transport: the request
each mode sends, the fallback on a refusal (never a retry), and the memory of what worked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from provider_wire import (
    GOOD,
    GOOD_TEXT,
    Sleeps,
    Wire,
    chat_body,
    make,
    openai_error,
    request_for,
    respond,
)
from pydantic import BaseModel

from tandem.providers.base import ProviderFailure
from tandem.providers.dialects import reply_json, simplify_schema
from tandem.providers.mode_memory import memory_file, recalled_mode
from tandem.providers.openai_compatible import OpenAICompatibleProvider

LOCAL = "http://127.0.0.1:8000/v1"

# llama-cpp-python 0.3.36's real answer to a json_schema response_format (HTTP 500)
LLAMA_CPP_PYTHON_500 = openai_error(
    "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
    "'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema'}",
    "internal_server_error",
)


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TANDEM_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _local(wire: Wire, **options: Any) -> OpenAICompatibleProvider:
    provider = make(
        "openai-compatible",
        wire,
        Sleeps(),
        model="smollm2",
        api_key_env=None,
        base_url=LOCAL,
        **options,
    )
    assert isinstance(provider, OpenAICompatibleProvider)
    return provider


def tool_body(arguments: str) -> dict[str, Any]:
    body = chat_body("")
    body["choices"][0]["message"] = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "Verdict", "arguments": arguments},
            }
        ],
    }
    body["choices"][0]["finish_reason"] = "tool_calls"
    return body


async def test_a_500_naming_response_format_falls_back_at_once_and_is_remembered() -> None:
    wire = Wire([respond(500, LLAMA_CPP_PYTHON_500), respond(200, chat_body(GOOD_TEXT))])
    sleeps_seen: list[str] = []
    provider = _local(wire)
    reply = await provider.complete(request_for(), sleeps_seen.append)

    assert len(wire.requests) == 2  # no retry of the refused form
    assert wire.body(0)["response_format"]["type"] == "json_schema"
    second = wire.body(1)
    assert second["response_format"]["type"] == "json_object"
    schema = second["response_format"]["schema"]
    assert set(schema["properties"]) == {"answer", "confidence"}
    assert "JSON Schema" in second["messages"][0]["content"]
    assert reply.parsed.model_dump() == GOOD
    assert reply.attempts == 2
    assert any("sending it again as 'json_object'" in line for line in sleeps_seen)
    assert len(reply.notices) == 1
    assert "'json_object' works" in reply.notices[0]
    assert str(memory_file()) in reply.notices[0]
    assert recalled_mode(LOCAL, "smollm2") == "json_object"

    again = Wire([respond(200, chat_body(GOOD_TEXT))])
    later = _local(again)
    second_reply = await later.complete(request_for())
    assert again.body(0)["response_format"]["type"] == "json_object"
    assert second_reply.notices == ()


async def test_a_mode_set_by_the_user_is_never_changed() -> None:
    wire = Wire([respond(500, LLAMA_CPP_PYTHON_500)])
    provider = _local(wire, structured_output="json_schema")
    with pytest.raises(ProviderFailure) as caught:
        await provider.complete(request_for())
    assert caught.value.kind == "bad_request"
    assert len(wire.requests) == 1
    assert "HTTP 500" in caught.value.message
    assert "models.strong.structured_output is 'json_schema'" in caught.value.message
    assert not memory_file().exists()


async def test_a_server_refusing_every_mode_fails_once_through_the_list() -> None:
    refusal = openai_error("unsupported parameter", "invalid_request_error")
    wire = Wire([respond(400, refusal) for _ in range(4)])
    provider = _local(wire)
    with pytest.raises(ProviderFailure) as caught:
        await provider.complete(request_for())
    assert len(wire.requests) == 4
    assert [("response_format" in wire.body(i), "tools" in wire.body(i)) for i in range(4)] == [
        (True, False),
        (True, False),
        (False, True),
        (False, False),
    ]
    assert "refused every structured-output mode (json_schema, json_object, tools, prompt)" in (
        caught.value.message
    )


async def test_an_ordinary_server_error_is_still_retried_not_a_fallback() -> None:
    wire = Wire([respond(503, openai_error("busy", "server_error")), respond(200, chat_body())])
    provider = _local(wire)
    reply = await provider.complete(request_for())
    assert wire.body(1)["response_format"]["type"] == "json_schema"
    assert reply.notices == ()


async def test_context_too_long_is_not_a_fallback() -> None:
    too_long = {
        "error": {
            "code": 400,
            "message": "request (3031 tokens) exceeds the available context size (2048 tokens)",
            "type": "exceed_context_size_error",
        }
    }
    wire = Wire([respond(400, too_long)])
    with pytest.raises(ProviderFailure) as caught:
        await _local(wire).complete(request_for())
    assert caught.value.kind == "too_large"
    assert len(wire.requests) == 1


async def test_tools_mode_reads_the_forced_call() -> None:
    wire = Wire([respond(200, tool_body(GOOD_TEXT))])
    reply = await _local(wire, structured_output="tools").complete(request_for())
    body = wire.body(0)
    assert body["tool_choice"] == {"type": "function", "function": {"name": "Verdict"}}
    assert body["tools"][0]["function"]["name"] == "Verdict"
    assert "response_format" not in body
    assert reply.parsed.model_dump() == GOOD


async def test_prompt_mode_takes_the_object_out_of_a_fenced_reply() -> None:
    fenced = f"Here you go:\n```json\n{GOOD_TEXT}\n```"
    wire = Wire([respond(200, chat_body(fenced))])
    reply = await _local(wire, structured_output="prompt").complete(request_for())
    body = wire.body(0)
    assert "response_format" not in body and "tools" not in body
    assert body["messages"][0]["content"].startswith("You plan code changes.\n\nReply with only")
    assert reply.parsed.model_dump() == GOOD


async def test_the_full_schema_still_judges_a_reply_in_a_weak_mode() -> None:
    wire = Wire([respond(200, chat_body('{"answer": "x"}')), respond(200, chat_body('{"a": 1}'))])
    with pytest.raises(ProviderFailure) as caught:
        await _local(wire, structured_output="json_object").complete(request_for())
    assert caught.value.kind == "invalid_reply"
    assert caught.value.raw_text == '{"a": 1}'


class Inner(BaseModel):
    note: str | None
    count: int | str


class Outer(BaseModel):
    items: list[Inner]
    lead: Inner


def test_simplified_schemas_inline_definitions_and_drop_any_of() -> None:
    simple = simplify_schema(Outer.model_json_schema())
    text = json.dumps(simple)
    assert "$ref" not in text and "$defs" not in text and "anyOf" not in text
    inner = simple["properties"]["lead"]
    assert inner["properties"]["note"] == {"type": ["string", "null"]}
    assert inner["properties"]["count"] == {"type": ["integer", "string"]}
    assert simple["properties"]["items"]["items"] == inner


def test_reply_json_falls_back_to_content_when_no_tool_was_called() -> None:
    assert reply_json("tools", {"content": f"sure: {GOOD_TEXT}"}) == GOOD_TEXT
    assert reply_json("json_schema", {"content": GOOD_TEXT}) == GOOD_TEXT
