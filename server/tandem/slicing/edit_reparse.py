"""Reparsing after an edit: tree-sitter's incremental reparse, then the units of only the
top-level items that the edit or the reparse changed; the units of the others are kept, or
shifted by the lines the edit added or removed.

The edit is found by comparing the old and new text (so any sequence of client edits, in any
position encoding, is one edit). Tree-sitter reparses from the old tree (a millisecond or two for
a 5,000-line file, where a fresh parse costs ten) and names the ranges whose structure changed;
the top-level items covering those and the edit are read again, with the comments and attributes
leading into them. The result equals a full extraction: a unit of an item outside that window
has the same text and the same leading comments as before, so only its lines can move.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tandem.slicing.extract import EXTRACTORS, parse, units_from_tree
from tandem.slicing.languages import FAMILY, LanguageName, language_for_path
from tandem.slicing.units import FileUnits, Unit, is_test_file

if TYPE_CHECKING:
    from tree_sitter import Node, Tree

LEADING = frozenset({"comment", "line_comment", "block_comment", "attribute_item", "decorator"})
"""Top-level nodes that lead into the next item (its unit starts at them): see
``Extractor.walk_container``."""


@dataclass(frozen=True)
class TextEdit:
    """One edit in byte offsets and (row, column-in-bytes) points, as tree-sitter wants them."""

    start_byte: int
    old_end_byte: int
    new_end_byte: int
    start_point: tuple[int, int]
    old_end_point: tuple[int, int]
    new_end_point: tuple[int, int]

    def apply_to(self, tree: Tree) -> None:
        tree.edit(
            start_byte=self.start_byte,
            old_end_byte=self.old_end_byte,
            new_end_byte=self.new_end_byte,
            start_point=self.start_point,
            old_end_point=self.old_end_point,
            new_end_point=self.new_end_point,
        )


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
        edit.apply_to(self.tree)
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


Point = tuple[int, int]


def _after(point: Point, edit_end: Point, to: Point) -> Point:
    """``point``, at or after an edit ending at ``edit_end``, once that end is moved to ``to``."""
    row = point[0] - edit_end[0] + to[0]
    return (row, point[1] - edit_end[1] + to[1]) if point[0] == edit_end[0] else (row, point[1])


def compose(first: TextEdit, second: TextEdit) -> TextEdit | None:
    """The one edit doing ``first`` then ``second``, when ``second`` touches what ``first``
    wrote (typing, deleting back); None for edits apart."""
    if second.start_byte > first.new_end_byte or second.old_end_byte < first.start_byte:
        return None
    if second.start_byte < first.start_byte:
        start_byte, start_point = second.start_byte, second.start_point
    else:
        start_byte, start_point = first.start_byte, first.start_point
    if second.old_end_byte <= first.new_end_byte:
        old_end_byte, old_end_point = first.old_end_byte, first.old_end_point
    else:  # past what the first wrote: where that lies in the text before the first
        old_end_byte = second.old_end_byte - first.new_end_byte + first.old_end_byte
        old_end_point = _after(second.old_end_point, first.new_end_point, first.old_end_point)
    if first.new_end_byte <= second.old_end_byte:
        new_end_byte, new_end_point = second.new_end_byte, second.new_end_point
    else:  # the first wrote past the second's end: where that lies after the second
        new_end_byte = first.new_end_byte - second.old_end_byte + second.new_end_byte
        new_end_point = _after(first.new_end_point, second.old_end_point, second.new_end_point)
    return TextEdit(
        start_byte, old_end_byte, new_end_byte, start_point, old_end_point, new_end_point
    )


@dataclass(frozen=True)
class Spliced:
    """The units after some edits: old units ``kept`` (their old index, and the unit at its new
    lines), and the ``fresh`` units of each window read again, with the window's first line
    (1-based) and the byte where that line starts."""

    kept: list[tuple[int, Unit]]
    fresh: list[tuple[tuple[int, int], list[Unit]]]


def _moved(unit: Unit, start: int, end: int, definition_end: int) -> Unit:
    if (start, end, definition_end) == (unit.start_line, unit.end_line, unit.definition_end):
        return unit
    return Unit(
        unit.name,
        unit.kind,
        start,
        end,
        unit.signature,
        unit.is_test,
        unit.in_test_region,
        unit.container,
        definition_end,
    )


def _final_ranges(edits: list[TextEdit]) -> list[tuple[int, int]]:
    """The bytes each edit wrote, in the text after the last edit (later edits move them)."""
    out: list[tuple[int, int]] = []
    for edit in edits:
        delta = edit.new_end_byte - edit.old_end_byte
        moved = []
        for low, high in out:
            if high < edit.start_byte:
                moved.append((low, high))
            elif low > edit.old_end_byte:
                moved.append((low + delta, high + delta))
            else:
                moved.append((min(low, edit.start_byte), max(edit.new_end_byte, high + delta)))
        out = [*moved, (edit.start_byte, edit.new_end_byte)]
    return out


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for low, high in sorted(ranges):
        if out and low <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], high))
        else:
            out.append((low, high))
    return out


def _line_after(line: int, edits: list[TextEdit], end: bool) -> tuple[int, bool]:
    """Where 1-based ``line`` of the old text is after ``edits``, and whether an edit touched
    it (then the first, or with ``end`` the last, line the edit wrote)."""
    row, touched = line - 1, False
    for edit in edits:
        if row < edit.start_point[0]:
            continue
        if row > edit.old_end_point[0]:
            row += edit.new_end_point[0] - edit.old_end_point[0]
        else:
            row, touched = edit.new_end_point[0] if end else edit.start_point[0], True
    return row + 1, touched


def _windows(
    children: list[Node], data: bytes, ranges: list[tuple[int, int]]
) -> list[tuple[int, int, int, int, int]]:
    """The windows to read again: (first node, last node, first line, last line, the byte
    where the first line starts), in order, none overlapping another."""
    out: list[tuple[int, int, int, int, int]] = []
    for low, high in ranges:
        rows = (data.count(b"\n", 0, low) + 1, data.count(b"\n", 0, high) + 1)
        first, last, start_line, end_line = _window(children, low, high, rows)
        anchor = min(low, children[first].start_byte)
        if out and (first <= out[-1][1] or start_line <= out[-1][3]):
            before = out.pop()
            first, last = before[0], max(last, before[1])
            start_line, end_line = before[2], max(end_line, before[3])
            anchor = min(anchor, before[4])
        out.append((first, last, start_line, end_line, anchor))
    return [(f, la, s, e, data.rfind(b"\n", 0, a) + 1) for f, la, s, e, a in out]


def _window(
    children: list[Node], low: int, high: int, lines: tuple[int, int]
) -> tuple[int, int, int, int]:
    """Indexes of the first and last top-level nodes to read again for a change of bytes
    ``low``-``high`` (1-based ``lines``), and the lines they span: every node touching the
    change, and the nodes leading into them or sharing a line with them."""
    ends = [child.end_byte for child in children]
    first = bisect_left(ends, low)
    last = bisect_right([child.start_byte for child in children], high) - 1
    first, last = max(0, min(first, last)), min(len(children) - 1, max(first, last))
    start_line, end_line = lines
    while True:
        start_line = min(start_line, children[first].start_point.row + 1)
        end_line = max(end_line, children[last].end_point.row + 1)
        before = children[first - 1] if first else None
        if before is not None and (
            before.type in LEADING or before.end_point.row + 1 >= start_line
        ):
            first -= 1
            continue
        after = children[last + 1] if last + 1 < len(children) else None
        leads_on = children[last].type in LEADING
        if after is not None and (leads_on or after.start_point.row + 1 <= end_line):
            last += 1
            continue
        return first, last, start_line, end_line


def splice_units(
    path: str,
    language: LanguageName,
    old_units: list[Unit],
    old_tree: Tree,
    new_tree: Tree,
    data: bytes,
    edits: list[TextEdit],
) -> Spliced | None:
    """How the units of ``data`` follow from ``old_units`` after ``edits`` (in the order made):
    ``old_tree`` is the tree before them (already given them), ``new_tree`` its reparse.

    None when the windows cannot be placed among the old units (then extract from the new tree
    whole): a JS/TS test file, whose tests are read across the whole file, or an old unit that
    an edit touched outside every window, or that straddles a window's edge.
    """
    if FAMILY[language] == "js" and is_test_file(path, language):
        return None
    children = new_tree.root_node.children
    if not children:
        return Spliced([], [])
    changed = [(r.start_byte, r.end_byte) for r in old_tree.changed_ranges(new_tree)]
    windows = _windows(children, data, _merged(_final_ranges(edits) + changed))
    spans = [(start, end) for _, _, start, end, _ in windows]
    starts = [start for start, _ in spans]
    kept: list[tuple[int, Unit]] = []
    for index, unit in enumerate(old_units):
        start, touched_start = _line_after(unit.start_line, edits, end=False)
        end, touched_end = _line_after(unit.end_line, edits, end=True)
        definition_end, touched_definition = (
            _line_after(unit.definition_end, edits, end=True) if unit.definition_end else (0, False)
        )
        at = bisect_right(starts, end) - 1  # the last window starting at or before the unit's end
        if at >= 0 and start >= spans[at][0] and end <= spans[at][1]:
            continue  # read again in that window
        touched = touched_start or touched_end or touched_definition
        if touched or (at >= 0 and start <= spans[at][1]):
            return None
        kept.append((index, _moved(unit, start, end, definition_end)))
    fresh = []
    for first, last, start_line, _, base in windows:
        extractor = EXTRACTORS[FAMILY[language]](path, data, language)
        extractor.walk_container(
            children[first : last + 1], prefix="", container="", test_region=False
        )
        units = sorted(extractor.units, key=lambda u: (u.start_line, u.end_line, u.name))
        fresh.append(((start_line, base), units))
    return Spliced(kept, fresh)
