"""Normalise each API's usage block into ``tandem.values.Usage``, exactly as reported.

Conventions (see ``Usage``): ``input_tokens`` excludes cache reads and writes; reasoning tokens
are part of ``output_tokens``. Anthropic already reports input without cache; OpenAI's input and
prompt counts include cached tokens, so the cached part is subtracted. Nothing is estimated: a
server that reports no usage gives zeros.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tandem.values import Usage


def _int(block: Mapping[str, Any] | None, key: str) -> int:
    if not isinstance(block, Mapping):
        return 0
    value = block.get(key)
    return value if isinstance(value, int) and value > 0 else 0


def _block(block: Mapping[str, Any] | None, key: str) -> Mapping[str, Any] | None:
    if not isinstance(block, Mapping):
        return None
    inner = block.get(key)
    return inner if isinstance(inner, Mapping) else None


def anthropic_usage(usage: Mapping[str, Any] | None) -> Usage:
    """Messages API ``usage``: input already excludes cache; no separate thinking count."""
    return Usage(
        input_tokens=_int(usage, "input_tokens"),
        cache_read_tokens=_int(usage, "cache_read_input_tokens"),
        cache_write_tokens=_int(usage, "cache_creation_input_tokens"),
        output_tokens=_int(usage, "output_tokens"),
    )


def responses_usage(usage: Mapping[str, Any] | None) -> Usage:
    """Responses API ``usage``: ``input_tokens`` includes ``cached_tokens``."""
    cached = _int(_block(usage, "input_tokens_details"), "cached_tokens")
    output = _int(usage, "output_tokens")
    reasoning = _int(_block(usage, "output_tokens_details"), "reasoning_tokens")
    return Usage(
        input_tokens=max(0, _int(usage, "input_tokens") - cached),
        cache_read_tokens=cached,
        output_tokens=output,
        reasoning_tokens=min(output, reasoning),
    )


def chat_usage(usage: Mapping[str, Any] | None) -> Usage:
    """Chat Completions ``usage``: ``prompt_tokens`` includes cached tokens (when reported)."""
    cached = _int(_block(usage, "prompt_tokens_details"), "cached_tokens")
    output = _int(usage, "completion_tokens")
    reasoning = _int(_block(usage, "completion_tokens_details"), "reasoning_tokens")
    return Usage(
        input_tokens=max(0, _int(usage, "prompt_tokens") - cached),
        cache_read_tokens=cached,
        output_tokens=output,
        reasoning_tokens=min(output, reasoning),
    )
