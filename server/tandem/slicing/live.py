"""The slicing index a long-lived process keeps for one workspace folder.

The language server holds one ``LiveIndex`` per folder. It walks the folder once, parses the
files a step at a time (``build_steps``, so the caller can report progress and keep answering
requests between steps), and then follows changes: files changed or deleted on disk are forgotten
and reread on next use, and open editor buffers (``open_document``) win over the disk.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from tandem.slicing.callers import MAX_SOURCE_FILES
from tandem.slicing.exclusions import Exclusions
from tandem.slicing.files import RepoFiles, walk_repository
from tandem.slicing.imports import is_js
from tandem.slicing.index import RepoIndex
from tandem.slicing.languages import FAMILY, language_for_path
from tandem.slicing.open_document import OpenDocument, bounded_put
from tandem.slicing.records import FileRecord
from tandem.slicing.result import Anchor, FileRangeAnchor, Slice, SliceError
from tandem.slicing.units import is_test_file

if TYPE_CHECKING:
    from tandem.config import Settings

TOKEN_CHUNK_LINES = 64
"""Whole-file token counts are summed over chunks of this many lines, each counted once per
content: an edit recounts one chunk, not the file. The sum differs from a single count by a
token or so per chunk boundary, which is fine for a comparison figure."""
WHOLE_TOTALS_KEPT = 8
"""Whole-file totals kept: the files of the last few slices (each text is held by its buffer)."""


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
        self._whole_totals: dict[str, int] = {}
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
            found = document.record()
            if found is not None:
                return found
        return super().record(rel, override)

    def open_document(self, rel: str, text: str, version: int | None) -> OpenDocument:
        document = self.open.get(rel)
        if document is None:
            document = self.open[rel] = OpenDocument(rel, text, version, self.max_file_bytes)
        else:
            document.update(text, version)
        return document

    def open_oversized(self, rel: str, size: int, version: int | None) -> OpenDocument:
        """A buffer known, from its length alone, to be over ``max_file_bytes``: its text is
        never read, and every request about it is told it is too large to slice."""
        document = self.open.get(rel)
        if document is None:
            document = self.open[rel] = OpenDocument(rel, "", version, self.max_file_bytes)
        document.oversized(size, version)
        return document

    def skipped(self, rel: str) -> str | None:
        """Why the open buffer ``rel`` is not sliced (too large), or None."""
        document = self.open.get(rel)
        return document.skipped if document is not None else None

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
            bounded_put(self._mentioned, record.blob, found)
        return found

    def whole_tokens(self, text: str) -> int:
        """Tokens of a whole file, counted in chunks of lines so an edit recounts one chunk;
        the last few totals are kept whole (a hover asks again for the same buffer)."""
        known = self._whole_totals.get(text)
        if known is not None:
            return known
        from tandem.cost.tokens import count_tokens

        lines = text.splitlines(keepends=True)
        total = 0
        for start in range(0, len(lines), TOKEN_CHUNK_LINES):
            chunk = "".join(lines[start : start + TOKEN_CHUNK_LINES])
            counted = self._token_chunks.get(chunk)
            if counted is None:
                counted = count_tokens(chunk)
                bounded_put(self._token_chunks, chunk, counted)
            total += counted
        if len(self._whole_totals) >= WHOLE_TOTALS_KEPT:
            self._whole_totals.clear()
        self._whole_totals[text] = total
        return total

    def text_of(self, rel: str) -> str | None:
        """The buffer's text when ``rel`` is open, else the file's, else None (also for a buffer
        too large to slice)."""
        document = self.open.get(rel)
        if document is not None:
            return None if document.skipped is not None else document.text
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
        if document is not None and document.skipped is not None:
            raise SliceError(document.skipped)
        anchor = FileRangeAnchor(
            path=rel,
            start_line=start_line,
            end_line=end_line,
            text=document.text if document is not None else None,
        )
        return self.slice_anchor(anchor, budget_tokens=budget_tokens)
