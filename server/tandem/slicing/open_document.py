"""An editor buffer kept as an index record, parsed incrementally and re-read around each edit.

A buffer over ``context.max_file_bytes`` is never parsed, encoded or hashed: it stays a warning
saying it is too large to slice, as the same file on disk would be.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from tandem.slicing.edit_reparse import edit_between, splice_units
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
    """An editor buffer: its text and its index record, re-read around each edit only."""

    def __init__(self, path: str, text: str, version: int | None, max_bytes: int) -> None:
        self.path = path
        self.version = version
        self.text = text
        self.language: LanguageName | None = language_for_path(path)
        self.max_bytes = max_bytes
        self.skipped: str | None = None
        """Why the buffer is not sliced (it is over ``max_bytes``), or None."""
        self._parsed: Parsed | None = None
        self._record: FileRecord | None = None
        self._idents: dict[bytes, frozenset[str]] = {}
        self._check_size(len(text))

    def _check_size(self, at_least: int) -> None:
        """Mark the buffer too large when ``at_least`` bytes (or its UTF-8) is over the limit."""
        size = at_least if at_least > self.max_bytes else len(self.text.encode("utf-8"))
        self.skipped = too_large(self.path, size, self.max_bytes) if size > self.max_bytes else None
        if self.skipped is not None:
            self.text, self._parsed, self._record = "", None, None

    def oversized(self, size: int, version: int | None) -> None:
        """The buffer changed and is known (from its length) to be over the limit."""
        self.version = version
        self.text, self._parsed, self._record = "", None, None
        self.skipped = too_large(self.path, size, self.max_bytes)

    def update(self, text: str, version: int | None) -> None:
        """Take the buffer's new text. Once parsed, the parse follows every change (an
        incremental reparse and the items around the edit): edits far apart, taken together,
        would otherwise span most of the file."""
        self.version = version
        if self.skipped is None and text == self.text:
            return
        self.text, self._record = text, None
        self._check_size(len(text))
        if self.skipped is None and self._parsed is not None and self.language is not None:
            self._parsed = self._follow(self._parsed, text.encode("utf-8"), self.language)

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
        if self._parsed is None:
            data = self.text.encode("utf-8")
            tree = parse(data, self.language)
            units = units_from_tree(self.path, data, self.language, tree).units
            self._parsed = Parsed(data, tree, units, self._scan(data, units))
        return self._parsed

    def _follow(self, old: Parsed, data: bytes, language: LanguageName) -> Parsed:
        edit = edit_between(old.data, data)
        if edit is None:
            return Parsed(data, old.tree, old.units, old.idents)
        old_tree = old.tree.copy()
        edit.apply_to(old_tree)
        tree = parse(data, language, old_tree=old_tree)
        spliced = splice_units(self.path, language, old.units, old_tree, tree, data, edit)
        if spliced is None:
            units = units_from_tree(self.path, data, language, tree).units
            return Parsed(data, tree, units, self._scan(data, units))
        fresh = self._scan(data, spliced.fresh, spliced.base)
        idents = [*old.idents[: spliced.keep], *fresh, *old.idents[spliced.resume :]]
        return Parsed(data, tree, spliced.units(old.units), idents)

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
