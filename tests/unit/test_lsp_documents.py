"""Open documents edited by lines give exactly pygls' text and lines, at any edit."""

from __future__ import annotations

from unittest.mock import patch

from hypothesis import example, given, settings
from hypothesis import strategies as st
from lsprotocol import types
from pygls.workspace import PositionCodec, TextDocument

from tandem.lsp import line_blocks
from tandem.lsp.documents import BoundedTextDocument, document_length

URI = "file:///tmp/doc.py"
TEXT = st.text(alphabet="ab \r\n\t\u2028é😀", max_size=40)
EDIT = st.tuples(st.integers(0, 8), st.integers(0, 6), st.integers(0, 8), st.integers(0, 6), TEXT)


def _change(edit: tuple[int, int, int, int, str]) -> types.TextDocumentContentChangePartial:
    start_line, start_char, end_line, end_char, text = edit
    return types.TextDocumentContentChangePartial(
        range=types.Range(
            start=types.Position(line=start_line, character=start_char),
            end=types.Position(line=end_line, character=end_char),
        ),
        text=text,
    )


@settings(max_examples=400, deadline=None)
@given(
    TEXT,
    st.lists(EDIT, max_size=8),
    st.sampled_from(["utf-8", "utf-16", "utf-32"]),
    st.sampled_from([1, 2, 1024]),
)
@example("ab\n\n", [(0, 3, 0, 3, "x\r")], "utf-16", 1024)  # a "\r" typed before a line's "\n"
@example("a\r\n", [(0, 1, 0, 2, "")], "utf-16", 1024)  # "\r\n" split, then joined again
@example("a\rb\n", [(1, 0, 1, 1, "\n")], "utf-8", 1024)  # a "\n" typed after a lone "\r"
def test_incremental_changes_give_pygls_text_and_lines(
    text: str, edits: list[tuple[int, int, int, int, str]], encoding: str, block_lines: int
) -> None:
    with patch.object(line_blocks, "BLOCK_LINES", block_lines):
        _check_changes(text, edits, encoding)


def _check_changes(text: str, edits: list[tuple[int, int, int, int, str]], encoding: str) -> None:
    codec = PositionCodec(types.PositionEncodingKind(encoding))
    reference = TextDocument(URI, text, version=1, position_codec=codec)
    document = BoundedTextDocument(URI, text, version=1, position_codec=codec)
    for edit in edits:
        reference.apply_change(_change(edit))
        document.apply_change(_change(edit))
        # Lines first: they must be right before the text is ever joined again.
        assert document.lines == reference.lines
        assert document_length(document) == len(reference.source)
    assert document.source == reference.source


def test_a_full_change_replaces_the_kept_lines() -> None:
    document = BoundedTextDocument(URI, "a\nb\n", version=1)
    assert document.lines == ("a\n", "b\n")
    document.apply_change(types.TextDocumentContentChangeWholeDocument(text="c\n"))
    assert document.lines == ("c\n",) and document.source == "c\n" and document.length == 2


def test_lines_held_across_a_change_stay_as_they_were() -> None:
    document = BoundedTextDocument(URI, "a\nb\n", version=1)
    held = document.lines
    document.apply_change(_change((0, 0, 0, 1, "z")))
    assert held == ("a\n", "b\n") and document.lines == ("z\n", "b\n")
