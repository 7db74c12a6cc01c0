"""Client positions to the 1-based line ranges the core works in, and back.

The position encoding (utf-16 for VS Code, utf-8 for Neovim 0.10+, negotiated by pygls from
``general.positionEncodings``) only matters for characters: a range ending at character 0 of a
line does not include that line, and a range sent back ends at the line's length in the
client's units. A position past the end of the document is no position at all: ``None``.
"""

from __future__ import annotations

from collections.abc import Sequence

from lsprotocol import types
from pygls.workspace import TextDocument


def document_lines(document: TextDocument) -> Sequence[str]:
    """The document's lines (not copied); an unreadable file (deleted, not UTF-8) has none."""
    try:
        return document.lines
    except (OSError, UnicodeDecodeError):
        return []


def line_at(lines: Sequence[str], position: types.Position) -> int | None:
    """The 1-based line of ``position``, or None when it is outside the document."""
    if position.line >= len(lines):
        return None
    return position.line + 1


def line_range(lines: Sequence[str], selection: types.Range) -> tuple[int, int] | None:
    """The 1-based inclusive lines a selection covers, or None when it starts outside."""
    start, end = selection.start, selection.end
    if (end.line, end.character) < (start.line, start.character):
        start, end = end, start
    if start.line >= len(lines):
        return None
    last = min(end.line, len(lines) - 1)
    if end.line > start.line and end.character == 0 and end.line < len(lines):
        last = end.line - 1
    return start.line + 1, last + 1


def lines_range(document: TextDocument, lines: Sequence[str], start: int, end: int) -> types.Range:
    """Lines ``start``-``end`` (1-based, inclusive) as a client range, in its position units."""
    end = min(end, len(lines))
    last = lines[end - 1].rstrip("\r\n") if lines else ""
    return types.Range(
        start=types.Position(line=start - 1, character=0),
        end=types.Position(line=end - 1, character=document.position_codec.client_num_units(last)),
    )


def line_span(selection: types.Range | None, line_count: int) -> tuple[int, int]:
    """1-based inclusive lines of a selection (a selection ending at column 0 of a line stops
    before it); a cursor is its own line. No selection: the whole document. Unlike
    :func:`line_range`, a selection past the end is clamped to the last line."""
    if selection is None:
        return 1, max(line_count, 1)
    start, end = selection.start.line, selection.end.line
    if end > start and selection.end.character == 0:
        end -= 1
    last = max(line_count, 1)
    return min(start, last - 1) + 1, min(max(end, start), last - 1) + 1


def is_empty(selection: types.Range | None) -> bool:
    return selection is None or selection.start == selection.end
