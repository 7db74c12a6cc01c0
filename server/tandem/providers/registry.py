"""Build the provider for a model alias from its settings: the one place that reads key variables.

A missing key does NOT fail here: the provider is built and its first call raises
``ProviderFailure("auth", "set ANTHROPIC_API_KEY ...")``. That keeps ``tandem estimate`` and the
editor's cost previews working without keys, and makes a missing key a recorded, resumable step
failure like any other. The key is read from ``environ`` once, kept inside the provider, and never
logged or shown (``repr`` omits it). SDKs are imported only when a provider makes its first call.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tandem.config import ModelSettings
from tandem.providers.base import Provider
from tandem.providers.fake import FakeProvider, FakeReplies
from tandem.providers.retry import Clock, RetryPolicy, Sleep


def configured_replies(model: ModelSettings, workspace: Path) -> Path | None:
    """The canned-replies file a ``fake`` model's settings name, relative to ``workspace`` (the
    folder whose settings named it) unless absolute; None for other providers."""
    if model.provider != "fake" or not model.fake_replies:
        return None
    path = Path(model.fake_replies).expanduser()
    return path if path.is_absolute() else workspace / path


def build_provider(
    alias: str,
    model: ModelSettings,
    environ: Mapping[str, str],
    *,
    fake_replies: FakeReplies | str | Path | None = None,
    http_client: Any = None,
    policy: RetryPolicy | None = None,
    sleep: Sleep = asyncio.sleep,
    clock: Clock = time.time,
) -> Provider:
    """The provider serving ``alias``; ``http_client`` (an ``httpx2.AsyncClient``) is for tests."""
    if model.provider == "fake":
        delay = model.fake_delay_seconds
        replies = fake_replies if fake_replies is not None else model.fake_replies
        if isinstance(replies, str | Path):
            return FakeProvider.from_file(replies, model=model.model, delay_seconds=delay)
        return FakeProvider(replies or (), model=model.model, delay_seconds=delay)

    key_env = model.api_key_env
    api_key = environ.get(key_env) if key_env else None
    common: dict[str, Any] = {
        "model": model.model,
        "alias": alias,
        "api_key": api_key or None,
        "key_env": key_env,
        "base_url": model.base_url,
        "timeout_s": model.timeout_seconds,
        "http_client": http_client,
        "policy": policy,
        "sleep": sleep,
        "clock": clock,
    }
    if model.provider == "anthropic":
        from tandem.providers.anthropic_provider import AnthropicProvider

        return AnthropicProvider(**common)
    if model.provider == "openai":
        from tandem.providers.openai_provider import OpenAIProvider

        return OpenAIProvider(**common)
    from tandem.providers.openai_compatible import OpenAICompatibleProvider

    return OpenAICompatibleProvider(structured_output=model.structured_output, **common)
