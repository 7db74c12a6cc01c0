"""The slicing index a long-lived process keeps for one workspace folder.

The language server holds one ``LiveIndex`` per folder. It walks the folder once, parses the
files a step at a time (``build_steps``, so the caller can report progress and keep answering
requests between steps), and then follows changes: files changed or deleted on disk are forgotten
and reread on next use, and open editor buffers win over the disk. A buffer is reparsed
incrementally from its previous tree: the edit is found by comparing the old and new text, so
any sequence of client edits (in any position encoding) is one cheap tree-sitter edit.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from tandem.exclusions import Exclusions
from tandem.slicing.files import RepoFiles, walk_repository
from tandem.slicing.index import Document, FileRecord, RepoIndex, TextEdit, blob_id, identifiers
from tandem.slicing.languages import FAMILY, LanguageName, language_for_path
from tandem.slicing.result import FileRangeAnchor, Slice
from tandem.slicing.units import Unit, extract_units, is_test_file

if TYPE_CHECKING:
    from tree_sitter import Node, Tree

    from tandem.config import Settings

TOKEN_CHUNK_LINES = 64
"""Whole-file token counts are summed over chunks of this many lines, each counted once per
content: an edit recounts one chunk, not the file. The sum differs from a single count by a
token or so per chunk boundary, which is fine for a comparison figure."""
_CACHE_LIMIT = 50_000


K = TypeVar("K")
V = TypeVar("V")


def _bounded_put(cache: dict[K, V], key: K, value: V) -> None:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value


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


_LEAD_TYPES = frozenset({"comment", "line_comment", "block_comment", "attribute_item", "decorator"})


def _settled(node: Node) -> bool:
    """A top-level item after which the unit walk carries no state (no waiting comments)."""
    return node.is_named and node.type not in _LEAD_TYPES and node.type != "ERROR"


def _shift(unit: Unit, rows: int) -> Unit:
    if rows == 0:
        return unit
    return replace(unit, start_line=unit.start_line + rows, end_line=unit.end_line + rows)


def units_after_edit(
    path: str,
    language: LanguageName,
    old_units: list[Unit],
    old_data: bytes,
    new_data: bytes,
    tree: Tree,
    edit: TextEdit,
) -> list[Unit] | None:
    """The units of ``new_data`` from those of ``old_data``, re-extracting only the top-level
    items around ``edit`` (with a settled item on each side) and shifting the rest.

    None when the shortcut does not apply (syntax errors, JS/TS test files, whose tests are read
    across the whole file, or an edit spanning half the file): then extract the whole file.
    """
    root = tree.root_node
    if root.has_error or (FAMILY[language] == "js" and is_test_file(path, language)):
        return None
    children = root.children
    if not children:
        return []
    count = len(children)
    first = next((i for i, c in enumerate(children) if c.end_byte >= edit.start_byte), count - 1)
    last = max((i for i, c in enumerate(children) if c.start_byte <= edit.new_end_byte), default=0)
    last = max(first, last)
    first = max(0, first - 1)
    while first > 0 and not _settled(children[first - 1]):
        first -= 1
    last = min(count - 1, last + 1)
    while last < count - 1 and not _settled(children[last]):
        last += 1
    start_byte = 0 if first == 0 else new_data.rfind(b"\n", 0, children[first].start_byte) + 1
    end_byte = len(new_data) if last == count - 1 else children[last].end_byte
    if (end_byte - start_byte) * 2 > len(new_data):
        return None
    snippet = new_data[start_byte:end_byte]
    extracted = extract_units(path, snippet, language)
    if extracted.has_errors:
        return None
    row = new_data.count(b"\n", 0, start_byte)
    first_line = row + 1
    last_line = row + snippet.count(b"\n") + 1
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
    middle = [_shift(unit, row) for unit in extracted.units]
    return sorted(before + middle + after, key=lambda u: (u.start_line, u.end_line, u.name))


class OpenDocument:
    """An editor buffer: its text, its tree (kept incrementally) and its index record."""

    def __init__(self, path: str, text: str, version: int | None) -> None:
        self.path = path
        self.version = version
        self.text = text
        self._document: Document | None = None
        self._record: FileRecord | None = None
        self._pending = True
        self._units: tuple[bytes, list[Unit]] | None = None  # the data they were read from

    def update(self, text: str, version: int | None) -> None:
        """Take the buffer's new text; the reparse waits until something needs the tree."""
        if text != self.text:
            self.text = text
            self._record = None
            self._pending = True
        self.version = version

    @property
    def tree(self) -> Tree | None:
        document = self._sync()
        return document.tree if document is not None else None

    def _sync(self) -> Document | None:
        if not self._pending:
            return self._document
        self._pending = False
        if language_for_path(self.path) is None:
            return None
        if self._document is None:
            self._document = Document(self.path, self.text)
            return self._document
        data = self.text.encode("utf-8")
        edit = edit_between(self._document.data, data)
        if edit is not None:
            self._document.apply(self.text, edit)
        return self._document

    def record(self, idents_cache: dict[bytes, frozenset[str]]) -> FileRecord | None:
        """The buffer as an index record (None for a language the slicer does not support)."""
        if self._record is not None:
            return self._record
        document = self._sync()
        if document is None:
            return None
        units = self._current_units(document)
        # Only test files' identifiers are read (to rank related tests); a large source file
        # being edited skips the scan.
        scan = is_test_file(self.path, document.language) or any(u.is_test for u in units)
        self._record = FileRecord(
            path=self.path,
            blob=blob_id(document.data),
            language=document.language,
            units=units,
            idents=_unit_idents(document.data, units, idents_cache)
            if scan
            else [frozenset()] * len(units),
            has_errors=document.tree.root_node.has_error,
            text=self.text,
        )
        return self._record

    def _current_units(self, document: Document) -> list[Unit]:
        units: list[Unit] | None = None
        if self._units is not None:
            old_data, old_units = self._units
            edit = edit_between(old_data, document.data)
            if edit is None:
                units = old_units
            else:
                units = units_after_edit(
                    self.path,
                    document.language,
                    old_units,
                    old_data,
                    document.data,
                    document.tree,
                    edit,
                )
        if units is None:
            units = document.units().units
        self._units = (document.data, units)
        return units


def _unit_idents(
    data: bytes, units: list[Unit], cache: dict[bytes, frozenset[str]]
) -> list[frozenset[str]]:
    """Identifiers per unit, each unit's text scanned once per content (an edit rescans one)."""
    starts = [0]
    position = data.find(b"\n")
    while position != -1:
        starts.append(position + 1)
        position = data.find(b"\n", position + 1)
    out: list[frozenset[str]] = []
    for unit in units:
        begin = starts[min(unit.start_line - 1, len(starts) - 1)]
        end = starts[unit.end_line] if unit.end_line < len(starts) else len(data)
        chunk = data[begin:end]
        found = cache.get(chunk)
        if found is None:
            found = identifiers(chunk)
            _bounded_put(cache, chunk, found)
        out.append(found)
    return out


class LiveIndex(RepoIndex):
    """A ``RepoIndex`` that knows the folder's file list and open buffers, and follows changes."""

    def __init__(self, repo: Path, settings: Settings) -> None:
        super().__init__(repo, settings.context.max_file_bytes)
        self.settings = settings
        self.exclusions = Exclusions.load(repo, settings.exclusions)
        self.files: RepoFiles | None = None
        self.open: dict[str, OpenDocument] = {}
        self.ready = False
        self._token_chunks: dict[str, int] = {}
        self._idents: dict[bytes, frozenset[str]] = {}

    # ---- building ----------------------------------------------------------------------

    def walk(self) -> RepoFiles:
        """The folder's supported, not excluded files (walked once, then followed)."""
        if self.files is None:
            self.files = walk_repository(self.repo, self.exclusions)
        return self.files

    def build_steps(self) -> Iterator[tuple[int, int]]:
        """Parse every file, yielding (done, total) after each; then write the cache."""
        files = list(self.walk().files)
        for done, rel in enumerate(files, start=1):
            self.record(rel)
            yield done, len(files)
        self.ready = True
        self.flush()

    def save(self) -> None:
        """Per-request saves (``slice_repository`` ends with one) are skipped: see ``flush``."""

    def flush(self) -> None:
        """Write the on-disk cache of parsed files (after a build, and on shutdown)."""
        RepoIndex.save(self)

    # ---- following changes -------------------------------------------------------------

    def record(self, rel: str, override: str | None = None) -> FileRecord | str:
        document = self.open.get(rel)
        if document is not None and (override is None or override == document.text):
            found = document.record(self._idents)
            if found is not None:
                return found
        return super().record(rel, override)

    def open_document(self, rel: str, text: str, version: int | None) -> OpenDocument:
        document = self.open.get(rel)
        if document is None:
            document = self.open[rel] = OpenDocument(rel, text, version)
        else:
            document.update(text, version)
        return document

    def close_document(self, rel: str) -> None:
        self.open.pop(rel, None)

    def file_changed(self, rel: str) -> None:
        """``rel`` was created or changed on disk."""
        self.forget(rel)
        if self.files is None or language_for_path(rel) is None:
            return
        if rel not in self.files.files and not self.exclusions.excluded(rel):
            self.files.files.append(rel)
            self.files.files.sort()

    def file_deleted(self, rel: str) -> None:
        self.forget(rel)
        if self.files is not None and rel in self.files.files:
            self.files.files.remove(rel)

    # ---- answers -----------------------------------------------------------------------

    def whole_tokens(self, text: str) -> int:
        from tandem.cost.tokens import count_tokens

        lines = text.splitlines(keepends=True)
        total = 0
        for start in range(0, len(lines), TOKEN_CHUNK_LINES):
            chunk = "".join(lines[start : start + TOKEN_CHUNK_LINES])
            counted = self._token_chunks.get(chunk)
            if counted is None:
                counted = count_tokens(chunk)
                _bounded_put(self._token_chunks, chunk, counted)
            total += counted
        return total

    def text_of(self, rel: str) -> str | None:
        """The buffer's text when ``rel`` is open, else the file's, else None."""
        document = self.open.get(rel)
        if document is not None:
            return document.text
        found = self.record(rel)
        if isinstance(found, FileRecord):
            return found.text
        try:
            return (self.repo / rel).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None

    def slice(
        self, rel: str, start_line: int, end_line: int, *, budget_tokens: int | None = None
    ) -> Slice:
        """The slice of lines ``start_line``-``end_line`` (1-based) of ``rel``, as edited."""
        from tandem.slicing.slicer import slice_repository

        document = self.open.get(rel)
        anchor = FileRangeAnchor(
            path=rel,
            start_line=start_line,
            end_line=end_line,
            text=document.text if document is not None else None,
        )
        return slice_repository(
            self.repo,
            anchor,
            self.settings,
            budget_tokens=budget_tokens,
            index=self,
            files=self.walk(),
            exclusions=self.exclusions,
        )
