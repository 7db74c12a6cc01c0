"""Chat Completions for OpenAI-compatible servers, in the structured-output mode each one takes.

Ollama, vLLM, llama.cpp's servers, LM Studio and LiteLLM-style gateways speak this dialect through
the official ``openai`` SDK pointed at ``base_url``, but differ in how a reply can be held to a
schema (:mod:`tandem.providers.dialects`). With ``structured_output = "auto"`` the provider starts
from the mode remembered for this server and model (:mod:`tandem.providers.mode_memory`, else the
strongest), and when the server refuses a request (any other 4xx, or a 5xx that names
``response_format``) it sends it again once in the next mode, tells the user, and remembers what
worked. A mode set by the user is never changed. Local servers usually need no key: when no
``api_key_env`` is set a placeholder is sent. The reply is validated here against the full schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tandem.providers.base import (
    CallMeter,
    ModelRequest,
    ProviderFailure,
)
from tandem.providers.dialects import MODES, StructuredMode, next_mode, reply_json, request_options
from tandem.providers.errors import EmptyStream, SdkErrors
from tandem.providers.mode_memory import recalled_mode, remember_mode
from tandem.providers.openai_provider import openai_errors
from tandem.providers.structured import RawReply, SdkProvider, Turn, body_of
from tandem.providers.usage import chat_usage

PLACEHOLDER_KEY = "not-needed"
LOCAL_DEFAULT_BASE_URL = "http://localhost:11434/v1"  # Ollama's OpenAI-compatible endpoint


class OpenAICompatibleProvider(SdkProvider):
    name = "openai-compatible"
    default_base_url = LOCAL_DEFAULT_BASE_URL
    any_server = True

    def __init__(self, *, structured_output: str = "auto", **common: Any) -> None:
        super().__init__(**common)
        self.structured_output = structured_output
        fixed = next((mode for mode in MODES if mode == structured_output), None)
        self._recalled = None if fixed else recalled_mode(self.base_url, self.model)
        self.mode: StructuredMode = fixed or self._recalled or MODES[0]
        self._refusals: list[str] = []

    def start_from_strongest(self) -> None:
        """Under ``auto``, try the strongest mode first next time, whatever is remembered."""
        if self.structured_output == "auto":
            self.mode = MODES[0]
            self._refusals = []

    def _missing_key(self) -> ProviderFailure | None:
        if self._key_env is None:
            return None  # a local server: the placeholder key is sent
        return super()._missing_key()

    def _make_client(self, api_key: str) -> tuple[Any, SdkErrors]:
        import openai

        # the SDK would add OPENAI_ORG_ID / OPENAI_PROJECT_ID from the environment: those belong
        # to OpenAI, not to a local server or someone else's gateway (Omit removes a header)
        no_openai_ids: dict[str, Any] = {
            "OpenAI-Organization": openai.Omit(),
            "OpenAI-Project": openai.Omit(),
        }
        client = openai.AsyncOpenAI(
            api_key=api_key or PLACEHOLDER_KEY,
            base_url=self.base_url,
            timeout=self._timeout_s,
            max_retries=0,  # every retry goes through tandem.providers.retry, visibly
            http_client=self._http_client,
            default_headers=no_openai_ids,
        )
        return client, openai_errors()

    def _fall_back(self, failure: ProviderFailure) -> str | ProviderFailure:
        if failure.kind != "bad_request":
            return failure
        setting = self.context.setting("structured_output")
        if self.structured_output != "auto":
            return _reworded(
                failure,
                f"{failure.message}; {setting} is {self.mode!r}: if the server cannot take that "
                "mode, set it to 'auto' to let Tandem find one it takes",
            )
        following = next_mode(self.mode)
        if following is None:
            tried = ", ".join([*self._refusals, self.mode])
            return _reworded(
                failure,
                f"{failure.message}; the server refused every structured-output mode "
                f"({tried}): check the server's log and {setting}",
            )
        self._refusals.append(self.mode)
        notice = (
            f"{self.base_url} refused structured output {self.mode!r} for {self.model} "
            f"({failure.message}); sending it again as {following!r}"
        )
        self.mode = following
        return notice

    def _succeeded(self) -> tuple[str, ...]:
        if self.structured_output != "auto" or self.mode == self._recalled:
            return ()
        earlier, self._recalled = self._recalled, self.mode
        if not self._refusals and earlier is None:
            return ()  # the strongest mode works from the start: nothing to remember or say
        where = remember_mode(self.base_url, self.model, self.mode)
        kept = f"remembered in {where}" if where else "could not be remembered"
        refused = f"{', '.join(self._refusals)} refused" if self._refusals else f"was {earlier!r}"
        self._refusals = []
        return (
            f"structured output for {self.model} at {self.base_url}: {self.mode!r} works "
            f"({refused}); {kept}; set {self.context.setting('structured_output')} "
            "to choose a mode yourself",
        )

    def _call_begins(self) -> None:
        self._stream = True  # each call starts streamed (see _streamed)

    async def _send(
        self, client: Any, request: ModelRequest, turns: list[Turn], meter: CallMeter
    ) -> RawReply:
        mode = self.mode
        system, options = request_options(mode, request.output_type, request.system)
        messages: list[dict[str, str]] = [{"role": "system", "content": system}]
        messages += [{"role": turn.role, "content": turn.text} for turn in turns]
        call = {"model": self.model, "messages": messages, "max_tokens": request.max_output_tokens}
        if self._stream:
            reply = await self._streamed(client, {**call, **options}, meter)
        else:
            raw = await client.chat.completions.with_raw_response.create(**call, **options)
            reply = ChatReply.of_body(body_of(raw.http_response.json()))
        text = reply_json(mode, reply.message)
        refusal = reply.message.get("refusal")
        if reply.finish == "content_filter":
            refusal = refusal or "the reply was stopped by the content filter"
        output_type = request.output_type

        async def parse() -> Any:
            return output_type.model_validate_json(text) if text else None

        return RawReply(
            text=text,
            usage=chat_usage(reply.usage) if reply.usage is not None else None,
            truncated=reply.finish == "length",
            refusal=str(refusal) if refusal else None,
            parse=parse,
        )

    async def _streamed(self, client: Any, call: dict[str, Any], meter: CallMeter) -> ChatReply:
        """The reply streamed, usage from its final chunk (``include_usage``). A server that
        ends or breaks the stream before any chunk (llama-cpp-python does, on a prompt longer
        than its window) is asked the next time without streaming, so that it can say why."""
        reply = ChatReply()
        stream = await client.chat.completions.create(
            **call, stream=True, stream_options={"include_usage": True}
        )
        async with stream:
            try:
                async for chunk in stream:
                    reply.chunks += 1
                    meter.answered()  # the server has read the prompt and begun its reply
                    await meter.received(reply.add(chunk.to_dict()))
            except Exception:
                if reply.chunks == 0:
                    self._stream = False
                raise
        if reply.chunks == 0:
            self._stream = False
            raise EmptyStream(f"{self.base_url} ended its stream without a chunk")
        return reply


def _reworded(failure: ProviderFailure, message: str) -> ProviderFailure:
    return ProviderFailure(
        failure.kind,
        message,
        failure.provider,
        failure.model,
        attempts=failure.attempts,
        usage=failure.usage,
        raw_text=failure.raw_text,
    )


@dataclass
class ChatReply:
    """A Chat Completions reply, whole or put together from its stream's chunks."""

    message: dict[str, Any] = field(default_factory=dict)
    finish: str | None = None
    usage: Mapping[str, Any] | None = None
    chunks: int = 0
    _calls: dict[int, str] = field(default_factory=dict)

    @classmethod
    def of_body(cls, body: Mapping[str, Any]) -> ChatReply:
        choices = body.get("choices") or [{}]
        choice = choices[0] if isinstance(choices[0], Mapping) else {}
        usage = body.get("usage")
        return cls(
            message=dict(body_of(choice.get("message"))),
            finish=choice.get("finish_reason"),
            usage=usage if isinstance(usage, Mapping) else None,
        )

    def add(self, chunk: Mapping[str, Any]) -> str:
        """Take in one chunk; the text it adds (content or a tool call's arguments)."""
        usage = chunk.get("usage")
        if isinstance(usage, Mapping):
            self.usage = usage
        added = ""
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, Mapping) or choice.get("index", 0) != 0:
                continue
            self.finish = choice.get("finish_reason") or self.finish
            delta = body_of(choice.get("delta"))
            for key in ("content", "refusal"):
                if delta.get(key):
                    self.message[key] = str(self.message.get(key) or "") + str(delta[key])
                    added += str(delta[key])
            for call in delta.get("tool_calls") or []:
                function = body_of(call.get("function")) if isinstance(call, Mapping) else {}
                if function.get("arguments"):
                    index = int(call.get("index") or 0)
                    self._calls[index] = self._calls.get(index, "") + str(function["arguments"])
                    added += str(function["arguments"])
        if self._calls:
            self.message["tool_calls"] = [
                {"function": {"arguments": self._calls[index]}} for index in sorted(self._calls)
            ]
        return added
