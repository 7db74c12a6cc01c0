"""Anthropic Messages API through the official ``anthropic`` SDK, streamed, with structured output.

The request carries the reply's JSON schema as ``output_config.format`` built by the SDK's own
``transform_schema`` (exactly what ``messages.parse(..., output_format=Model)`` sends). The reply
streams through the SDK's ``messages.stream`` (text to the meter as it arrives; leaving the
stream early, e.g. on a cancel, closes the connection) and we validate the final text ourselves
instead of asking the SDK to parse it: its parser raises on a reply that fails the schema (or is
cut off by ``max_tokens``), losing the usage, stop reason and raw text the ledger must record.
The SDK is imported only when the first client is built.
"""

from __future__ import annotations

from typing import Any

from tandem.providers.base import CallMeter, ModelRequest
from tandem.providers.errors import SdkErrors
from tandem.providers.structured import RawReply, SdkProvider, Turn, messages_for
from tandem.providers.usage import anthropic_usage

ANTHROPIC_BASE_URL = "https://api.anthropic.com"


class AnthropicProvider(SdkProvider):
    name = "anthropic"
    default_base_url = ANTHROPIC_BASE_URL

    def _make_client(self, api_key: str) -> tuple[Any, SdkErrors]:
        import anthropic

        client = anthropic.AsyncAnthropic(
            api_key=api_key,  # explicit: the SDK would otherwise consult env vars and profiles
            base_url=self.base_url,
            timeout=self._timeout_s,
            max_retries=0,  # every retry goes through tandem.providers.retry, visibly
            http_client=self._http_client,
        )
        errors = SdkErrors(
            status_error=anthropic.APIStatusError,
            timeout_error=anthropic.APITimeoutError,
            connection_error=anthropic.APIConnectionError,
            api_error=anthropic.APIError,
        )
        return client, errors

    async def _send(
        self, client: Any, request: ModelRequest, turns: list[Turn], meter: CallMeter
    ) -> RawReply:
        import anthropic

        schema = anthropic.transform_schema(request.output_type)
        async with client.messages.stream(
            model=self.model,
            max_tokens=request.max_output_tokens,
            system=request.system,
            messages=messages_for(turns),
            output_config={"format": {"type": "json_schema", "schema": schema}},
        ) as stream:
            async for event in stream:
                if event.type == "message_start":  # the input tokens, reported up front
                    meter.answered(anthropic_usage(event.message.usage.to_dict()))
                elif event.type == "text":
                    await meter.received(event.text)
            message = await stream.get_final_message()
        text = "".join(block.text for block in message.content if block.type == "text")
        output_type = request.output_type

        async def parse() -> Any:
            return output_type.model_validate_json(text) if text else None

        refusal = "the model declined to answer" if message.stop_reason == "refusal" else None
        return RawReply(
            text=text,
            usage=anthropic_usage(message.usage.to_dict()),
            truncated=message.stop_reason == "max_tokens",
            refusal=refusal,
            parse=parse,
        )
