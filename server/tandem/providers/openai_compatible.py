"""Chat Completions with a JSON-schema ``response_format``, for OpenAI-compatible servers.

Ollama, vLLM, llama.cpp server, LM Studio and LiteLLM-style gateways speak this dialect, so
``chat.completions.parse(..., response_format=Model)`` through the official ``openai`` SDK
(pointed at ``base_url``) reaches all of them. Local servers usually need no key: when no
``api_key_env`` is set a placeholder is sent. The wire body is read before the SDK's parser
runs so a reply that fails the schema or stops at the length limit still reports its usage.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tandem.providers.base import ModelRequest, ProviderFailure
from tandem.providers.errors import SdkErrors
from tandem.providers.openai_provider import openai_errors
from tandem.providers.structured import RawReply, SdkProvider, Turn, body_of
from tandem.providers.usage import chat_usage

PLACEHOLDER_KEY = "not-needed"
LOCAL_DEFAULT_BASE_URL = "http://localhost:11434/v1"  # Ollama's OpenAI-compatible endpoint


class OpenAICompatibleProvider(SdkProvider):
    name = "openai-compatible"
    default_base_url = LOCAL_DEFAULT_BASE_URL
    any_server = True

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

    async def _send(self, client: Any, request: ModelRequest, turns: list[Turn]) -> RawReply:
        messages: list[dict[str, str]] = [{"role": "system", "content": request.system}]
        messages += [{"role": turn.role, "content": turn.text} for turn in turns]
        raw = await client.chat.completions.with_raw_response.parse(
            model=self.model,
            messages=messages,
            max_tokens=request.max_output_tokens,
            response_format=request.output_type,
        )
        body = body_of(raw.http_response.json())
        choices = body.get("choices") or [{}]
        choice = choices[0] if isinstance(choices[0], Mapping) else {}
        message = body_of(choice.get("message"))
        text = str(message.get("content") or "")
        refusal = message.get("refusal")
        finish = choice.get("finish_reason")
        if finish == "content_filter":
            refusal = refusal or "the reply was stopped by the content filter"

        async def parse() -> Any:
            return raw.parse().choices[0].message.parsed

        return RawReply(
            text=text,
            usage=chat_usage(body_of(body.get("usage"))),
            truncated=finish == "length",
            refusal=str(refusal) if refusal else None,
            parse=parse,
        )
