"""JSON-RPC values checked before pygls sees them: ids, request or notification, surrogates."""

from __future__ import annotations

import re
from typing import Any

ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
"""A JSON escape of a UTF-16 surrogate: only a body holding one can decode to a lone one."""
_SURROGATE = re.compile("[\ud800-\udfff]")


class FeatureExited(RuntimeError):
    """A feature called ``sys.exit``; only its own request fails."""


def without_lone_surrogates(value: Any) -> Any:
    """The same JSON value with every unpaired UTF-16 surrogate replaced by U+FFFD."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [without_lone_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {
            without_lone_surrogates(key): without_lone_surrogates(item)
            for key, item in value.items()
        }
    return value


def valid_id(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def message_id(value: Any) -> str | int | None:
    return value if valid_id(value) else None


def has_id_field(message_type: type) -> bool:
    """Whether an lsprotocol message class is a request (notifications have no id)."""
    return any(field.name == "id" for field in getattr(message_type, "__attrs_attrs__", ()))
