"""Review findings as diagnostics: placed on a line, kept in place while the code changes.

A finding's ``location`` (``path:line``, ``path::unit`` or a bare ``path``) is placed on one line
of the current text. When the document changes, findings below an edit move with it, and a
finding whose own line was edited is dropped (the user is working on it); a new review replaces
the findings it covers. Diagnostics carry source ``tandem``, the severity mapped
(blocking→Error, major→Warning, minor→Information, nit→Hint), ``code`` = category, related
information pointing at the task's plan.md, and ``data`` with what a quick fix needs.

No server here: lsprotocol value types and plain functions, tested as units.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from lsprotocol import types

from tandem.flow.catches import parse_location
from tandem.flow.edits import is_safe_path
from tandem.flow.handoff import Finding
from tandem.lsp.draft_delivery import code_units
from tandem.slicing.codeunits import find_units, language_for

SOURCE = "tandem"

SEVERITY: dict[str, types.DiagnosticSeverity] = {
    "blocking": types.DiagnosticSeverity.Error,
    "major": types.DiagnosticSeverity.Warning,
    "minor": types.DiagnosticSeverity.Information,
    "nit": types.DiagnosticSeverity.Hint,
}


@dataclass(frozen=True)
class PlacedFinding:
    """A finding on one 0-based line of a repository file, with that line's text when placed."""

    task_id: str
    path: str
    line: int
    finding: Finding
    line_text: str
    plan_uri: str
    round: int = 1
    index: int = 0
    """Which review of the task and which of its findings (how the ledger knows it)."""


def locate(location: str, read_text: Callable[[str], str | None]) -> tuple[str, int] | None:
    """(path, 0-based line) of a finding's location, or None when it names no known file."""
    where = parse_location(location)
    if where is None:
        return None
    path, name = where.path, where.unit
    line = where.line - 1 if where.line is not None else 0
    if not is_safe_path(path):
        return None
    text = read_text(path)
    if text is None:
        return None
    if name is not None:
        language = language_for(path)
        units = find_units(text, language, path) if language is not None else []
        unit = next((u for u in units if u.name == name), None)
        if unit is None:
            return path, 0
        line = _definition_line(text.splitlines(), unit.start_line, unit.end_line, name)
    lines = text.splitlines()
    return path, min(line, max(len(lines) - 1, 0))


# Lines a unit's range includes above its definition: decorators, attributes, comments.
_LEADING_MARKS = ("@", "#", "//", "/*", "*", '"""', "'''")


def _definition_line(lines: list[str], start: int, end: int, unit_id: str) -> int:
    """The 0-based line a unit's finding belongs on: the one that names the unit, not the doc
    comment, decorator or attribute above it."""
    simple = re.split(r"::|\.| > ", unit_id)[-1]
    word = re.compile(rf"(?<![\w$]){re.escape(simple)}(?![\w$])")
    code = [
        row
        for row in range(start - 1, min(end, len(lines)))
        if lines[row].strip() and not lines[row].lstrip().startswith(_LEADING_MARKS)
    ]
    named = next((row for row in code if word.search(lines[row])), None)
    if named is not None:
        return named
    return code[0] if code else start - 1


def place_findings(
    task_id: str,
    findings: Iterable[Finding],
    read_text: Callable[[str], str | None],
    plan_uri: str,
    round_: int = 1,
) -> list[PlacedFinding]:
    placed = []
    for index, finding in enumerate(findings):
        where = locate(finding.location, read_text)
        if where is None:
            continue
        path, line = where
        lines = (read_text(path) or "").splitlines()
        text = lines[line] if line < len(lines) else ""
        placed.append(PlacedFinding(task_id, path, line, finding, text, plan_uri, round_, index))
    return placed


def lsp_diagnostic(placed: PlacedFinding, encoding: str) -> types.Diagnostic:
    text = placed.line_text
    indent = len(text) - len(text.lstrip())
    start = types.Position(line=placed.line, character=code_units(text[:indent], encoding))
    end = types.Position(line=placed.line, character=code_units(text, encoding))
    finding = placed.finding
    message = finding.message
    if finding.suggested_change:
        message += f"\nSuggested change: {finding.suggested_change}"
    zero = types.Position(line=0, character=0)
    return types.Diagnostic(
        range=types.Range(start=start, end=end),
        message=message,
        severity=SEVERITY[finding.severity],
        code=finding.category,
        source=SOURCE,
        related_information=[
            types.DiagnosticRelatedInformation(
                location=types.Location(
                    uri=placed.plan_uri, range=types.Range(start=zero, end=zero)
                ),
                message=f"plan of Tandem task {placed.task_id}",
            )
        ],
        data={
            "task_id": placed.task_id,
            "round": placed.round,
            "index": placed.index,
            "severity": finding.severity,
            "suggested_change": finding.suggested_change,
        },
    )


@dataclass(frozen=True)
class LineChange:
    """One content change in lines: the replaced lines, the line breaks inserted, and whether
    the last replaced line survives untouched (the range ends at its start and what replaces
    the range ends with a line break, or is a deletion of whole lines)."""

    start_line: int
    end_line: int
    inserted_breaks: int
    keeps_end_line: bool


def line_change(change: types.TextDocumentContentChangeEvent) -> LineChange | None:
    """The change in lines, or None for a whole-document replacement."""
    if not isinstance(change, types.TextDocumentContentChangePartial):
        return None
    start, end = change.range.start, change.range.end
    breaks = len(re.findall(r"\r\n|\r|\n", change.text))
    whole_lines = change.text.endswith(("\n", "\r")) or (not change.text and start.character == 0)
    return LineChange(start.line, end.line, breaks, end.character == 0 and whole_lines)


def _moved(line: int, change: LineChange) -> int:
    """Where a line goes through one change (a line inside the edited range stays put)."""
    delta = change.inserted_breaks - (change.end_line - change.start_line)
    untouched_end = line == change.end_line and change.keeps_end_line
    return line + delta if line > change.end_line or untouched_end else line


def shift_findings(
    placed: Sequence[PlacedFinding], changes: Sequence[LineChange | None], lines: Sequence[str]
) -> list[PlacedFinding]:
    """The findings of one document after one ``didChange`` (its ``changes`` in order; ``lines``
    the text after all of them): each moves with the edits above it and is kept only while its
    line still reads as it did when the finding was placed, so a finding whose line was edited
    is dropped. A finding is also kept where it was when that line is unchanged: an editor may
    report an edit late (Neovim debounces ``didChange``), after the review already saw it."""
    if any(change is None for change in changes):
        return _reanchor(placed, lines)
    kept = []
    for item in placed:
        line = item.line
        for change in changes:
            assert change is not None
            line = _moved(line, change)
        for candidate in dict.fromkeys((line, item.line)):
            if 0 <= candidate < len(lines) and lines[candidate].rstrip("\r\n") == item.line_text:
                kept.append(replace(item, line=candidate))
                break
    return kept


def _reanchor(placed: Sequence[PlacedFinding], lines: Sequence[str]) -> list[PlacedFinding]:
    """After a whole-document change: keep each finding on the nearest line with its text."""
    texts = [line.rstrip("\r\n") for line in lines]
    kept = []
    for item in placed:
        matches = [index for index, text in enumerate(texts) if text == item.line_text]
        if item.line_text.strip() and matches:
            nearest = min(matches, key=lambda index: abs(index - item.line))
            kept.append(replace(item, line=nearest))
    return kept


COMMENT_PREFIX: dict[str, str] = {"python": "#"}


def todo_line(finding_line: str, path: str, suggestion: str) -> str:
    """A comment holding the suggested change, indented like the finding's line; "Plan this
    change…" on it takes the TODO text as the request (no plugin needed)."""
    language = language_for(path)
    prefix = COMMENT_PREFIX.get(language or "python", "//")
    indent = finding_line[: len(finding_line) - len(finding_line.lstrip())]
    words = " ".join(suggestion.split())
    return f"{indent}{prefix} TODO(tandem): {words}\n"
