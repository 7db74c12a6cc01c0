"""JSON-RPC values checked before pygls sees them: ids, request or notification, surrogates."""

from __future__ import annotations

import json
import re
from typing import Any

ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
"""A JSON escape of a UTF-16 surrogate: only a body holding one can decode to a lone one."""
_SURROGATE = re.compile("[\ud800-\udfff]")
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]]')
_KEY_SEPARATOR = re.compile(r"\s*:\s*")


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


def top_level_id(text: str) -> str | int | None:
    """The ``id`` of a JSON object too deeply nested for the JSON parser, when it can be read.

    Scans iteratively (strings and brackets only), so any depth costs one pass and no recursion.
    """
    depth = 0
    decoder = json.JSONDecoder()
    for token in _STRING_OR_BRACKET.finditer(text):
        lexeme = token.group()
        if lexeme in "{[":
            depth += 1
        elif lexeme in "}]":
            depth -= 1
        elif depth == 1 and lexeme == '"id"':
            separator = _KEY_SEPARATOR.match(text, token.end())
            if separator is None:
                continue
            try:
                value, _ = decoder.raw_decode(text, separator.end())
            except ValueError:
                return None
            return message_id(value)
    return None


def message_id(value: Any) -> str | int | None:
    return value if valid_id(value) else None


def has_id_field(message_type: type) -> bool:
    """Whether an lsprotocol message class is a request (notifications have no id)."""
    return any(field.name == "id" for field in getattr(message_type, "__attrs_attrs__", ()))
