"""An editor buffer kept as an index record, its units re-read around each edit only."""

from __future__ import annotations

from itertools import accumulate
from typing import TypeVar

from tandem.slicing.edit_reparse import edit_between, padded_region, units_after_edit
from tandem.slicing.extract import extract_units
from tandem.slicing.languages import LanguageName, language_for_path
from tandem.slicing.records import FileRecord, blob_id, identifiers, unit_idents
from tandem.slicing.units import Unit

CACHE_LIMIT = 50_000


K = TypeVar("K")
V = TypeVar("V")


def bounded_put(cache: dict[K, V], key: K, value: V) -> None:
    """Remember ``value``; a full cache starts again empty (a long-lived process stays small)."""
    if len(cache) >= CACHE_LIMIT:
        cache.clear()
    cache[key] = value


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

    def scanned_once(chunk: bytes) -> frozenset[str]:
        found = cache.get(chunk)
        if found is None:
            found = identifiers(chunk)
            bounded_put(cache, chunk, found)
        return found

    return unit_idents(data, units, scanned_once)
