"""How a Chat Completions request asks for structured output, in each mode servers understand.

Modes, strongest first (:data:`MODES`): ``json_schema`` (``response_format`` with the strict
schema: OpenAI, llama.cpp's llama-server, vLLM, LM Studio, Ollama), ``json_object``
(``response_format: {"type": "json_object", "schema": ...}``: llama-cpp-python's server, and any
server with a JSON mode; the schema is also written into the system prompt), ``tools`` (one
forced function call whose parameters are the schema) and ``prompt`` (the schema in the system
prompt, nothing else). The weaker modes get a simplified schema (``$defs`` inlined, no
``anyOf``), since the servers behind them turn it into a grammar or a model reads it; every
reply is still validated against the full schema by the caller.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal, get_args

from pydantic import BaseModel

StructuredMode = Literal["json_schema", "json_object", "tools", "prompt"]
MODES: tuple[StructuredMode, ...] = get_args(StructuredMode)


def next_mode(mode: StructuredMode) -> StructuredMode | None:
    """The mode to fall back to after ``mode``, or None after the last."""
    index = MODES.index(mode)
    return MODES[index + 1] if index + 1 < len(MODES) else None


def strict_schema(output_type: type[BaseModel]) -> dict[str, Any]:
    """The schema the openai SDK itself sends for a pydantic model (``strict`` JSON schema)."""
    import openai

    tool = openai.pydantic_function_tool(output_type)
    parameters: dict[str, Any] = dict(tool["function"].get("parameters") or {})
    return parameters


def simplify_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """``schema`` with every ``$ref`` to ``$defs`` inlined and every ``anyOf`` removed: a
    nullable ``anyOf`` becomes a type list (``["string", "null"]``), any other keeps its
    first branch. Titles are dropped (they only cost tokens)."""
    defs = schema.get("$defs") or {}

    def walk(node: Any, depth: int) -> Any:
        if depth > 20:  # a recursive model: stop inlining, accept any object there
            return {"type": "object"}
        if isinstance(node, list):
            return [walk(item, depth) for item in node]
        if not isinstance(node, Mapping):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            target = defs.get(ref.removeprefix("#/$defs/"), {})
            extra = {k: v for k, v in node.items() if k != "$ref"}
            return walk({**target, **extra}, depth + 1)
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in ("$defs", "title"):
                continue
            if key == "anyOf" and isinstance(value, list):
                out.update(_without_any_of([walk(branch, depth) for branch in value]))
                continue
            out[key] = walk(value, depth) if key != "properties" else _walk_props(value, depth)
        return out

    def _walk_props(props: Any, depth: int) -> Any:
        if not isinstance(props, Mapping):
            return props
        return {name: walk(value, depth) for name, value in props.items()}

    result: dict[str, Any] = walk(schema, 0)
    return result


def _without_any_of(branches: list[Any]) -> dict[str, Any]:
    simple = [b for b in branches if isinstance(b, Mapping)]
    types = [b.get("type") for b in simple]
    if simple and all(
        isinstance(t, str) and len(b) == 1 for t, b in zip(types, simple, strict=True)
    ):
        return {"type": types if len(types) > 1 else types[0]}
    non_null = [b for b in simple if b.get("type") != "null"]
    first = dict(non_null[0] if non_null else (simple[0] if simple else {}))
    if len(non_null) < len(simple) and isinstance(first.get("type"), str):
        first["type"] = [first["type"], "null"]
    return first


def schema_instruction(schema: Mapping[str, Any]) -> str:
    """The system-prompt paragraph that asks for a reply fitting ``schema``."""
    text = json.dumps(schema, separators=(",", ":"))
    return (
        "Reply with only one JSON object that fits this JSON Schema: no prose, no code fences.\n"
        f"{text}"
    )


def request_options(
    mode: StructuredMode, output_type: type[BaseModel], system: str
) -> tuple[str, dict[str, Any]]:
    """The system prompt and the extra ``chat.completions.create`` arguments for ``mode``."""
    name = output_type.__name__
    if mode == "json_schema":
        schema = strict_schema(output_type)
        fmt = {
            "type": "json_schema",
            "json_schema": {"name": name, "schema": schema, "strict": True},
        }
        return system, {"response_format": fmt}
    if mode == "tools":
        tool = {
            "type": "function",
            "function": {"name": name, "parameters": strict_schema(output_type)},
        }
        choice = {"type": "function", "function": {"name": name}}
        return system, {"tools": [tool], "tool_choice": choice}
    simple = simplify_schema(output_type.model_json_schema())
    prompted = f"{system}\n\n{schema_instruction(simple)}" if system else schema_instruction(simple)
    if mode == "json_object":
        return prompted, {"response_format": {"type": "json_object", "schema": simple}}
    return prompted, {}


def reply_json(mode: StructuredMode, message: Mapping[str, Any]) -> str:
    """The JSON text of a reply message: a forced tool call's arguments in ``tools`` mode (its
    content when the server answered in text instead), else the content, with any code fence or
    prose around the object taken off in ``prompt`` mode."""
    content = str(message.get("content") or "")
    if mode == "tools":
        for call in message.get("tool_calls") or []:
            function = call.get("function") if isinstance(call, Mapping) else None
            if isinstance(function, Mapping) and function.get("arguments"):
                return str(function["arguments"])
    if mode in ("prompt", "tools"):
        return _object_in(content)
    return content


def _object_in(text: str) -> str:
    start, end = text.find("{"), text.rfind("}")
    return text[start : end + 1] if 0 <= start < end else text
