"""Which review findings a change acted on: where a finding points, and whether that code moved.

Pure functions over texts. A finding's ``location`` is ``path:line``, ``path::unit`` or a bare
path (:func:`parse_location`). Its *flagged region* in the text the review saw is the unit it
names, the unit around its line (else the line and three on each side), or the whole file when
the line or unit no longer exists there (a finding on lines that later moved or vanished).
A change acted on the finding when it changed a line of that region (:func:`changed_region`).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from tandem.flow.handoff import Finding, split_unit_id
from tandem.slicing.codeunits import find_units
from tandem.slicing.languages import language_for_path
from tandem.slicing.units import is_test_file

_PATH_LINE = re.compile(r"^(?P<path>[^:]+?):(?P<line>\d+)(?:[-:,]\d+)*$")
NEAR_LINES = 3
"""A finding on a line outside any unit covers this many lines on each side of it."""


@dataclass(frozen=True)
class Location:
    """Where a finding points: a path, and a 1-based line or a unit name (or neither)."""

    path: str
    line: int | None = None
    unit: str | None = None


def parse_location(location: str) -> Location | None:
    """``path:12`` / ``path:12-14`` → line 12; ``path::unit`` → unit; ``path`` → the file;
    None when nothing is named."""
    location = location.strip()
    path, name = split_unit_id(location)
    if name is not None:
        return Location(path, unit=name) if path else None
    match = _PATH_LINE.match(location)
    if match:
        return Location(match.group("path"), line=max(int(match.group("line")), 1))
    return Location(path) if path else None


def is_test_path(path: str) -> bool:
    """Whether ``path`` is a test file by its language's convention (any ``test`` folder or
    name for languages Tandem does not slice)."""
    language = language_for_path(path)
    if language is not None:
        return is_test_file(path, language)
    return bool(re.search(r"(^|/)(tests?|__tests__)/|(^|/)test_|_test\.|\.(test|spec)\.", path))


def flagged_region(text: str, where: Location) -> tuple[int, int] | None:
    """1-based inclusive lines of ``text`` a finding covers; None: the whole file."""
    lines = text.splitlines()
    language = language_for_path(where.path)
    units = find_units(text, language, where.path) if language is not None else []
    if where.unit is not None:
        unit = next((u for u in units if u.name == where.unit), None)
        return (unit.start_line, unit.end_line) if unit is not None else None
    if where.line is None or where.line > len(lines):
        return None
    around = [u for u in units if u.start_line <= where.line <= u.end_line]
    if around:
        inner = min(around, key=lambda u: u.end_line - u.start_line)
        return inner.start_line, inner.end_line
    return max(1, where.line - NEAR_LINES), min(len(lines), where.line + NEAR_LINES)


def changed_region(
    before: str, after: str, region: tuple[int, int] | None
) -> tuple[int, int] | None:
    """The lines of ``before`` (1-based, inclusive) inside ``region`` that ``after`` changed,
    or None when that part of the text is untouched."""
    if before == after:
        return None
    old = before.splitlines()
    first, last = region if region is not None else (1, max(len(old), 1))
    hits: list[int] = []
    matcher = difflib.SequenceMatcher(a=old, b=after.splitlines(), autojunk=False)
    for tag, start, end, _, _ in matcher.get_opcodes():
        if tag == "equal":
            continue
        if start == end:  # an insertion before line start + 1
            if first <= start + 1 <= last + 1:
                hits.append(min(max(start + 1, first), last))
            continue
        low, high = max(start + 1, first), min(end, last)
        if low <= high:
            hits += [low, high]
    return (min(hits), max(hits)) if hits else None


@dataclass(frozen=True)
class Catch:
    """A finding a change acted on: its index in the review, the file, the lines changed."""

    index: int
    path: str
    lines: tuple[int, int]
    unit: str | None

    @property
    def in_tests(self) -> bool:
        return is_test_path(self.path)

    def describe(self, by: str) -> str:
        start, end = self.lines
        span = f"line {start}" if start == end else f"lines {start}-{end}"
        named = f" ({self.unit})" if self.unit else ""
        return f"{by} changed {self.path} {span}{named}"


def catches(
    findings: list[Finding], before: dict[str, str | None], after: dict[str, str | None]
) -> list[Catch]:
    """The findings (of a review of ``before``) that the change to ``after`` acted on. A file
    missing from both, or a finding naming no file, cannot be tied to a change: not a catch."""
    caught: list[Catch] = []
    for index, finding in enumerate(findings):
        where = parse_location(finding.location)
        if where is None or (where.path not in before and where.path not in after):
            continue
        old, new = before.get(where.path) or "", after.get(where.path) or ""
        lines = changed_region(old, new, flagged_region(old, where) if old else None)
        if lines is not None:
            caught.append(Catch(index, where.path, lines, where.unit))
    return caught
