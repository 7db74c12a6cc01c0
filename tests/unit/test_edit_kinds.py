"""patch, delete_unit, rename_file, delete_file: applied exactly, or refused and never written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tandem.flow.edit_files import WriteRefused, read_repo_file
from tandem.flow.edits import (
    EditResult,
    apply_edits,
    files_snapshot,
    snapshot_text,
    take_snapshot,
    write_files,
)
from tandem.flow.handoff import Edit, Scope

SOURCE = """import os


def first():
    x = 1
    return x


def second():
    x = 1
    return x + 1
"""
FILES = ["m.py", "README.md", "config.yaml", "new.py", "tests/test_m.py"]
ALL = Scope(units=[], files=FILES, out_of_scope=[])


def patch(target: str, old: str | None, new: str) -> Edit:
    return Edit(kind="patch", target=target, old=old, new=new, reason="r")


def edit(kind: str, target: str, new: str = "") -> Edit:
    return Edit.model_validate(
        {"kind": kind, "target": target, "old": None, "new": new, "reason": "r"}
    )


def apply(
    text: str, edits: list[Edit], scope: Scope | None = ALL, path: str = "m.py"
) -> EditResult:
    return apply_edits(files_snapshot({path: snapshot_text(path, text)}), edits, scope)


def refused(result: EditResult) -> list[str]:
    return [rejected.reason for rejected in result.rejected]


# ---- patch -----------------------------------------------------------------------------------


def test_a_patch_replaces_its_text_once_inside_the_unit_it_names() -> None:
    result = apply(SOURCE, [patch("m.py::second", "    x = 1\n", "    x = 2\n")])
    assert refused(result) == []
    assert result.files["m.py"] == SOURCE.replace(
        "x = 1\n    return x + 1", "x = 2\n    return x + 1"
    )


def test_old_absent_is_refused_with_the_count_and_nothing_changes() -> None:
    result = apply(SOURCE, [patch("m.py::first", "    y = 1\n", "    y = 2\n")])
    assert refused(result) == ["old does not occur in m.py::first (0 occurrences)"]
    assert result.files == {} and result.diff == ""


def test_old_present_twice_is_refused_naming_the_count() -> None:
    result = apply(SOURCE, [patch("m.py", "    x = 1\n", "    x = 2\n")])
    assert refused(result)[0].startswith("old occurs 2 times in m.py; include more")
    assert result.files == {}


def test_an_empty_old_is_refused() -> None:
    assert "needs the exact current text" in refused(apply(SOURCE, [patch("m.py", "", "x")]))[0]
    assert "needs the exact current text" in refused(apply(SOURCE, [patch("m.py", None, "x")]))[0]


def test_overlapping_patches_are_refused_after_the_first() -> None:
    edits = [
        patch("m.py::first", "    x = 1\n    return x\n", "    return 1\n"),
        patch("m.py::first", "    return x\n", "    return 2\n"),
    ]
    result = apply(SOURCE, edits)
    assert refused(result) == ["overlaps an earlier edit of m.py::first"]
    assert result.applied == [edits[0]]


@pytest.mark.parametrize("patch_first", [True, False])
def test_a_patch_and_a_replace_unit_of_one_unit_overlap(patch_first: bool) -> None:
    edits = [
        patch("m.py::first", "    x = 1\n", "    x = 3\n"),
        edit("replace_unit", "m.py::first", "def first():\n    return 3\n"),
    ]
    result = apply(SOURCE, edits if patch_first else edits[::-1])
    assert len(result.applied) == 1
    assert refused(result)[0].startswith("overlaps an earlier edit of m.py::first")


def test_two_patches_of_one_unit_that_do_not_overlap_both_apply() -> None:
    edits = [
        patch("m.py::second", "def second():\n", "def second(y):\n"),
        patch("m.py::second", "    return x + 1\n", "    return x + y\n"),
    ]
    result = apply(SOURCE, edits)
    assert refused(result) == []
    assert "def second(y):\n    x = 1\n    return x + y\n" in result.files["m.py"]


def test_crlf_files_keep_their_line_endings() -> None:
    crlf = SOURCE.replace("\n", "\r\n")
    edits = [
        patch("m.py::first", "    x = 1\n    return x\n", "    x = 10\n    return x\n"),
        edit("replace_unit", "m.py::second", "def second():\n    return 2\n"),
    ]
    result = apply(crlf, edits)
    assert refused(result) == []
    expected = SOURCE.replace("x = 1\n    return x\n", "x = 10\n    return x\n", 1)
    expected = expected.replace("    x = 1\n    return x + 1\n", "    return 2\n")
    assert result.files["m.py"] == expected.replace("\n", "\r\n")


def test_old_may_be_the_changed_words_of_a_line_also_in_a_crlf_file() -> None:
    """The prompt asks for the shortest old that occurs once: part of a line is exact too."""
    crlf = SOURCE.replace("\n", "\r\n")
    result = apply(crlf, [patch("m.py::second", "x + 1", "x + y"), patch("m.py", "os\n", "sys\n")])
    assert refused(result) == []
    assert result.files["m.py"] == crlf.replace("x + 1", "x + y").replace("import os", "import sys")
    ambiguous = apply(crlf, [patch("m.py", "x = 1", "x = 2")])
    assert refused(ambiguous)[0].startswith("old occurs 2 times in m.py; include more")
    assert ambiguous.files == {}


def test_a_file_without_a_final_newline_keeps_lacking_one() -> None:
    text = SOURCE.rstrip("\n")
    result = apply(text, [patch("m.py", "    return x + 1", "    return x + 2")])
    assert result.files["m.py"] == text.replace("x + 1", "x + 2")
    replaced = apply(text, [edit("replace_unit", "m.py::second", "def second():\n    return 5\n")])
    assert replaced.files["m.py"].endswith("def second():\n    return 5")


def test_old_with_a_newline_the_file_lacks_is_refused_with_the_reason() -> None:
    result = apply(SOURCE.rstrip("\n"), [patch("m.py", "    return x + 1\n", "    return 0\n")])
    assert refused(result) == [
        "old does not occur in m.py (0 occurrences); the file has no newline at its end: "
        "leave it out of old"
    ]


def test_tabs_where_the_file_has_spaces_are_refused_not_matched_loosely() -> None:
    result = apply(SOURCE, [patch("m.py::first", "\tx = 1\n\treturn x\n", "\treturn 1\n")])
    assert "0 occurrences" in refused(result)[0]
    assert "whitespace is ignored" in refused(result)[0]
    assert result.files == {}


def test_old_found_outside_the_named_unit_says_so() -> None:
    result = apply(SOURCE, [patch("m.py::first", "import os\n", "import sys\n")])
    assert refused(result)[0].endswith(
        "it occurs elsewhere in the file: target the file path or the unit that holds it"
    )


def test_a_placeholder_in_new_is_refused() -> None:
    new = "    x = '<<REDACTED:aws-key:1>>'\n"
    result = apply(SOURCE, [patch("m.py::first", "    x = 1\n", new)])
    assert "<<REDACTED:aws-key:1>>" in refused(result)[0]
    assert result.files == {}


def test_patches_reach_files_tandem_does_not_slice() -> None:
    readme = "# Title\n\nSome text.\n"
    result = apply(readme, [patch("README.md", "Some text.\n", "Other text.\n")], path="README.md")
    assert result.files == {"README.md": "# Title\n\nOther text.\n"}
    config = "a: 1\nb: 2\n"
    result = apply(config, [patch("config.yaml", "b: 2\n", "b: 3\nc: 4\n")], path="config.yaml")
    assert result.files == {"config.yaml": "a: 1\nb: 3\nc: 4\n"}


def test_a_file_patch_may_change_imports_when_only_units_are_in_scope() -> None:
    scope = Scope(units=["m.py::first"], files=["m.py"], out_of_scope=[])
    imports = patch("m.py", "import os\n", "import os\nimport sys\n")
    inside = patch("m.py", "def first():\n    x = 1\n", "def first():\n    x = 5\n")
    elsewhere = patch("m.py", "def second():\n", "def second(y):\n")
    result = apply(SOURCE, [imports, inside, elsewhere], scope)
    assert result.applied == [imports, inside]
    assert result.rejected[0].scope_drift
    assert refused(result) == [
        "scope drift: the patch changes m.py::second, not among the plan's units"
    ]


def test_a_patch_of_an_unscoped_unit_is_scope_drift() -> None:
    scope = Scope(units=["m.py::first"], files=["m.py"], out_of_scope=[])
    result = apply(SOURCE, [patch("m.py::second", "    x = 1\n", "    x = 2\n")], scope)
    assert result.scope_drift and "not among the plan's units" in refused(result)[0]


# ---- units and files -------------------------------------------------------------------------


def test_delete_unit_removes_the_unit_and_one_blank_run() -> None:
    result = apply(SOURCE, [edit("delete_unit", "m.py::first")])
    assert result.files["m.py"] == SOURCE.replace("def first():\n    x = 1\n    return x\n\n\n", "")
    last = apply(SOURCE, [edit("delete_unit", "m.py::second")])
    assert last.files["m.py"] == SOURCE.split("\n\n\ndef second")[0] + "\n"


def test_delete_unit_of_a_method_keeps_the_closing_brace() -> None:
    java = "class A {\n    void a() {}\n\n    void b() {}\n}\n"
    result = apply(java, [edit("delete_unit", "A.java::A.b")], path="A.java", scope=None)
    assert refused(result) == []
    assert result.files["A.java"] == "class A {\n    void a() {}\n}\n"


def test_new_file_is_written_verbatim_even_empty_or_without_a_final_newline() -> None:
    result = apply(SOURCE, [edit("new_file", "new.py", "x = 1")])
    assert result.files["new.py"] == "x = 1"
    assert apply(SOURCE, [edit("new_file", "new.py", "")]).files["new.py"] == ""


def test_delete_file_and_an_edit_of_the_same_file_conflict() -> None:
    result = apply(SOURCE, [edit("delete_file", "m.py"), patch("m.py", "import os\n", "")])
    assert result.removed == ["m.py"] and result.files == {}
    assert refused(result) == ["m.py is deleted by an earlier edit"]
    other_way = apply(SOURCE, [patch("m.py", "import os\n", ""), edit("delete_file", "m.py")])
    assert refused(other_way) == ["m.py is changed by an earlier edit"]
    assert "+++ /dev/null" in result.diff


def test_rename_moves_the_file_with_its_edits() -> None:
    edits = [edit("rename_file", "m.py", "new.py"), patch("m.py", "import os\n", "import sys\n")]
    result = apply(SOURCE, edits)
    assert refused(result) == []
    assert result.files == {"new.py": SOURCE.replace("import os", "import sys")}
    assert result.removed == ["m.py"] and result.renamed == {"m.py": "new.py"}
    assert result.diff.startswith(
        "diff --git a/m.py b/new.py\nrename from m.py\nrename to new.py\n"
    )


def test_rename_onto_an_existing_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(SOURCE)
    (tmp_path / "new.py").write_text("keep = True\n")
    snapshot = take_snapshot(tmp_path, ["m.py", "new.py"])
    result = apply_edits(snapshot, [edit("rename_file", "m.py", "new.py")], ALL)
    assert refused(result) == ["new.py already exists; a rename never overwrites a file"]
    assert result.files == {} and result.removed == []


def test_file_kinds_are_scope_checked() -> None:
    scope = Scope(units=[], files=["m.py"], out_of_scope=[])
    result = apply(
        SOURCE, [edit("rename_file", "m.py", "other.py"), edit("delete_file", "x.py")], scope
    )
    assert [r.scope_drift for r in result.rejected] == [True, True]
    assert "other.py not among the plan's files" in refused(result)[0]


@pytest.mark.parametrize(
    "bad",
    [
        patch("../m.py", "import os\n", ""),
        edit("delete_file", "../m.py"),
        edit("rename_file", "m.py", "../escaped.py"),
        edit("rename_file", "m.py", "/tmp/escaped.py"),
        edit("new_file", ".git/hooks/pre-commit", "echo"),
    ],
)
def test_paths_escaping_the_repository_are_refused(bad: Edit) -> None:
    result = apply(SOURCE, [bad], scope=None)
    assert "is not a repository path" in refused(result)[0]
    assert result.files == {} and result.removed == []


# ---- files Tandem cannot edit ------------------------------------------------------------------


def test_non_utf8_and_binary_files_are_refused_with_a_message(tmp_path: Path) -> None:
    (tmp_path / "latin.py").write_bytes("name = 'Jos\xe9'\n".encode("latin-1"))
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    snapshot = take_snapshot(tmp_path, ["latin.py", "logo.png"])
    edits = [
        patch("latin.py", "name", "nom"),
        edit("new_file", "logo.png", "text"),
        edit("delete_file", "logo.png"),
    ]
    result = apply_edits(snapshot, edits, None)
    reasons = refused(result)
    assert reasons[0].startswith("latin.py is not UTF-8 text (byte 11 is not valid UTF-8)")
    assert reasons[1].startswith("logo.png is a binary file; Tandem edits only UTF-8 text")
    assert reasons[2].startswith("logo.png is a binary file")
    assert result.files == {} and result.removed == []


def test_files_are_read_and_written_byte_for_byte(tmp_path: Path) -> None:
    raw = "a = 1\r\nb = '\u2028'\x0c\r\n"
    (tmp_path / "m.py").write_bytes(raw.encode())
    assert read_repo_file(tmp_path / "m.py") == raw
    result = apply_edits(take_snapshot(tmp_path, ["m.py"]), [patch("m.py", "b", "c")], None)
    write_files(tmp_path, result.files, result.removed)
    assert (tmp_path / "m.py").read_bytes() == raw.replace("b", "c").encode()


def test_writes_through_a_symbolic_link_out_of_the_repository_are_refused(tmp_path: Path) -> None:
    repo, outside = tmp_path / "repo", tmp_path / "outside"
    repo.mkdir()
    outside.mkdir()
    (repo / "link").symlink_to(outside)
    with pytest.raises(WriteRefused, match="outside the repository"):
        write_files(repo, {"link/x.py": "x = 1\n", "ok.py": "y = 1\n"})
    assert not (outside / "x.py").exists() and not (repo / "ok.py").exists()


def test_renames_and_deletes_are_written(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(SOURCE)
    (tmp_path / "README.md").write_text("# Title\n")
    snapshot = take_snapshot(tmp_path, ["m.py", "README.md", "new.py"])
    edits = [edit("rename_file", "m.py", "new.py"), edit("delete_file", "README.md")]
    result = apply_edits(snapshot, edits, ALL)
    assert write_files(tmp_path, result.files, result.removed) == ["new.py", "README.md", "m.py"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.py"]


def test_drafts_saved_before_patches_load_with_code_as_new() -> None:
    old_shape = {"kind": "replace_unit", "target": "m.py::first", "code": "x", "reason": "r"}
    assert Edit.model_validate(old_shape) == edit("replace_unit", "m.py::first", "x")
