"""insert_after / insert_before: text added next to an exact anchor, or refused, never written."""

from __future__ import annotations

import pytest
from test_edit_kinds import SOURCE, apply, refused

from tandem.flow.handoff import Edit, Scope


def insert(kind: str, target: str, old: str | None, new: str) -> Edit:
    return Edit.model_validate(
        {"kind": kind, "target": target, "old": old, "new": new, "reason": ""}
    )


def after(target: str, old: str | None, new: str) -> Edit:
    return insert("insert_after", target, old, new)


def before(target: str, old: str | None, new: str) -> Edit:
    return insert("insert_before", target, old, new)


def patch(target: str, old: str, new: str) -> Edit:
    return insert("patch", target, old, new)


def test_insert_after_adds_its_text_right_after_the_anchor_which_stays() -> None:
    result = apply(SOURCE, [after("m.py::first", "    x = 1\n", "    y = 2\n")])
    assert refused(result) == []
    assert result.files["m.py"] == SOURCE.replace(
        "x = 1\n    return x\n", "x = 1\n    y = 2\n    return x\n"
    )
    assert "+    y = 2\n" in result.diff


def test_insert_before_adds_its_text_right_before_the_anchor() -> None:
    result = apply(SOURCE, [before("m.py", "import os\n", '"""Doc."""\n')])
    assert result.files["m.py"] == '"""Doc."""\n' + SOURCE
    words = apply(SOURCE, [before("m.py::second", "x + 1", "y + ")])
    assert words.files["m.py"].endswith("    return y + x + 1\n")


@pytest.mark.parametrize("kind", ["insert_after", "insert_before"])
def test_an_absent_anchor_is_refused_with_the_count_and_nothing_changes(kind: str) -> None:
    result = apply(SOURCE, [insert(kind, "m.py::first", "    y = 1\n", "    z = 0\n")])
    assert refused(result) == ["old does not occur in m.py::first (0 occurrences)"]
    assert result.files == {} and result.diff == ""


@pytest.mark.parametrize("kind", ["insert_after", "insert_before"])
def test_an_anchor_present_twice_is_refused_naming_the_count(kind: str) -> None:
    result = apply(SOURCE, [insert(kind, "m.py", "    x = 1\n", "    z = 0\n")])
    assert refused(result)[0].startswith("old occurs 2 times in m.py; include more")
    assert result.files == {}


def test_an_empty_anchor_or_nothing_to_add_is_refused() -> None:
    assert refused(apply(SOURCE, [after("m.py", None, "x\n")])) == [
        "insert_after needs the exact current text to add next to in old"
    ]
    assert refused(apply(SOURCE, [before("m.py", "import os\n", "")])) == [
        "insert_before has nothing to add in new"
    ]


def test_an_insertion_inside_a_replaced_range_overlaps_and_is_refused() -> None:
    edits = [
        patch("m.py::first", "    x = 1\n    return x\n", "    return 1\n"),
        after("m.py::first", "    x = 1\n", "    y = 2\n"),
    ]
    result = apply(SOURCE, edits)
    assert refused(result) == ["overlaps an earlier edit of m.py::first"]
    assert result.applied == [edits[0]]


def test_an_insertion_inside_a_replaced_unit_overlaps_whichever_comes_first() -> None:
    replace = Edit.model_validate(
        {"kind": "replace_unit", "target": "m.py::first", "old": None, "new": "def first(): 1\n"}
        | {"reason": ""}
    )
    edits = [after("m.py::first", "    x = 1\n", "    y = 2\n"), replace]
    for order in (edits, edits[::-1]):
        result = apply(SOURCE, order)
        assert len(result.applied) == 1
        assert refused(result)[0].startswith("overlaps an earlier edit of m.py::first")


def test_insertions_at_the_edges_of_a_patch_and_at_one_point_all_apply_in_draft_order() -> None:
    edits = [
        patch("m.py::second", "x + 1", "x + 2"),
        after("m.py::second", "    return ", "0 + "),
        after("m.py::second", "x + 1", "  # one"),
        after("m.py::second", "x + 1", "  # two"),
    ]
    result = apply(SOURCE, edits)
    assert refused(result) == []
    assert result.files["m.py"].endswith("    return 0 + x + 2  # one  # two\n")


def test_a_placeholder_in_the_added_text_is_refused() -> None:
    result = apply(
        SOURCE, [after("m.py::first", "    x = 1\n", "    k = '<<REDACTED:aws-key:1>>'\n")]
    )
    assert "<<REDACTED:aws-key:1>>" in refused(result)[0]
    assert result.files == {}


def test_crlf_files_keep_their_line_endings() -> None:
    crlf = SOURCE.replace("\n", "\r\n")
    result = apply(crlf, [after("m.py::second", "    x = 1\n", "    y = 2\n    z = 3\n")])
    assert refused(result) == []
    expected = SOURCE.replace(
        "    x = 1\n    return x + 1", "    x = 1\n    y = 2\n    z = 3\n    return x + 1"
    )
    assert result.files["m.py"] == expected.replace("\n", "\r\n")


def test_a_file_without_a_final_newline_needs_an_anchor_without_one() -> None:
    text = SOURCE.rstrip("\n")
    wrong = apply(text, [after("m.py", "    return x + 1\n", "    # end\n")])
    assert refused(wrong) == [
        "old does not occur in m.py (0 occurrences); the file has no newline at its end: "
        "leave it out of old"
    ]
    right = apply(text, [after("m.py", "    return x + 1", "\n    # end")])
    assert right.files["m.py"] == text + "\n    # end"


def test_tabs_for_spaces_in_the_anchor_are_refused_not_matched_loosely() -> None:
    result = apply(SOURCE, [before("m.py::first", "\treturn x\n", "\ty = 0\n")])
    assert "whitespace is ignored" in refused(result)[0]
    assert result.files == {}


def test_an_insertion_in_an_unscoped_unit_is_scope_drift() -> None:
    scope = Scope(units=["m.py::first"], files=["m.py"], out_of_scope=[])
    named = apply(SOURCE, [after("m.py::second", "    x = 1\n", "    y = 2\n")], scope)
    assert named.rejected[0].scope_drift
    assert refused(named)[0].startswith("scope drift: m.py::second is not among the plan's units")
    landed = apply(SOURCE, [after("m.py", "def second():\n", "    y = 2\n")], scope)
    assert refused(landed) == [
        "scope drift: the insert_after changes m.py::second, not among the plan's units"
    ]


def test_a_file_insertion_may_go_next_to_a_scoped_unit_or_between_units() -> None:
    scope = Scope(units=["m.py::first"], files=["m.py"], out_of_scope=[])
    edits = [
        after("m.py", "import os\n", "import sys\n"),
        after("m.py", "    return x\n", "\n\ndef between():\n    pass\n"),
        before("m.py", "def first():\n", "@cache\n"),
    ]
    result = apply(SOURCE, edits, scope)
    assert refused(result) == []
    assert "import sys\n\n\n@cache\ndef first():" in result.files["m.py"]
    assert "    return x\n\n\ndef between():\n    pass\n\n\ndef second():" in result.files["m.py"]
