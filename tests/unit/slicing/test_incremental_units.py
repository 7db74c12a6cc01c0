"""Units of an edited buffer equal a fresh extraction, whatever the edits: lines inserted and
deleted anywhere, characters typed and deleted (syntax errors included), read after each edit
or after several."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tandem.slicing.edit_reparse import compose, edit_between
from tandem.slicing.extract import extract_units
from tandem.slicing.open_document import OpenDocument
from tandem.slicing.records import FileRecord, unit_idents

PYTHON = '''"""Module docs."""

import os

# Leads into the class.
class Store:
    """Keeps things."""

    def get(self, key):
        return self.items[key]

    @property
    def size(self):
        return len(self.items)


@decorated
def helper(value):
    return value * 2
LIMIT = 10; OTHER = 2


def last():
    return helper(LIMIT)
'''

RUST = """//! Crate docs.

/// Adds numbers.
pub fn add(a: i32, b: i32) -> i32 {
    a + b
}

#[derive(Debug)]
struct Point {
    x: i32,
}

impl Point {
    fn norm(&self) -> i32 {
        self.x.abs()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn adds() {
        assert_eq!(super::add(1, 2), 3);
    }
}
"""

TYPESCRIPT = """// Leading comment.
export function area(side: number): number {
  return side * side;
}

/** A shape. */
export class Square {
  constructor(public side: number) {}

  perimeter(): number {
    return 4 * this.side;
  }
}
const LIMIT = 3; let other = 4;
"""

SOURCES = {"pkg/module.py": PYTHON, "src/lib.rs": RUST, "web/shapes.ts": TYPESCRIPT}
LINES = ["", "# note", "// note", "def added(x):", "    return x", "}", "fn f() {", "class A:"]
LINES += ["@dec", "    /// doc", "#[test]"]
CHARACTERS = "x(){}:'\"#\n /*"


@st.composite
def edits(draw: st.DrawFn, text: str) -> list[str]:
    """Successive versions of ``text``, each one edit away from the one before."""
    versions = []
    for _ in range(draw(st.integers(1, 12))):
        lines = text.splitlines(keepends=True) or [""]
        kind = draw(st.sampled_from(["insert lines", "delete lines", "type", "delete char"]))
        at = draw(st.integers(0, len(lines) - 1))
        count = draw(st.sampled_from([1, 1, 1, 2, 5]))
        if kind == "insert lines":
            pasted = draw(st.lists(st.sampled_from(LINES), min_size=count, max_size=count))
            lines[at:at] = [line + "\n" for line in pasted]
            text = "".join(lines)
        elif kind == "delete lines":
            del lines[at : at + count]
            text = "".join(lines)
        else:
            offset = draw(st.integers(0, len(text)))
            if kind == "type":
                text = text[:offset] + draw(st.sampled_from(CHARACTERS)) + text[offset:]
            else:
                text = text[:offset] + text[offset + 1 :]
        versions.append(text)
    return versions


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.sampled_from(sorted(SOURCES)))
def test_units_after_any_edits_equal_a_fresh_extraction(data: st.DataObject, path: str) -> None:
    text = SOURCES[path] * 3  # several copies: most edits touch a small part
    document = OpenDocument(path, text, 1, 1_000_000)
    assert document.record() is not None  # parsed once; from here every edit is followed
    versions = data.draw(edits(text))
    for version, changed in enumerate(versions, start=2):
        document.update(changed, version)
        if version < len(versions) + 1 and data.draw(st.booleans()):
            continue  # not read: the next read follows several edits at once
        record = document.record()
        assert isinstance(record, FileRecord)
        fresh = extract_units(path, changed, record.language)
        assert record.units == fresh.units
        assert record.has_errors == fresh.has_errors
        assert record.idents == unit_idents(changed.encode("utf-8"), fresh.units)
        assert record.text == changed


def _point(data: bytes, offset: int) -> tuple[int, int]:
    return data.count(b"\n", 0, offset), offset - (data.rfind(b"\n", 0, offset) + 1)


@settings(max_examples=300, deadline=None)
@given(st.text("ab\n", max_size=12), st.data())
def test_two_touching_edits_compose_into_the_one_between_first_and_last_text(
    text: str, data: st.DataObject
) -> None:
    def edited(before: str) -> str:
        start = data.draw(st.integers(0, len(before)))
        end = data.draw(st.integers(start, len(before)))
        return before[:start] + data.draw(st.text("ab\n", max_size=4)) + before[end:]

    middle = edited(text)
    last = edited(middle)
    first_edit = edit_between(text.encode(), middle.encode())
    second_edit = edit_between(middle.encode(), last.encode())
    if first_edit is None or second_edit is None:
        return
    joined = compose(first_edit, second_edit)
    if joined is None:
        return
    old, new = text.encode(), last.encode()
    assert old[: joined.start_byte] == new[: joined.start_byte]
    assert old[joined.old_end_byte :] == new[joined.new_end_byte :]
    assert joined.start_point == _point(old, joined.start_byte)
    assert joined.old_end_point == _point(old, joined.old_end_byte)
    assert joined.new_end_point == _point(new, joined.new_end_byte)
