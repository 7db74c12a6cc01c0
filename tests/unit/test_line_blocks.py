"""A document's lines in blocks behave exactly like a tuple of the same lines, at any splice."""

from __future__ import annotations

from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st

from tandem.lsp import line_blocks
from tandem.lsp.line_blocks import Lines

LINE = st.sampled_from(["a\n", "b\n", "\n", "c", "é😀\r\n"])
SPLICE = st.tuples(st.integers(0, 30), st.integers(0, 30), st.lists(LINE, max_size=7))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.lists(LINE, max_size=4), max_size=8),
    st.lists(SPLICE, max_size=8),
    st.integers(1, 4),
)
def test_splices_indexing_and_slices_match_a_tuple(
    blocks: list[list[str]], splices: list[tuple[int, int, list[str]]], block_lines: int
) -> None:
    with patch.object(line_blocks, "BLOCK_LINES", block_lines):
        lines = Lines(tuple(tuple(block) for block in blocks))
        reference = tuple(line for block in blocks for line in block)
        for low, high, new in splices:
            low = min(low, len(reference))
            high = min(max(low, high), len(reference))
            lines = lines.splice(low, high, new)
            reference = reference[:low] + tuple(new) + reference[high:]
            assert lines == reference and tuple(lines) == reference
            assert len(lines) == len(reference)
            assert [lines[i] for i in range(-len(reference), len(reference))] == [
                reference[i] for i in range(-len(reference), len(reference))
            ]
            for start in range(len(reference) + 1):
                assert lines[start : start + 5] == reference[start : start + 5]
            assert lines[::2] == reference[::2]


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet="ab\n\r\u2028", max_size=60),
    st.integers(1, 8),
    st.lists(SPLICE, max_size=4),
)
def test_a_text_split_a_chunk_at_a_time_gives_its_splitlines(
    text: str, chunk_chars: int, splices: list[tuple[int, int, list[str]]]
) -> None:
    with patch.object(line_blocks, "CHUNK_CHARS", chunk_chars):
        lines = Lines.of_text(text)
        reference = tuple(text.splitlines(True))
        assert len(lines) == len(reference) and lines == reference
        for low, high, new in splices:
            low = min(low, len(reference))
            high = min(max(low, high), len(reference))
            lines = lines.splice(low, high, new)
            reference = reference[:low] + tuple(new) + reference[high:]
            assert lines == reference and lines[low:high] == reference[low:high]


def test_an_index_past_the_end_is_an_index_error() -> None:
    lines = Lines.of(["a\n", "b\n"])
    try:
        lines[2]
    except IndexError:
        pass
    else:
        raise AssertionError("expected IndexError")


def test_a_splice_leaves_the_original_lines_as_they_were() -> None:
    original = Lines.of([f"{n}\n" for n in range(5000)])
    changed = original.splice(2500, 2501, ["x\n", "y\n"])
    assert original[2500] == "2500\n" and len(original) == 5000
    assert changed[2500:2503] == ("x\n", "y\n", "2501\n") and len(changed) == 5001
