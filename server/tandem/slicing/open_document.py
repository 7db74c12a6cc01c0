"""An editor buffer kept as an index record, parsed incrementally and re-read around its edits.

An edit costs the buffer only a note in its last parse tree (``Tree.edit``); the reparse, and
the units of the items the edits changed, wait until something asks for the record or the tree,
so a burst of typing, or a code action list right after an edit, parses nothing. A buffer over
``context.max_file_bytes`` is never parsed, encoded or hashed: it stays a warning saying it is
too large to slice, as the same file on disk would be.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from tandem.slicing.edit_reparse import TextEdit, compose, edit_between, splice_units
from tandem.slicing.extract import parse, units_from_tree
from tandem.slicing.files import too_large
from tandem.slicing.languages import LanguageName, language_for_path
from tandem.slicing.records import FileRecord, blob_id, identifiers, unit_idents
from tandem.slicing.units import Unit

if TYPE_CHECKING:
    from tree_sitter import Tree

CACHE_LIMIT = 50_000


K = TypeVar("K")
V = TypeVar("V")


def bounded_put(cache: dict[K, V], key: K, value: V) -> None:
    """Remember ``value``; a full cache starts again empty (a long-lived process stays small)."""
    if len(cache) >= CACHE_LIMIT:
        cache.clear()
    cache[key] = value


@dataclass(frozen=True)
class Parsed:
    """One version of the buffer as parsed: bytes, tree, units and each unit's identifiers."""

    data: bytes
    tree: Tree
    units: list[Unit]
    idents: list[frozenset[str]]


class OpenDocument:
    """An editor buffer: its text and its index record, re-read around its edits only.

    Every parse starts from the *base*: the last parse known to equal a fresh one (a fresh
    parse, or an incremental one without syntax errors). Tree-sitter's error recovery can
    place an ERROR node differently when it reparses from a tree that already had errors, so
    an incremental parse with errors answers for its version but is not built on.
    """

    def __init__(self, path: str, text: str, version: int | None, max_bytes: int) -> None:
        self.path = path
        self.version = version
        self.text = text
        self.language: LanguageName | None = language_for_path(path)
        self.max_bytes = max_bytes
        self.skipped: str | None = None
        """Why the buffer is not sliced (it is over ``max_bytes``), or None."""
        self._base: Parsed | None = None
        self._edited: tuple[bytes, Tree, list[TextEdit]] | None = None
        """The latest text's bytes, and the base's tree given every edit since (listed, each
        joined with the one before when they touch), or None when no edit came since."""
        self._current_parse: Parsed | None = None
        self._record: FileRecord | None = None
        self._idents: dict[bytes, frozenset[str]] = {}
        self._check_size(len(text))

    def _check_size(self, at_least: int) -> None:
        """Mark the buffer too large when ``at_least`` bytes (or its UTF-8) is over the limit."""
        counted_chars = at_least > self.max_bytes
        size = at_least if counted_chars else len(self.text.encode("utf-8"))
        self.skipped = (
            too_large(self.path, size, self.max_bytes, counted_chars=counted_chars)
            if size > self.max_bytes
            else None
        )
        if self.skipped is not None:
            self._forget()

    def _forget(self) -> None:
        self.text, self._record = "", None
        self._base, self._edited, self._current_parse = None, None, None

    def oversized(self, size: int, version: int | None) -> None:
        """The buffer changed and is known (from its length) to be over the limit."""
        self.version = version
        self._forget()
        self.skipped = too_large(self.path, size, self.max_bytes, counted_chars=True)

    def update(self, text: str, version: int | None) -> None:
        """Take the buffer's new text; once parsed, note the edit in the base's tree."""
        self.version = version
        if self.skipped is None and text == self.text:
            return
        self.text, self._record, self._current_parse = text, None, None
        self._check_size(len(text))
        if self.skipped is not None or self._base is None:
            return
        data = text.encode("utf-8")
        before, tree, edits = self._edited or (self._base.data, self._base.tree.copy(), [])
        edit = edit_between(before, data)
        if edit is not None:
            edit.apply_to(tree)
            joined = compose(edits[-1], edit) if edits else None
            edits[-1:] = [joined] if joined is not None else [*edits[-1:], edit]
        self._edited = (data, tree, edits)

    def tree(self) -> Tree | None:
        """The current parse tree (None for a language the slicer does not support)."""
        parsed = self._current()
        return parsed.tree if parsed is not None else None

    def record(self) -> FileRecord | str | None:
        """The buffer as an index record, the warning when it is too large, or None for a
        language the slicer does not support."""
        if self.skipped is not None:
            return self.skipped
        if self._record is not None:
            return self._record
        parsed = self._current()
        if parsed is None or self.language is None:
            return None
        self._record = FileRecord(
            path=self.path,
            blob=blob_id(parsed.data),
            language=self.language,
            units=parsed.units,
            idents=parsed.idents,
            has_errors=parsed.tree.root_node.has_error,
            text=self.text,
        )
        return self._record

    def _current(self) -> Parsed | None:
        if self.skipped is not None or self.language is None:
            return None
        if self._current_parse is not None:
            return self._current_parse
        if self._base is None or self._edited is None:
            data = self.text.encode("utf-8")
            if self._base is None or self._base.data != data:
                tree = parse(data, self.language)
                units = units_from_tree(self.path, data, self.language, tree).units
                self._base = Parsed(data, tree, units, self._scan(data, units))
            parsed = self._base
        else:
            parsed = self._follow(self._base, *self._edited, self.language)
            if not parsed.tree.root_node.has_error:
                self._base, self._edited = parsed, None
        self._current_parse = parsed
        return parsed

    def _follow(
        self,
        base: Parsed,
        data: bytes,
        base_tree: Tree,
        edits: list[TextEdit],
        language: LanguageName,
    ) -> Parsed:
        """The parse of ``data`` from ``base``, whose tree was given ``edits`` since: reparsed
        incrementally, the units of the items around each edit read again, the others moved."""
        if data == base.data:
            return base
        tree = parse(data, language, old_tree=base_tree)
        spliced = splice_units(self.path, language, base.units, base_tree, tree, data, edits)
        if spliced is None:
            units = units_from_tree(self.path, data, language, tree).units
            return Parsed(data, tree, units, self._scan(data, units))
        pairs = [(unit, base.idents[index]) for index, unit in spliced.kept]
        for line_start, fresh in spliced.fresh:
            pairs += zip(fresh, self._scan(data, fresh, line_start), strict=True)
        pairs.sort(key=lambda pair: (pair[0].start_line, pair[0].end_line, pair[0].name))
        return Parsed(data, tree, [unit for unit, _ in pairs], [idents for _, idents in pairs])

    def _scan(
        self, data: bytes, units: list[Unit], base: tuple[int, int] = (1, 0)
    ) -> list[frozenset[str]]:
        """Identifiers per unit, each unit's text scanned once per content."""
        cache = self._idents

        def scanned_once(chunk: bytes) -> frozenset[str]:
            found = cache.get(chunk)
            if found is None:
                found = identifiers(chunk)
                bounded_put(cache, chunk, found)
            return found

        return unit_idents(data, units, scanned_once, base=base)
