"""The placeholder a secret becomes, ``<<REDACTED:kind:n>>``: written, recognised and found here."""

from __future__ import annotations

import re

PLACEHOLDER = re.compile(r"<<\s*REDACTED:([a-z0-9-]+):(\d+)\s*>>")
_PLACEHOLDER_LOOSE = re.compile(r"<<\s*REDACTED\b[^>\n]{0,60}>>|\bREDACTED:[a-z0-9-]+:\d+")


def placeholder(kind: str, number: int) -> str:
    """The ``number``-th distinct secret of ``kind`` in one request."""
    return f"<<REDACTED:{kind}:{number}>>"


def find_placeholders(text: str) -> list[str]:
    """Redaction placeholders in ``text``, including ones a model mangled slightly."""
    return [match.group(0) for match in _PLACEHOLDER_LOOSE.finditer(text)]
