"""The slicing index a long-lived process keeps for one workspace folder.

The language server holds one ``LiveIndex`` per folder. It walks the folder once, parses the
files a step at a time (``build_steps``, so the caller can report progress and keep answering
requests between steps), and then follows changes: files changed or deleted on disk are forgotten
and reread on next use, and open editor buffers win over the disk. A buffer is re-read around
each edit only: the edit is found by comparing the old and new text (so any sequence of client
edits, in any position encoding, is one edit), and only the top-level items around it are parsed
again. A whole-file reparse of a large file, even an incremental one, costs tens of
milliseconds; the items around an edit cost well under one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from itertools import accumulate
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from tandem.slicing.callers import MAX_SOURCE_FILES
from tandem.slicing.exclusions import Exclusions
from tandem.slicing.files import RepoFiles, walk_repository
from tandem.slicing.imports import is_js
from tandem.slicing.index import RepoIndex, TextEdit
from tandem.slicing.languages import FAMILY, LanguageName, language_for_path
from tandem.slicing.records import FileRecord, blob_id, identifiers
from tandem.slicing.result import Anchor, FileRangeAnchor, Slice
from tandem.slicing.units import Unit, extract_units, is_test_file

if TYPE_CHECKING:
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


class OpenDocument:
    """An editor buffer: its text and its index record, re-read around each edit only."""

    def __init__(self, path: str, text: str, version: int | None) -> None:
        self.path = path
        self.version = version
        self.text = text
        self.language = language_for_path(path)
        self._record: FileRecord | None = None
        self._units: tuple[bytes, list[Unit], bool] | None = None  # data, units, has errors

    def update(self, text: str, version: int | None) -> None:
        """Take the buffer's new text. Once units were asked for, they follow every change
        (around the edit, well under a millisecond): edits far apart, taken together, would
        span most of the file and cost a whole-file parse."""
        if text != self.text:
            self.text = text
            self._record = None
            if self._units is not None and self.language is not None:
                self._current_units(text.encode("utf-8"), self.language)
        self.version = version

    def region_text(self, start_line: int, end_line: int) -> str:
        """The top-level items covering lines ``start_line``-``end_line`` (1-based), padded
        with newlines so that they parse alone with the file's line numbers."""
        data = self.text.encode("utf-8")
        # Line starts from the lengths of the lines (plus one newline each), summed in C.
        lengths = [0, *accumulate(map(len, data.split(b"\n")))]

        def line_start(line: int) -> int:  # 0-based line
            line = min(line, len(lengths) - 1)
            return min(lengths[line] + line, len(data))

        start, end = line_start(start_line - 1), line_start(end_line)
        return padded_region(data, start, max(start, end - 1)).decode("utf-8", "replace")

    def record(self, idents_cache: dict[bytes, frozenset[str]]) -> FileRecord | None:
        """The buffer as an index record (None for a language the slicer does not support)."""
        if self._record is not None:
            return self._record
        if self.language is None:
            return None
        data = self.text.encode("utf-8")
        units, has_errors = self._current_units(data, self.language)
        self._record = FileRecord(
            path=self.path,
            blob=blob_id(data),
            language=self.language,
            units=units,
            # Related-test ranking reads every unit's identifiers (callers in source files
            # too); each unit's text is scanned once per content, so an edit rescans one.
            idents=_unit_idents(data, units, idents_cache),
            has_errors=has_errors,
            text=self.text,
        )
        return self._record

    def _current_units(self, data: bytes, language: LanguageName) -> tuple[list[Unit], bool]:
        units: list[Unit] | None = None
        has_errors = False
        if self._units is not None and not self._units[2]:
            old_data, old_units, _ = self._units
            edit = edit_between(old_data, data)
            if edit is None:
                units = old_units
            else:
                units = units_after_edit(self.path, language, old_units, old_data, data, edit)
        if units is None:
            extracted = extract_units(self.path, data, language)
            units, has_errors = extracted.units, extracted.has_errors
        self._units = (data, units, has_errors)
        return units, has_errors


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


class LiveSources:
    """Source files mentioning names, answered from the index's identifiers (open buffers as
    edited) instead of reading and searching every file on each request. A file counts when a
    code unit mentions a name, which is all the caller search reads."""

    def __init__(self, index: LiveIndex, files: list[str], families: set[str]) -> None:
        self.index = index
        self.files = files
        self.families = families

    def mentioning(self, names: Iterable[str]) -> list[FileRecord]:
        wanted = {name for name in names if name}
        if not wanted:
            return []
        out: list[FileRecord] = []
        for rel in self.index.source_files(self.files, self.families):
            found = self.index.record(rel)
            if isinstance(found, FileRecord) and not wanted.isdisjoint(self.index.mentioned(found)):
                out.append(found)
        return out

    # The JS/TS import graph (``callers.ImportLookup``), from the records the index keeps.
    def js_files(self) -> set[str]:
        return {rel for rel in self.files if is_js(rel)}

    def source_texts(self) -> Mapping[str, str]:
        out: dict[str, str] = {}
        for rel in self.index.source_files(self.files, self.families):
            found = self.index.record(rel)
            if isinstance(found, FileRecord):
                out[rel] = found.text
        return out

    def read_text(self, rel: str) -> str | None:
        try:
            return (self.index.repo / rel).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None


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
        self._mentioned: dict[str, frozenset[str]] = {}
        self._source_files: dict[tuple[int, frozenset[str]], list[str]] = {}

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
        self._source_files.clear()
        language = language_for_path(rel)
        if self.files is None or language is None:
            return
        if rel not in self.files.files and not self.exclusions.excluded(rel):
            self.files.files.append(rel)
            self.files.files.sort()
            self.files.languages[rel] = language

    def file_deleted(self, rel: str) -> None:
        self.forget(rel)
        self._source_files.clear()
        if self.files is not None and rel in self.files.files:
            self.files.files.remove(rel)
            self.files.languages.pop(rel, None)

    # ---- answers -----------------------------------------------------------------------

    def sources(self, files: list[str], families: set[str]) -> LiveSources:
        return LiveSources(self, files, families)

    def source_files(self, files: list[str], families: set[str]) -> list[str]:
        """The non-test files of ``families`` among ``files`` (kept until files change)."""
        key = (id(files), frozenset(families))
        found = self._source_files.get(key)
        if found is None:
            found = []
            for rel in files:
                language = language_for_path(rel)
                if language is None or FAMILY[language] not in families:
                    continue
                if not is_test_file(rel, language):
                    found.append(rel)
                if len(found) >= MAX_SOURCE_FILES:
                    break
            self._source_files[key] = found
        return found

    def mentioned(self, record: FileRecord) -> frozenset[str]:
        """Every identifier inside the record's units."""
        found = self._mentioned.get(record.blob)
        if found is None:
            found = frozenset().union(*record.idents)
            _bounded_put(self._mentioned, record.blob, found)
        return found

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

    def slice_anchor(
        self, anchor: Anchor, settings: Settings | None = None, *, budget_tokens: int | None = None
    ) -> Slice:
        """``slice_repository`` of ``anchor`` through this index: nothing is walked or reread,
        and open buffers' unsaved text wins over the disk for every file the slice reads.
        ``settings`` (default: the folder's) give the budget and the number of tests."""
        from tandem.slicing.slicer import slice_repository

        return slice_repository(
            self.repo,
            anchor,
            settings if settings is not None else self.settings,
            budget_tokens=budget_tokens,
            index=self,
            files=self.walk(),
            exclusions=self.exclusions,
        )

    def slice(
        self, rel: str, start_line: int, end_line: int, *, budget_tokens: int | None = None
    ) -> Slice:
        """The slice of lines ``start_line``-``end_line`` (1-based) of ``rel``, as edited."""
        document = self.open.get(rel)
        anchor = FileRangeAnchor(
            path=rel,
            start_line=start_line,
            end_line=end_line,
            text=document.text if document is not None else None,
        )
        return self.slice_anchor(anchor, budget_tokens=budget_tokens)
