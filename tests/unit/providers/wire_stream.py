"""A reply body sent as the server streams it: the same reply as server-sent events, in each API's
documented event shapes (Anthropic Messages events, Responses API events, Chat Completions chunks
with a final usage chunk), so the SDKs' own stream parsers read it as in production."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx2

Event = tuple[str | None, Any]


def pieces(text: str, parts: int = 3) -> list[str]:
    """``text`` in ``parts`` pieces (fewer when it is shorter), joined back exactly."""
    if not text:
        return []
    size = max(1, -(-len(text) // parts))
    return [text[i : i + size] for i in range(0, len(text), size)]


def sse(events: list[Event]) -> bytes:
    lines = []
    for name, data in events:
        payload = data if isinstance(data, str) else json.dumps(data)
        lines.append((f"event: {name}\n" if name else "") + f"data: {payload}\n\n")
    return "".join(lines).encode()


def anthropic_events(message: Mapping[str, Any]) -> list[Event]:
    usage = dict(message["usage"])
    start = {**message, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 1}}
    events: list[Event] = [("message_start", {"type": "message_start", "message": start})]
    for index, block in enumerate(message["content"]):
        events.append(
            (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "text", "text": ""},
                },
            )
        )
        for piece in pieces(block["text"]):
            delta = {"type": "text_delta", "text": piece}
            events.append(
                (
                    "content_block_delta",
                    {"type": "content_block_delta", "index": index, "delta": delta},
                )
            )
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    delta = {"stop_reason": message["stop_reason"], "stop_sequence": None}
    events.append(("message_delta", {"type": "message_delta", "delta": delta, "usage": usage}))
    events.append(("message_stop", {"type": "message_stop"}))
    return events


def responses_events(body: Mapping[str, Any]) -> list[Event]:
    started = {**body, "status": "in_progress", "output": [], "usage": None}
    events: list[Event] = [("response.created", {"type": "response.created", "response": started})]
    for index, item in enumerate(body["output"]):
        for part_index, part in enumerate(item.get("content") or []):
            for piece in pieces(part.get("text") or ""):
                events.append(
                    (
                        "response.output_text.delta",
                        {
                            "type": "response.output_text.delta",
                            "item_id": item["id"],
                            "output_index": index,
                            "content_index": part_index,
                            "delta": piece,
                            "logprobs": [],
                        },
                    )
                )
    final = f"response.{'completed' if body['status'] == 'completed' else body['status']}"
    events.append((final, {"type": final, "response": body}))
    return [
        (name, {**data, "sequence_number": number}) for number, (name, data) in enumerate(events)
    ]


def chat_chunks(body: Mapping[str, Any]) -> list[Event]:
    head = {key: body[key] for key in ("id", "created", "model") if key in body}
    head["object"] = "chat.completion.chunk"

    def chunk(delta: dict[str, Any], finish: str | None = None) -> Event:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return (None, {**head, "choices": [choice]})

    choice = body["choices"][0]
    message = choice["message"]
    events = [chunk({"role": "assistant", "content": ""})]
    events += [chunk({"content": piece}) for piece in pieces(message.get("content") or "")]
    if message.get("refusal"):
        events.append(chunk({"refusal": message["refusal"]}))
    for index, call in enumerate(message.get("tool_calls") or []):
        function = call["function"]
        opening = {"index": index, "id": call.get("id", f"call_{index}"), "type": "function"}
        opening["function"] = {"name": function["name"], "arguments": ""}
        events.append(chunk({"tool_calls": [opening]}))
        for piece in pieces(function.get("arguments") or ""):
            events.append(
                chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
            )
    events.append(chunk({}, choice.get("finish_reason")))
    if body.get("usage") is not None:
        events.append((None, {**head, "choices": [], "usage": body["usage"]}))
    events.append((None, "[DONE]"))
    return events


def as_stream(request: httpx2.Request, response: httpx2.Response) -> httpx2.Response:
    """``response`` as the stream the request asked for (a 200 JSON reply to a request with
    ``"stream": true``); any other response (an error, or one already a stream) is returned as it
    is."""
    try:
        asked = json.loads(request.content or b"{}").get("stream") is True
    except ValueError:
        asked = False
    json_reply = response.headers.get("content-type", "").startswith("application/json")
    if not asked or response.status_code != 200 or not json_reply:
        return response
    body = json.loads(response.content)
    if body.get("type") == "message":
        events = anthropic_events(body)
    elif body.get("object") == "response":
        events = responses_events(body)
    else:
        events = chat_chunks(body)
    headers = {"content-type": "text/event-stream"}
    return httpx2.Response(200, headers=headers, content=sse(events))
