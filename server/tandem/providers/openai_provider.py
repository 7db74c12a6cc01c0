"""OpenAI Responses API through the official ``openai`` SDK, streamed, with structured output.

The request carries the strict JSON schema exactly as ``responses.parse(..., text_format=Model)``
builds it, with ``stream=True``: text goes to the meter as it arrives, and the final event
(``response.completed`` or ``response.incomplete``) carries the whole response with its usage,
status and text, which we validate ourselves so that a reply that fails the schema or stops at
``max_output_tokens`` still reports what it cost. ``store=False``: nothing is kept server-side.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tandem.providers.base import CallMeter, ModelRequest
from tandem.providers.dialects import strict_schema
from tandem.providers.errors import SdkErrors
from tandem.providers.structured import RawReply, SdkProvider, Turn, body_of, messages_for
from tandem.providers.usage import responses_usage

OPENAI_BASE_URL = "https://api.openai.com/v1"


def openai_errors() -> SdkErrors:
    import openai

    return SdkErrors(
        status_error=openai.APIStatusError,
        timeout_error=openai.APITimeoutError,
        connection_error=openai.APIConnectionError,
        api_error=openai.APIError,
    )


def responses_text(body: Mapping[str, Any]) -> tuple[str, str | None]:
    """The output text and any refusal of a Responses API body."""
    texts: list[str] = []
    refusals: list[str] = []
    for item in body.get("output") or []:
        if not isinstance(item, Mapping) or item.get("type") != "message":
            continue
        for part in item.get("content") or []:
            if not isinstance(part, Mapping):
                continue
            if part.get("type") == "output_text":
                texts.append(str(part.get("text") or ""))
            elif part.get("type") == "refusal":
                refusals.append(str(part.get("refusal") or ""))
    return "".join(texts), ("; ".join(refusals) or None)


class OpenAIProvider(SdkProvider):
    name = "openai"
    default_base_url = OPENAI_BASE_URL

    def _make_client(self, api_key: str) -> tuple[Any, SdkErrors]:
        import openai

        client = openai.AsyncOpenAI(
            api_key=api_key,  # explicit: the SDK would otherwise read OPENAI_API_KEY
            base_url=self.base_url,
            timeout=self._timeout_s,
            max_retries=0,  # every retry goes through tandem.providers.retry, visibly
            http_client=self._http_client,
        )
        return client, openai_errors()

    async def _send(
        self, client: Any, request: ModelRequest, turns: list[Turn], meter: CallMeter
    ) -> RawReply:
        import openai

        output_type = request.output_type
        text_format = {
            "type": "json_schema",
            "name": output_type.__name__,
            "schema": strict_schema(output_type),
            "strict": True,
        }
        body: Mapping[str, Any] = {}
        stream = await client.responses.create(
            model=self.model,
            instructions=request.system,
            input=messages_for(turns),
            max_output_tokens=request.max_output_tokens,
            text={"format": text_format},
            store=False,
            stream=True,
        )
        async with stream:
            async for event in stream:
                if event.type == "response.output_text.delta":
                    await meter.received(event.delta)
                elif event.type in _FINAL_EVENTS:
                    body = body_of(event.response.to_dict())
                elif event.type == "error":
                    said = {"message": event.message, "code": event.code}
                    raise openai.APIError(str(event.message), stream.response.request, body=said)
        if body.get("status") == "failed":
            error = body_of(body.get("error"))
            message = str(error.get("message") or "the response failed")
            raise openai.APIError(message, stream.response.request, body=dict(error))
        text, refusal = responses_text(body)
        details = body.get("incomplete_details")
        reason = details.get("reason") if isinstance(details, Mapping) else None
        truncated = body.get("status") == "incomplete" and reason == "max_output_tokens"
        if body.get("status") == "incomplete" and reason == "content_filter":
            refusal = refusal or "the reply was stopped by the content filter"

        async def parse() -> Any:
            return output_type.model_validate_json(text) if text else None

        usage = body.get("usage")
        return RawReply(
            text=text,
            usage=responses_usage(body_of(usage)) if isinstance(usage, Mapping) else None,
            truncated=truncated,
            refusal=refusal,
            parse=parse,
        )


_FINAL_EVENTS = ("response.completed", "response.incomplete", "response.failed")
