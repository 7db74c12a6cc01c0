"""Findings are placed on lines, mapped to diagnostics, and follow the code as it changes."""

from __future__ import annotations

from lsprotocol import types

from tandem.flow.handoff import Finding
from tandem.lsp.review_diagnostics import (
    PlacedFinding,
    line_change,
    locate,
    lsp_diagnostic,
    place_findings,
    shift_findings,
    todo_line,
)

CODE = "import x\n\n\nclass Api:\n    def get(self):\n        return 1\n"
FILES = {"app/api.py": CODE, "docs/notes.md": "hello\n"}


def read(path: str) -> str | None:
    return FILES.get(path)


def finding(location: str, severity: str = "major", suggested: str | None = "do it") -> Finding:
    return Finding(
        severity=severity,  # type: ignore[arg-type]
        category="bug",
        location=location,
        message="wrong",
        suggested_change=suggested,
    )


def test_locations_are_a_line_a_unit_or_a_file() -> None:
    assert locate("app/api.py:6", read) == ("app/api.py", 5)
    assert locate("app/api.py:5-6", read) == ("app/api.py", 4)
    assert locate("app/api.py::Api.get", read) == ("app/api.py", 4)
    assert locate("app/api.py::missing", read) == ("app/api.py", 0)
    assert locate("app/api.py", read) == ("app/api.py", 0)
    assert locate("app/api.py:999", read) == ("app/api.py", 5)  # clamped to the last line
    assert locate("docs/notes.md:1", read) == ("docs/notes.md", 0)
    assert locate("elsewhere.py:3", read) is None
    assert locate("../etc/passwd:1", read) is None


def test_a_unit_finding_sits_on_the_line_that_defines_the_unit_not_its_comments() -> None:
    files = {
        "app/shapes.py": (
            "class Circle:\n"
            "    # The area, in square units.\n"
            "    @property\n"
            "    def area(self):\n"
            "        return 3\n"
        ),
        "src/parser.rs": (
            "impl Parser {\n"
            "    /// Feeds input to the parser.\n"
            "    #[inline]\n"
            "    pub fn feed(&mut self) {}\n"
            "}\n"
        ),
    }
    assert locate("app/shapes.py::Circle.area", files.get) == ("app/shapes.py", 3)
    assert locate("src/parser.rs::Parser::feed", files.get) == ("src/parser.rs", 3)


def test_a_finding_becomes_a_diagnostic_with_the_contracts_fields() -> None:
    [placed] = place_findings("t1", [finding("app/api.py:6", "blocking")], read, "file:///p.md")
    diagnostic = lsp_diagnostic(placed, "utf-16")
    assert diagnostic.source == "tandem" and diagnostic.code == "bug"
    assert diagnostic.severity == types.DiagnosticSeverity.Error
    assert diagnostic.range == types.Range(
        start=types.Position(line=5, character=8), end=types.Position(line=5, character=16)
    )
    assert diagnostic.message == "wrong\nSuggested change: do it"
    [related] = diagnostic.related_information or []
    assert related.location.uri == "file:///p.md"
    assert diagnostic.data == {
        "task_id": "t1",
        "round": 1,
        "index": 0,
        "severity": "blocking",
        "suggested_change": "do it",
    }


def test_severities_map_blocking_major_minor_nit() -> None:
    found = [finding("app/api.py:1", s) for s in ("blocking", "major", "minor", "nit")]
    placed = place_findings("t", found, read, "file:///p.md")
    assert [lsp_diagnostic(p, "utf-16").severity for p in placed] == [
        types.DiagnosticSeverity.Error,
        types.DiagnosticSeverity.Warning,
        types.DiagnosticSeverity.Information,
        types.DiagnosticSeverity.Hint,
    ]


def test_ranges_count_in_the_negotiated_encoding() -> None:
    placed = PlacedFinding("t", "a.py", 0, finding("a.py:1"), "    s = 'é😀'", "file:///p.md")
    assert lsp_diagnostic(placed, "utf-16").range.end.character == 13
    assert lsp_diagnostic(placed, "utf-8").range.end.character == 16


def change(
    start: tuple[int, int], end: tuple[int, int], text: str
) -> types.TextDocumentContentChangePartial:
    return types.TextDocumentContentChangePartial(
        range=types.Range(
            start=types.Position(line=start[0], character=start[1]),
            end=types.Position(line=end[0], character=end[1]),
        ),
        text=text,
    )


DOC = [f"line {n}\n" for n in range(12)]


def at(line: int) -> PlacedFinding:
    return PlacedFinding("t", "a.py", line, finding("a.py:1"), f"line {line}", "file:///p.md")


def lines_after(
    c: types.TextDocumentContentChangePartial, new_lines: list[str], *lines: int
) -> list[int]:
    return [p.line for p in shift_findings([at(n) for n in lines], [line_change(c)], new_lines)]


def test_findings_below_an_edit_move_with_it_and_those_above_stay() -> None:
    typed = [*DOC[:3], "a\n", "b\n", *DOC[3:]]
    assert lines_after(change((3, 0), (3, 0), "a\nb\n"), typed, 1, 3, 8) == [1, 5, 10]
    deleted = [*DOC[:2], *DOC[4:]]
    assert lines_after(change((2, 0), (4, 0), ""), deleted, 1, 4, 8) == [1, 2, 6]


def test_a_finding_whose_line_was_edited_is_dropped() -> None:
    typed = [*DOC[:5], "linex 5\n", *DOC[6:]]
    assert lines_after(change((5, 4), (5, 4), "x"), typed, 4, 5, 6) == [4, 6]
    indented = [*DOC[:5], "    line 5\n", *DOC[6:]]
    assert lines_after(change((5, 0), (5, 0), "    "), indented, 5) == []
    joined = [*DOC[:4], "linline 5\n", *DOC[6:]]
    assert lines_after(change((4, 3), (5, 0), ""), joined, 5) == []
    broken = [*DOC[:4], "line\n", " 4\n", *DOC[5:]]
    assert lines_after(change((4, 4), (4, 4), "\n"), broken, 5) == [6]


def test_a_late_report_of_an_edit_the_review_already_saw_keeps_the_finding() -> None:
    # The review saw the new text (line 5 reads "line 5"); the editor reports the edit that
    # produced it afterwards: the line is unchanged, so the finding stays where it is.
    assert lines_after(change((4, 0), (6, 0), "line 4\nline 5\n"), DOC, 5, 9) == [5, 9]
    grown = [*DOC[:4], "new\n", *DOC[4:]]
    late = change((3, 0), (4, 0), "line 3\nnew\n")
    assert lines_after(late, grown, 8) == [9]
    assert lines_after(late, DOC, 8) == [8]  # already in place: kept where it was


def test_a_whole_document_change_keeps_findings_on_their_lines_text() -> None:
    placed = [at(1), at(3)]
    new_lines = ["header\n", "line 3\n", "line 1\n"]
    whole = line_change(types.TextDocumentContentChangeWholeDocument(text="".join(new_lines)))
    kept = shift_findings(placed, [whole], new_lines)
    assert [(p.line, p.line_text) for p in kept] == [(2, "line 1"), (1, "line 3")]
    assert shift_findings(placed, [None], ["nothing\n"]) == []


def test_the_todo_of_a_quick_fix_is_a_comment_in_the_files_language() -> None:
    assert todo_line("        return 1", "app/api.py", "check  the\nvalue") == (
        "        # TODO(tandem): check the value\n"
    )
    assert todo_line("  x()", "web/app.ts", "guard") == "  // TODO(tandem): guard\n"
