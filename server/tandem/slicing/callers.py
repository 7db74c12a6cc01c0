"""Source code that mentions given names: the first link of a path from a test to a touched unit.

A test often reaches a changed private function through the public one that calls it
(``echo_via_pager`` → ``_tempfilepager``). The ranking asks for the non-test source files that
mention the touched names; this module finds them with a cheap byte search over the walked files
and parses only those (through the content-addressed index, so a warm call parses nothing).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from tandem.slicing.imports import is_js
from tandem.slicing.languages import FAMILY, language_for_path
from tandem.slicing.records import FileRecord
from tandem.slicing.units import is_test_file

MAX_SOURCE_FILES = 3000


class SourceLookup(Protocol):
    """Non-test source records whose text mentions any of ``names`` (whole identifiers)."""

    def mentioning(self, names: Iterable[str]) -> list[FileRecord]: ...


@runtime_checkable
class ImportLookup(Protocol):
    """What the JS/TS import graph reads; a ``SourceLookup`` may also offer it."""

    def js_files(self) -> set[str]:
        """Every JavaScript/TypeScript file of the repository, tests included."""
        ...

    def source_texts(self) -> Mapping[str, str]:
        """The text of each non-test source file searched."""
        ...

    def read_text(self, rel: str) -> str | None:
        """Any file's text (``package.json``), or None."""
        ...


class IndexedFiles(Protocol):
    """What the caller search reads of an index (``RepoIndex``); the index builds the search."""

    repo: Path

    def source_text(self, rel: str) -> str | None: ...

    def record(self, rel: str, override: str | None = None) -> FileRecord | str: ...


def _pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    wanted = sorted({n for n in names if n}, key=len, reverse=True)
    if not wanted:
        return None
    alternatives = "|".join(re.escape(n) for n in wanted)
    return re.compile(r"(?<![\w$])(?:" + alternatives + r")(?![\w$])")


def _mentions(text: str, names: list[str], pattern: re.Pattern[str]) -> bool:
    # A substring test first: most files mention none of the names, and ``in`` is fast.
    return any(n in text for n in names) and pattern.search(text) is not None


@dataclass
class RepoSources:
    """Source files of the changed languages in one repository, read once and searched by name."""

    index: IndexedFiles
    files: list[str]
    families: set[str]
    _data: dict[str, str] | None = field(default=None, init=False)

    def _load(self) -> dict[str, str]:
        if self._data is None:
            self._data = {}
            for rel in self.files:
                language = language_for_path(rel)
                if language is None or FAMILY[language] not in self.families:
                    continue
                if is_test_file(rel, language):
                    continue
                text = self.index.source_text(rel)  # reused while the file is unchanged
                if text is not None:
                    self._data[rel] = text
                if len(self._data) >= MAX_SOURCE_FILES:
                    break
        return self._data

    def mentioning(self, names: Iterable[str]) -> list[FileRecord]:
        pattern = _pattern(names)
        if pattern is None:
            return []
        wanted = [n for n in names if n]
        out: list[FileRecord] = []
        for rel, data in self._load().items():
            if _mentions(data, wanted, pattern):
                rec = self.index.record(rel)
                if isinstance(rec, FileRecord):
                    out.append(rec)
        return out

    def js_files(self) -> set[str]:
        return {f for f in self.files if is_js(f)}

    def source_texts(self) -> Mapping[str, str]:
        return self._load()

    def read_text(self, rel: str) -> str | None:
        try:
            return (self.index.repo / rel).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
