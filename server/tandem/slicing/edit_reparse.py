"""Reparsing after an edit: tree-sitter's incremental reparse of a whole document, and the
cheaper re-read of only the top-level items around an edit.

An editor buffer is re-read around each edit only: the edit is found by comparing the old and
new text (so any sequence of client edits, in any position encoding, is one edit), and only the
top-level items around it are parsed again. A whole-file reparse of a large file, even an
incremental one, costs tens of milliseconds; the items around an edit cost well under one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from tandem.slicing.extract import extract_units, parse, units_from_tree
from tandem.slicing.languages import FAMILY, LanguageName, language_for_path
from tandem.slicing.units import FileUnits, Unit, is_test_file

if TYPE_CHECKING:
    from tree_sitter import Tree


@dataclass(frozen=True)
class TextEdit:
    """One edit in byte offsets and (row, column-in-bytes) points, as tree-sitter wants them."""

    start_byte: int
    old_end_byte: int
    new_end_byte: int
    start_point: tuple[int, int]
    old_end_point: tuple[int, int]
    new_end_point: tuple[int, int]


class Document:
    """An open document kept parsed; each edit reparses incrementally from the old tree."""

    def __init__(self, path: str, text: str, language: LanguageName | None = None) -> None:
        lang = language or language_for_path(path)
        if lang is None:
            from tandem.slicing.languages import UnsupportedLanguage

            raise UnsupportedLanguage(path)
        self.path = path
        self.language: LanguageName = lang
        self.data = text.encode("utf-8")
        self.tree: Tree = parse(self.data, lang)

    def apply(self, new_text: str, edit: TextEdit) -> Tree:
        """Apply ``edit`` (already reflected in ``new_text``) and reparse incrementally."""
        self.tree.edit(
            start_byte=edit.start_byte,
            old_end_byte=edit.old_end_byte,
            new_end_byte=edit.new_end_byte,
            start_point=edit.start_point,
            old_end_point=edit.old_end_point,
            new_end_point=edit.new_end_point,
        )
        self.data = new_text.encode("utf-8")
        self.tree = parse(self.data, self.language, old_tree=self.tree)
        return self.tree

    def units(self) -> FileUnits:
        return units_from_tree(self.path, self.data, self.language, self.tree)


def _common_prefix(old: bytes, new: bytes) -> int:
    """Length of the common prefix, by bisection on slice equality (memcmp, not a byte loop)."""
    low, high = 0, min(len(old), len(new))
    while low < high:
        middle = (low + high + 1) // 2
        if old[:middle] == new[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _common_suffix(old: bytes, new: bytes, limit: int) -> int:
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if old[len(old) - middle :] == new[len(new) - middle :]:
            low = middle
        else:
            high = middle - 1
    return low


def _point(data: bytes, offset: int) -> tuple[int, int]:
    row = data.count(b"\n", 0, offset)
    column = offset - (data.rfind(b"\n", 0, offset) + 1)
    return row, column


def edit_between(old: bytes, new: bytes) -> TextEdit | None:
    """The single edit that turns ``old`` into ``new`` (None when they are equal)."""
    if old == new:
        return None
    start = _common_prefix(old, new)
    suffix = _common_suffix(old, new, min(len(old), len(new)) - start)
    old_end, new_end = len(old) - suffix, len(new) - suffix
    return TextEdit(
        start_byte=start,
        old_end_byte=old_end,
        new_end_byte=new_end,
        start_point=_point(old, start),
        old_end_point=_point(old, old_end),
        new_end_point=_point(new, new_end),
    )


_NOT_AN_ITEM_START = frozenset(b" \t\r\n})]#@/*\"'`")
"""A line starting with one of these continues something (indentation, closing brackets,
comments, attributes, decorators, strings): no top-level item starts there."""


def _line_start(data: bytes, offset: int) -> int:
    return data.rfind(b"\n", 0, offset) + 1


def _is_cut(data: bytes, line_start: int) -> bool:
    """Whether a top-level item plausibly starts at ``line_start``: the line begins at column
    0 with a word and the line before is blank. A wrong guess makes the region's parse fail or
    a unit straddle it, and the caller then reads the whole file."""
    if line_start == 0:
        return True
    if line_start >= len(data) or data[line_start] in _NOT_AN_ITEM_START:
        return False
    previous = _line_start(data, line_start - 1)
    return not data[previous : line_start - 1].strip()


def _next_line(data: bytes, line_start: int) -> int:
    found = data.find(b"\n", line_start)
    return len(data) if found == -1 else found + 1


def _cut_at_or_before(data: bytes, line_start: int) -> int:
    while line_start > 0 and not _is_cut(data, line_start):
        line_start = _line_start(data, line_start - 1)
    return line_start


def _cut_at_or_after(data: bytes, line_start: int) -> int:
    while line_start < len(data) and not _is_cut(data, line_start):
        line_start = _next_line(data, line_start)
    return line_start


def region_around(data: bytes, start: int, end: int, margin: int = 1) -> tuple[int, int]:
    """Byte offsets of the whole top-level items covering ``start``-``end``, with ``margin``
    more items on each side (items are found with :func:`_is_cut`)."""
    low = _cut_at_or_before(data, _line_start(data, min(start, len(data))))
    for _ in range(margin):
        if low == 0:
            break
        low = _cut_at_or_before(data, _line_start(data, low - 1))
    high = _cut_at_or_after(data, _next_line(data, _line_start(data, min(end, len(data)))))
    for _ in range(margin):
        if high >= len(data):
            break
        high = _cut_at_or_after(data, _next_line(data, high))
    return low, high


def padded_region(data: bytes, start: int, end: int) -> bytes:
    """The region around ``start``-``end`` preceded by as many newlines as lines before it, so
    that it parses on its own with the file's own line numbers."""
    low, high = region_around(data, start, end)
    return b"\n" * data.count(b"\n", 0, low) + data[low:high]


def _shift(unit: Unit, rows: int) -> Unit:
    if rows == 0:
        return unit
    return replace(
        unit,
        start_line=unit.start_line + rows,
        end_line=unit.end_line + rows,
        definition_end=unit.definition_end + rows if unit.definition_end else 0,
    )


def units_after_edit(
    path: str,
    language: LanguageName,
    old_units: list[Unit],
    old_data: bytes,
    new_data: bytes,
    edit: TextEdit,
) -> list[Unit] | None:
    """The units of ``new_data`` from those of ``old_data``: the top-level items around
    ``edit`` are parsed on their own, the units before them are kept and those after shifted.

    None when the shortcut does not apply (the region does not parse cleanly, a unit straddles
    it, a JS/TS test file, whose tests are read across the whole file, or a region over half
    the file): then extract the whole file.
    """
    if FAMILY[language] == "js" and is_test_file(path, language):
        return None
    low, high = region_around(new_data, edit.start_byte, edit.new_end_byte)
    if (high - low) * 2 > len(new_data):
        return None
    rows = new_data.count(b"\n", 0, low)
    extracted = extract_units(path, b"\n" * rows + new_data[low:high], language)
    if extracted.has_errors:
        return None
    first_line = rows + 1
    last_line = new_data.count(b"\n", 0, high) + (0 if high and new_data[high - 1] == 10 else 1)
    delta = new_data.count(b"\n") - old_data.count(b"\n")
    old_last_line = last_line - delta
    before: list[Unit] = []
    after: list[Unit] = []
    for unit in old_units:
        if unit.end_line < first_line:
            before.append(unit)
        elif unit.start_line > old_last_line:
            after.append(_shift(unit, delta))
        elif unit.start_line < first_line or unit.end_line > old_last_line:
            return None  # a unit straddles the re-read region: do not guess
    return before + extracted.units + after
