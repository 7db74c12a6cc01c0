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


@dataclass(frozen=True)
class Spliced:
    """The new units as old ones kept, fresh ones, and old ones shifted: ``old[:keep]``, then
    ``fresh``, then ``old[resume:]`` moved down ``shift`` lines (up when negative). ``base``
    is the window's first line (1-based) and the byte where it starts."""

    keep: int
    fresh: list[Unit]
    resume: int
    shift: int
    base: tuple[int, int] = (1, 0)

    def units(self, old: list[Unit]) -> list[Unit]:
        return [
            *old[: self.keep],
            *self.fresh,
            *(_shifted(u, self.shift) for u in old[self.resume :]),
        ]


def _shifted(unit: Unit, rows: int) -> Unit:
    if rows == 0:
        return unit
    return Unit(
        unit.name,
        unit.kind,
        unit.start_line + rows,
        unit.end_line + rows,
        unit.signature,
        unit.is_test,
        unit.in_test_region,
        unit.container,
        unit.definition_end + rows if unit.definition_end else 0,
    )


def _window(
    children: list[Node], low: int, high: int, lines: tuple[int, int]
) -> tuple[int, int, int, int]:
    """Indexes of the first and last top-level nodes to read again for a change of bytes
    ``low``-``high`` (1-based ``lines`` in the new text), and the lines they span: every node
    touching the change, the nodes leading into them or sharing a line with them."""
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
    edit: TextEdit,
) -> Spliced | None:
    """How the units of ``data`` follow from ``old_units`` after ``edit``: ``old_tree`` is the
    tree before it (already given the edit), ``new_tree`` the incremental reparse.

    None when the window cannot be placed among the old units (then extract from the new tree
    whole): a JS/TS test file, whose tests are read across the whole file, or an old unit that
    straddles the window's lines.
    """
    if FAMILY[language] == "js" and is_test_file(path, language):
        return None
    children = new_tree.root_node.children
    if not children:
        return Spliced(0, [], len(old_units), 0)
    low, high = edit.start_byte, edit.new_end_byte
    for changed in old_tree.changed_ranges(new_tree):
        low, high = min(low, changed.start_byte), max(high, changed.end_byte)
    edit_lines = (edit.start_point[0] + 1, edit.new_end_point[0] + 1)
    first, last, start_line, end_line = _window(children, low, high, edit_lines)
    shift = edit.new_end_point[0] - edit.old_end_point[0]
    old_end_line = end_line - shift
    keep = bisect_left([u.start_line for u in old_units], start_line)
    resume = bisect_right([u.start_line for u in old_units], old_end_line)
    if any(u.end_line >= start_line for u in old_units[:keep]):
        return None
    if any(u.end_line > old_end_line for u in old_units[keep:resume]):
        return None
    extractor = EXTRACTORS[FAMILY[language]](path, data, language)
    extractor.walk_container(children[first : last + 1], prefix="", container="", test_region=False)
    fresh = sorted(extractor.units, key=lambda u: (u.start_line, u.end_line, u.name))
    node = children[first]
    if node.start_point.row + 1 == start_line:
        base = (start_line, node.start_byte - node.start_point.column)
    else:
        base = (start_line, edit.start_byte - edit.start_point[1])
    return Spliced(keep, fresh, resume, shift, base)
