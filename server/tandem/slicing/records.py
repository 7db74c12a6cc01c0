"""One file version as the index knows it: its record, git blob id, cache key and identifiers."""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tandem.slicing.extract import extract_units
from tandem.slicing.files import source_lines
from tandem.slicing.languages import LanguageName
from tandem.slicing.units import Unit, is_test_file

# On text decoded as Latin-1 (one character per byte, so bytes over 127 never match): str
# matches come out as str, with no decode call per match.
IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


def blob_id(data: bytes) -> str:
    """The git blob id of ``data``."""
    h = hashlib.sha1(f"blob {len(data)}\0".encode())
    h.update(data)
    return h.hexdigest()


def cache_key(blob: str, rel: str, language: LanguageName) -> str:
    """The cache key of a file version: its blob id, language and whether it may hold tests.

    Units depend on the path only through those two, so identical content at another path
    (an empty ``__init__.py``, a copied file, a rename) is a cache hit.
    """
    return f"{blob}:{language}:{'t' if is_test_file(rel, language) else 's'}"


def identifiers(data: bytes) -> frozenset[str]:
    return frozenset(IDENT.findall(data.decode("latin-1")))


@dataclass
class FileRecord:
    """What the index knows about one file version."""

    path: str
    blob: str
    language: LanguageName
    units: list[Unit]
    idents: list[frozenset[str]]  # per unit, same order as ``units``
    has_errors: bool
    text: str
    warning: str | None = None
    _lines: list[str] | None = field(default=None, repr=False, compare=False)
    _starts: list[int] | None = field(default=None, repr=False, compare=False)
    _longest: int = field(default=-1, repr=False, compare=False)
    _functions: dict[str, Unit] | None = field(default=None, repr=False, compare=False)

    def lines(self) -> list[str]:
        """The text's lines as the parse tree numbers them (computed once)."""
        if self._lines is None:
            self._lines = source_lines(self.text)
        return self._lines

    def units_around(self, low: int, high: int) -> list[Unit]:
        """The units that may hold a line from ``low`` to ``high``, in order: those starting
        from the longest unit's length before ``low`` up to ``high`` (a superset, found by
        bisection instead of a pass over every unit)."""
        if self._starts is None:
            self._starts = [u.start_line for u in self.units]
            self._longest = max((u.end_line - u.start_line for u in self.units), default=0)
        first = bisect_left(self._starts, low - self._longest)
        return self.units[first : bisect_right(self._starts, high)]

    def functions(self) -> dict[str, Unit]:
        """Each function's simple name and its first definition outside test code with a
        signature (computed once)."""
        if self._functions is None:
            self._functions = {}
            for unit in self.units:
                if unit.kind == "function" and not unit.in_test_region and unit.signature:
                    self._functions.setdefault(unit.simple_name, unit)
        return self._functions


def _line_offsets(data: bytes, start: int, count: int) -> list[int]:
    """Byte offsets of ``count`` line starts from the line starting at ``start``, and of the
    line after them (``len(data)`` past the end)."""
    offsets = [start]
    pos = data.find(b"\n", start)
    while pos != -1 and len(offsets) <= count:
        offsets.append(pos + 1)
        pos = data.find(b"\n", pos + 1)
    return offsets


def unit_idents(
    data: bytes,
    units: list[Unit],
    scan: Callable[[bytes], frozenset[str]] = identifiers,
    *,
    base: tuple[int, int] = (1, 0),
) -> list[frozenset[str]]:
    """The identifiers of each unit's lines, read from its text by ``scan``.

    ``base`` is a 1-based line at or before every unit and the byte offset where it starts:
    only the lines from there to the last unit are scanned for their starts.
    """
    if not units:
        return []
    line, byte = base
    offsets = _line_offsets(data, byte, max(u.end_line for u in units) - line + 1)
    out = []
    for u in units:
        start = offsets[min(u.start_line - line, len(offsets) - 1)]
        end = offsets[u.end_line - line + 1] if u.end_line - line + 1 < len(offsets) else len(data)
        out.append(scan(data[start:end]))
    return out


def parse_entry(
    rel: str, data: bytes, language: LanguageName
) -> tuple[dict[str, Any], list[Unit], list[frozenset[str]]]:
    """Parse a file version: its cache entry (what the caches store: units as lists, each
    unit's identifiers as one string, whether the parse had errors; never the text), with its
    units and their identifiers."""
    fu = extract_units(rel, data, language)
    idents = unit_idents(data, fu.units)
    entry = {
        "errors": fu.has_errors,
        "units": [
            [
                u.name,
                u.kind,
                u.start_line,
                u.end_line,
                u.signature,
                u.is_test,
                u.in_test_region,
                u.container,
                u.definition_end,
            ]
            for u in fu.units
        ],
        "idents": [" ".join(sorted(s)) for s in idents],
    }
    return entry, fu.units, idents
