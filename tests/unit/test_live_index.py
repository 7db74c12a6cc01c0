"""The live index: open buffers win over the disk, edits reparse incrementally and give the
same units as a full parse, files changed on disk are reread, and whole-file tokens add up."""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

import pytest

from tandem.config import Settings
from tandem.cost.tokens import count_tokens
from tandem.slicing import open_document
from tandem.slicing.edit_reparse import edit_between
from tandem.slicing.extract import extract_units
from tandem.slicing.live import LiveIndex
from tandem.slicing.open_document import OpenDocument
from tandem.slicing.records import FileRecord

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "projects_api"

PYTHON = '''"""A module."""

import os


# A comment that belongs to the class below.
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


LIMIT = 10


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

GO = """package shapes

// Area of a square.
func Area(side int) int {
	return side * side
}

type Square struct {
	Side int
}

// Perimeter of the square.
func (s Square) Perimeter() int {
	return 4 * s.Side
}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return Path(shutil.copytree(EXAMPLE, tmp_path / "project"))


def test_edit_between_finds_the_single_changed_span() -> None:
    old = "héllo wörld\nsecond line\n".encode()
    new = "héllo brave wörld\nsecond line\n".encode()
    edit = edit_between(old, new)
    assert edit is not None
    assert old[: edit.start_byte] == new[: edit.start_byte]
    assert old[edit.old_end_byte :] == new[edit.new_end_byte :]
    assert new[edit.start_byte : edit.new_end_byte] == b"brave "
    assert edit.start_point == (0, len("héllo ".encode()))
    assert edit_between(old, old) is None


COMMENT = {"py": "# note\n", "rs": "// note\n", "go": "// note\n"}
FUNCTION = {
    "py": "\ndef appended():\n    return 1\n",
    "rs": "\nfn appended() -> i32 {\n    1\n}\n",
    "go": "\nfunc Appended() int {\n\treturn 1\n}\n",
}


def _mutations(path: str, text: str, rng: random.Random) -> list[str]:
    """Edits of every kind: insert lines, delete lines, rewrite inside a line, append."""
    suffix = path.rsplit(".", 1)[-1]
    lines = text.splitlines(keepends=True)
    out = []
    for _ in range(25):
        changed = list(lines)
        at = rng.randrange(len(changed))
        kind = rng.choice(["insert", "delete", "rewrite", "append"])
        if kind == "insert":
            changed.insert(at, rng.choice(["\n", COMMENT[suffix]]))
        elif kind == "delete" and changed[at].strip() in ("", COMMENT[suffix].strip()):
            del changed[at]
        elif kind == "rewrite":
            changed[at] = changed[at].replace("2", "3", 1).replace("x", "xy", 1)
        else:
            changed.append(FUNCTION[suffix])
        out.append("".join(changed))
        lines = changed
    return out


@pytest.mark.parametrize(
    ("path", "text"),
    [("pkg/module.py", PYTHON), ("src/lib.rs", RUST), ("shapes/area.go", GO)],
)
def test_incremental_units_equal_a_full_parse_after_every_edit(
    path: str, text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    shortcuts: list[bool] = []
    real = open_document.splice_units

    def counted(*args: Any) -> Any:
        found = real(*args)
        shortcuts.append(found is not None)
        return found

    monkeypatch.setattr(open_document, "splice_units", counted)
    rng = random.Random(7)
    body = text.split("\n", 2)[2]  # without the module's first line (docs, package)
    names = ("Store", "helper", "last", "add", "Point", "tests", "Area", "Square", "Perimeter")
    copies = []
    for copy in range(6):  # a longer file, so most edits touch a small part of it
        renamed = body
        for name in names:
            renamed = renamed.replace(name, f"{name}{copy}")
        copies.append(renamed)
    text = text + "".join(copies)
    document = OpenDocument(path, text, 1, 1_000_000)
    for version, changed in enumerate(_mutations(path, text, rng), start=2):
        document.update(changed, version)
        record = document.record()
        assert isinstance(record, FileRecord)
        language = record.language
        assert record.units == extract_units(path, changed, language).units, changed
    assert sum(shortcuts) >= 5  # the shortcut was taken, not only the full parse


def test_open_buffers_win_over_the_disk(project: Path) -> None:
    index = LiveIndex(project, Settings())
    on_disk = (project / "app" / "queries.py").read_text(encoding="utf-8")
    edited = on_disk + "\n\ndef count_projects(connection):\n    return 0\n"
    index.open_document("app/queries.py", edited, 3)
    record = index.record("app/queries.py")
    assert isinstance(record, FileRecord)
    assert "count_projects" in [unit.name for unit in record.units]
    assert index.text_of("app/queries.py") == edited
    context = index.slice("app/queries.py", edited.count("\n") - 1, edited.count("\n") - 1)
    assert [unit.name for unit in context.touched] == ["count_projects"]
    index.close_document("app/queries.py")
    assert index.text_of("app/queries.py") == on_disk


def test_a_build_parses_every_file_and_changes_on_disk_are_reread(project: Path) -> None:
    index = LiveIndex(project, Settings())
    steps = list(index.build_steps())
    assert index.ready and steps[-1][0] == steps[-1][1] == len(index.walk().files)
    (project / "app" / "extra.py").write_text("def extra():\n    return 1\n", encoding="utf-8")
    index.file_changed("app/extra.py")
    assert "app/extra.py" in index.walk().files
    record = index.record("app/extra.py")
    assert isinstance(record, FileRecord) and record.units[0].name == "extra"
    (project / "app" / "extra.py").write_text("def renamed():\n    return 1\n", encoding="utf-8")
    index.file_changed("app/extra.py")
    record = index.record("app/extra.py")
    assert isinstance(record, FileRecord) and record.units[0].name == "renamed"
    (project / "app" / "extra.py").unlink()
    index.file_deleted("app/extra.py")
    assert "app/extra.py" not in index.walk().files


def test_whole_file_tokens_are_close_to_one_count_of_the_file(project: Path) -> None:
    index = LiveIndex(project, Settings())
    text = "".join(
        f"def handler_{i}(request):\n    return request.value * {i}\n\n" for i in range(400)
    )
    exact = count_tokens(text)
    chunked = index.whole_tokens(text)
    assert abs(chunked - exact) <= exact * 0.02
    assert index.whole_tokens(text) == chunked  # counted once per chunk content


def test_edits_far_apart_between_reads_each_reread_only_their_region(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = "".join(f"def handler_{i}(value):\n    return value * {i}\n\n\n" for i in range(400))
    document = OpenDocument("app/big.py", text, 1, 1_000_000)
    assert document.record() is not None
    whole: list[int] = []
    fresh: list[int] = []
    real_whole, real_splice = open_document.units_from_tree, open_document.splice_units

    def counted_whole(*args: Any) -> Any:
        whole.append(1)
        return real_whole(*args)

    def counted_splice(*args: Any) -> Any:
        found = real_splice(*args)
        fresh.extend(len(units) for _, units in found.fresh) if found else fresh.append(-1)
        return found

    monkeypatch.setattr(open_document, "units_from_tree", counted_whole)
    monkeypatch.setattr(open_document, "splice_units", counted_splice)
    first = text.replace("value * 3\n", "value * 33\n")
    both = first.replace("value * 390\n", "(value * 391\n")  # a syntax error, too
    document.update(first, 2)
    document.update(both, 3)
    record = document.record()
    assert isinstance(record, FileRecord)
    assert record.units == extract_units("app/big.py", both, "python").units
    assert not whole and len(fresh) == 2 and all(0 < count <= 3 for count in fresh)


def test_a_buffer_over_the_size_limit_is_never_parsed() -> None:
    text = "def f():\n    return 1\n" * 100
    document = OpenDocument("app/big.py", text, 1, 1_000)
    assert document.skipped is not None and "too large to slice" in document.skipped
    assert document.record() == document.skipped and document.tree() is None
    document.update("def f():\n    return 1\n", 2)
    assert document.skipped is None and isinstance(document.record(), FileRecord)
    document.oversized(5_000, 3)
    assert document.record() == document.skipped and document.text == ""


def test_a_buffer_measured_by_its_characters_is_said_to_be_at_least_that_many_bytes() -> None:
    # ``é`` is two bytes in UTF-8: a buffer counted in characters is never encoded to learn
    # its size, so the message must not claim the count is its size in bytes
    document = OpenDocument("app/big.py", "é" * 1_500, 1, 1_000)
    assert document.skipped is not None and "at least 1,500 bytes" in document.skipped
    document.oversized(5_000, 2)
    assert document.skipped is not None and "at least 5,000 bytes" in document.skipped
    document.update("x = 'é'\n" * 120, 3)  # 960 characters, 1,080 bytes: counted exactly
    assert document.skipped is not None and ": 1,080 bytes is over" in document.skipped


@pytest.mark.parametrize(
    ("path", "line"),
    [("app/handlers.py", 19), ("app/queries.py", 8), ("app/permissions.py", 5), ("app/db.py", 4)],
)
def test_the_live_index_slices_like_the_cli(project: Path, path: str, line: int) -> None:
    from tandem.slicing.result import FileRangeAnchor
    from tandem.slicing.slicer import slice_repository

    settings = Settings()
    live_index = LiveIndex(project, settings)
    list(live_index.build_steps())
    live = live_index.slice(path, line, line)
    anchor = FileRangeAnchor(path=path, start_line=line, end_line=line)
    cli = slice_repository(project, anchor, settings)
    assert live.touched == cli.touched and live.tests == cli.tests
    assert live.callees == cli.callees and live.text == cli.text
