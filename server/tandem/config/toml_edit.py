"""Dotted settings written into a TOML settings file with comments and layout kept (tomlkit).

tomlkit round-trips a document byte for byte apart from the values it changes, so a user's
comments, ordering and spacing survive ``tandem advise --apply``; the standard library's tomllib
only reads. In ``pyproject.toml`` the settings live under ``[tool.tandem]``.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import Table


class TomlEditError(ValueError):
    """The settings file cannot be read, parsed or changed as asked."""


def edited_text(text: str, values: dict[str, str], *, pyproject: bool = False) -> str:
    """``text`` with each dotted setting (e.g. ``routes.review.low``) set to its value."""
    try:
        document = tomlkit.parse(text)
    except TOMLKitError as error:
        raise TomlEditError(f"not valid TOML: {error}") from None
    root: Any = document
    if pyproject:
        root = _table(_table(document, "tool"), "tandem")
    for dotted, value in values.items():
        *sections, key = dotted.split(".")
        table = root
        for name in sections:
            table = _table(table, name)
        table[key] = value
    return tomlkit.dumps(document)


def _table(parent: Any, name: str) -> Any:
    if name not in parent:
        parent[name] = tomlkit.table()
    child = parent[name]
    if not isinstance(child, Table | dict):
        raise TomlEditError(f"{name} is a value, not a table")
    return child


def unified_diff(path: Path, before: str, after: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=str(path),
            tofile=str(path),
        )
    )
