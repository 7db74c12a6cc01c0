"""What an OpenAI-compatible server says about itself: its model list, and a one-field probe.

``served_models`` asks ``GET <base_url>/models`` through the official ``openai`` SDK (no model
call); ``probe`` sends one tiny structured request (a model call, made only when the user asks
for it with ``tandem doctor --probe``) and reports which structured-output mode the server took.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from tandem.providers.base import CallMeter, ModelRequest, ProviderFailure
from tandem.providers.dialects import MODES
from tandem.providers.errors import server_message
from tandem.providers.openai_compatible import PLACEHOLDER_KEY, OpenAICompatibleProvider
from tandem.values import Usage


@dataclass(frozen=True)
class ServedModels:
    """The names a server serves (ids and aliases), or why it could not say."""

    names: tuple[str, ...] = ()
    problem: str | None = None
    answered: bool = True  # False: nothing answered at all (refused, timed out)

    def serves(self, model: str) -> bool:
        """Whether ``model`` is among the names (Ollama lists ``name:latest`` for ``name``)."""
        return model in self.names or f"{model}:latest" in self.names


async def served_models(
    base_url: str, api_key: str | None, *, timeout_s: float = 5.0, http_client: Any = None
) -> ServedModels:
    import openai

    client = openai.AsyncOpenAI(
        api_key=api_key or PLACEHOLDER_KEY,
        base_url=base_url,
        timeout=timeout_s,
        max_retries=0,
        http_client=http_client,
    )
    try:
        page = await client.models.list()
    except openai.APITimeoutError:
        return ServedModels(problem=f"did not answer within {timeout_s:g} s", answered=False)
    except openai.APIConnectionError as error:
        cause = type(error.__cause__).__name__
        detail = "connection refused" if cause == "ConnectError" else f"connection: {cause}"
        return ServedModels(problem=f"does not answer ({detail})", answered=False)
    except openai.APIStatusError as error:
        said = server_message(error.body, str(error))
        return ServedModels(
            problem=f"answers, but lists no models (HTTP {error.status_code}: {said})"
        )
    finally:
        if http_client is None:  # a client handed in belongs to the caller
            await client.close()
    names: list[str] = []
    for entry in page.data:
        names.append(entry.id)
        extra: Mapping[str, Any] = entry.model_extra or {}
        aliases = extra.get("aliases")
        if isinstance(aliases, list):
            names += [str(alias) for alias in aliases if str(alias) not in names]
    return ServedModels(names=tuple(names))


class ProbeReply(BaseModel):
    """The one-field object the probe asks for."""

    ok: bool


@dataclass(frozen=True)
class ProbeResult:
    mode: str | None  # the structured-output mode that produced a valid reply
    refused: tuple[str, ...] = ()  # the stronger modes the server refused first
    usage: Usage = field(default_factory=Usage)
    notices: tuple[str, ...] = ()
    failure: str | None = None


async def probe(provider: OpenAICompatibleProvider) -> ProbeResult:
    """One small structured request, starting from the strongest mode (under ``auto``)."""
    provider.start_from_strongest()
    request = ModelRequest(
        system="You answer with JSON only.",
        user='Reply with this JSON object: {"ok": true}',
        output_type=ProbeReply,
        max_output_tokens=64,
        step="probe",
    )
    seen: list[str] = []
    first = provider.mode
    try:
        # notices only: the probe's few tokens need no running count
        reply = await provider.complete(request, seen.append, CallMeter("probe", None))
    except ProviderFailure as failure:
        return ProbeResult(None, (), failure.usage, tuple(seen), failure.message)
    finally:
        await provider.aclose()
    refused = MODES[MODES.index(first) : MODES.index(provider.mode)]
    return ProbeResult(provider.mode, refused, reply.usage, (*seen, *reply.notices))
