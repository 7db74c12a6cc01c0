"""``tandem doctor``'s checks of OpenAI-compatible servers: they answer, list the model, and
(only with ``--probe``, a model call) which structured-output mode they take."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tandem.config import ModelSettings, Settings
from tandem.reports.doctor import Check

PROBE_NOTICE = (
    "--probe: sending one small structured request (a model call) to each openai-compatible model"
)


def compatible_models(settings: Settings) -> dict[str, ModelSettings]:
    return {a: m for a, m in settings.models.items() if m.provider == "openai-compatible"}


async def server_checks(
    settings: Settings,
    environ: Mapping[str, str],
    *,
    probe: bool = False,
    http_client: Any = None,
) -> list[Check]:
    """One check per openai-compatible alias (and one probe each with ``probe``)."""
    from tandem.providers.openai_compatible import LOCAL_DEFAULT_BASE_URL
    from tandem.providers.server_models import served_models

    checks: list[Check] = []
    probed: dict[tuple[str, str, str], str] = {}  # (base_url, model, mode setting) -> alias
    for alias, model in compatible_models(settings).items():
        base_url = (model.base_url or LOCAL_DEFAULT_BASE_URL).rstrip("/")
        key = environ.get(model.api_key_env) if model.api_key_env else None
        served = await served_models(base_url, key, http_client=http_client)
        name = f"server {alias}"
        if not served.answered:
            checks.append(
                Check(
                    name,
                    False,
                    f"{base_url} {served.problem}",
                    f"start the server, or point models.{alias}.base_url at the address it "
                    "listens on",
                )
            )
            continue
        if served.problem is not None:
            checks.append(Check(name, True, f"{base_url} {served.problem}; model not checked"))
        elif served.serves(model.model):
            checks.append(Check(name, True, f"{base_url} answers and serves {model.model}"))
        else:
            listed = ", ".join(served.names[:10]) or "nothing"
            checks.append(
                Check(
                    name,
                    False,
                    f"{base_url} answers but does not list {model.model!r} (it lists: {listed})",
                    f"set models.{alias}.model to one of the names it lists",
                )
            )
        if probe:
            same = (base_url, model.model, model.structured_output)
            if same in probed:
                checks.append(Check(f"probe {alias}", True, f"as for {probed[same]}"))
                continue
            probed[same] = alias
            checks.append(await _probe(alias, model, environ, http_client))
    return checks


async def _probe(
    alias: str, model: ModelSettings, environ: Mapping[str, str], http_client: Any
) -> Check:
    from tandem.providers.openai_compatible import OpenAICompatibleProvider
    from tandem.providers.registry import build_provider
    from tandem.providers.server_models import probe

    provider = build_provider(alias, model, environ, http_client=http_client)
    assert isinstance(provider, OpenAICompatibleProvider)
    result = await probe(provider)
    spent = f"{result.usage.total_input_tokens} in / {result.usage.output_tokens} out tokens"
    if result.usage.counted:
        spent += ", counted by Tandem: the server reports no usage in its stream"
    if result.mode is None:
        return Check(
            f"probe {alias}",
            False,
            f"no structured-output mode gave a valid reply ({spent}): {result.failure}",
            f"check the server's log; models.{alias}.structured_output picks a mode",
        )
    refused = ", ".join(result.refused)
    note = f"; {refused} refused" if refused else ""
    setting = model.structured_output
    chosen = "" if setting == "auto" else f" (set by models.{alias}.structured_output)"
    return Check(
        f"probe {alias}",
        True,
        f"structured output {result.mode!r} works{chosen}{note} ({spent})",
    )
