"""Long units in the slice: a diff's touched unit shown around its changes, a test by its head."""

from __future__ import annotations

import pytest
from slice_repos import RepoBuilder

from tandem.config import Settings
from tandem.flow.edits import apply_edits, take_snapshot
from tandem.flow.handoff import Draft, DraftReply, Edit, PlanReply, Scope, Task
from tandem.flow.inputs import draft_values, plan_values, review_values
from tandem.slicing import slice_repository
from tandem.slicing.elide import (
    COMPACT_CONTEXT,
    CONTEXT,
    MIN_GAP,
    SLICE_SHARE,
    TEST_LINES,
    around_changes,
    head_of_test,
    signature_lines,
)
from tandem.slicing.render import Block, elision_marker, render
from tandem.slicing.result import DiffAnchor, FileRangeAnchor, RelatedTest, Slice

LONG = 60  # statements in the long function below
TASK = Task(task_id="t", request="Change step 40", anchor=DiffAnchor(diff=""),
            task_type="feature", risk_tier="low", risk_reasons=[], repo=".")  # fmt: skip


def long_module() -> str:
    body = "".join(f"    step_{i} = step_{i - 1} + {i}\n" for i in range(1, LONG + 1))
    return (
        "@cached\n"
        "def long_one(\n"
        "    first,\n"
        "    second,\n"
        "):\n"
        '    """Add things up."""\n'
        "    step_0 = first + second\n"
        f"{body}"
        f"    return step_{LONG}\n"
    )


def test_a_touched_unit_keeps_its_signature_its_changes_with_context_and_its_last_line() -> None:
    lines = long_module().splitlines()
    # The unit starts at line 10; line 10+40 is changed.
    shown = around_changes(lines, 10, {50}, "def long_one( first, second, ):")
    assert shown is not None
    end = 10 + len(lines) - 1
    assert {10, 11, 12, 13, 14} <= shown  # the decorator and the four-line signature
    assert set(range(50 - CONTEXT, 50 + CONTEXT + 1)) <= shown
    assert end in shown
    assert 30 not in shown and 60 not in shown  # unchanged runs are elided


def test_short_runs_between_kept_lines_are_shown_not_elided() -> None:
    lines = ["def f():", *(f"    line_{i}" for i in range(30))]
    # Between the signature (line 1) and the change's first context line: MIN_GAP - 1 lines.
    near = 1 + MIN_GAP + CONTEXT
    shown = around_changes(lines, 1, {near}, "def f():")
    assert shown is not None and set(range(1, near)) <= shown
    farther = around_changes(lines, 1, {near + 1}, "def f():")
    assert farther is not None and not set(range(2, 2 + MIN_GAP)) & farther


def test_a_change_just_above_a_unit_shows_none_of_its_first_lines() -> None:
    # A removal at the end of the unit above marks that unit's last line; the unit below (from
    # line 20, its doc comment first) shows only its signature, its own change and its end.
    lines = ["/**", " * Long doc.", *(f" * line {i}" for i in range(8)), " */", "def g():"]
    lines += [f"    step_{i}()" for i in range(30)]
    shown = around_changes(lines, 20, {18, 19, 45}, "def g():")
    assert shown is not None
    assert not {20, 21, 22} & shown
    assert {31, 42, 45, 48, 20 + len(lines) - 1} <= shown


def test_a_unit_whose_every_line_is_near_a_change_is_shown_whole() -> None:
    lines = ["def f():", "    a = 1", "    b = 2", "    return a + b"]
    assert around_changes(lines, 1, {2}, "def f():") is None


def test_the_signature_is_found_below_a_doc_comment_and_kept_without_it() -> None:
    lines = ["/**", " * Adds.", " */", "#[inline]", "pub fn add(a: u8,", "    b: u8) -> u8 {"]
    assert signature_lines(lines, 1, "pub fn add(a: u8, b: u8) -> u8") == {4, 5, 6}
    assert signature_lines(lines, 1, "") == {1}
    assert signature_lines(lines, 1, "fn missing()") == {1}


def test_a_long_test_keeps_its_first_lines_and_its_last() -> None:
    lines = [f"line {i}" for i in range(100)]
    shown = head_of_test(lines, 1)
    assert shown == frozenset([*range(1, TEST_LINES + 1), 100])
    assert head_of_test(lines[: TEST_LINES + 2], 1) is None


def test_the_renderer_writes_one_numberless_marker_per_elided_run() -> None:
    lines = [f"x{i}" for i in range(1, 11)]
    block = Block("a.py", "f", 1, 10, lines, shown=frozenset({1, 2, 9, 10}))
    text = render([block], [], [], [], 10**6).text
    assert text == (
        "## Touched code\n\n--- a.py:1-10 f\n1\tx1\n2\tx2\n"
        "...\t(6 unchanged lines, 3-8, not shown)\n9\tx9\n10\tx10\n"
    )
    tail = Block("a.py", "t", 1, 10, lines, shown=frozenset({1}), hidden="more")
    assert render([tail], [], [], [], 10**6).text.endswith(
        "1\tx1\n...\t(9 more lines, 2-10, not shown)\n"
    )


def test_a_diff_slice_elides_a_long_unit_but_a_range_slice_shows_it_whole(
    make_repo: RepoBuilder,
) -> None:
    repo = make_repo({"pkg/calc.py": long_module()})
    old, new = "    step_40 = step_39 + 40\n", "    step_40 = step_39 + 41\n"
    diff = f"--- a/pkg/calc.py\n+++ b/pkg/calc.py\n@@ -47,1 +47,1 @@\n-{old}+{new}"
    (repo / "pkg/calc.py").write_text(long_module().replace(old, new), encoding="utf-8")
    cut = slice_repository(repo, DiffAnchor(diff=diff), Settings())
    assert [(t.name, t.start_line, t.end_line) for t in cut.touched] == [("long_one", 1, LONG + 8)]
    assert "--- pkg/calc.py:1-68 long_one  (function)\n1\t@cached\n" in cut.text
    assert "47\t    step_40 = step_39 + 41" in cut.text
    assert "2\tdef long_one(" in cut.text and "step_10 =" not in cut.text
    assert "...\t(" in cut.text and f"{LONG + 8}\t    return step_{LONG}" in cut.text
    whole = slice_repository(
        repo, FileRangeAnchor(path="pkg/calc.py", start_line=47, end_line=47), Settings()
    )
    assert "not shown" not in whole.text and "step_10 =" in whole.text
    assert whole.tokens > cut.tokens


def test_the_slice_lists_the_signatures_its_shown_lines_call_the_json_all_of_them(
    make_repo: RepoBuilder,
) -> None:
    helpers = "def near(x):\n    return x\n\n\ndef far(x):\n    return x\n"
    module = long_module().replace("step_40 = step_39 + 40", "step_40 = near(step_39)")
    module = module.replace("step_10 = step_9 + 10", "step_10 = far(step_9)")
    repo = make_repo({"pkg/calc.py": module + "\n\n" + helpers})
    diff = "--- a/pkg/calc.py\n+++ b/pkg/calc.py\n@@ -47,1 +47,1 @@\n-    x\n"
    diff += "+    step_40 = near(step_39)\n"
    cut = slice_repository(repo, DiffAnchor(diff=diff), Settings())
    assert [c.name for c in cut.callees] == ["far", "near"]  # the drafter's: the whole unit
    assert "def near(x)" in cut.text
    assert "def far(x)" not in cut.text  # far is called only in an elided line


def test_touched_units_close_together_are_one_block_and_no_line_is_shown_twice(
    make_repo: RepoBuilder,
) -> None:
    fields = [
        "    private int size;      // the size",
        "    private long start;    // when it started",
        "    private boolean done;  // set when finished",
    ]
    body = "\n".join(["package p;", "", "class Reader {", *fields, "", "    int read() {"])
    body += "\n        return size;\n    }\n}\n"
    repo = make_repo({"src/main/java/p/Reader.java": body})
    diff = "--- a/src/main/java/p/Reader.java\n+++ b/src/main/java/p/Reader.java\n"
    diff += "@@ -3,1 +3,4 @@\n class Reader {\n" + "".join(f"+{f}\n" for f in fields)
    cut = slice_repository(repo, DiffAnchor(diff=diff), Settings())
    assert [t.name for t in cut.touched] == ["Reader.size", "Reader.start", "Reader.done"]
    assert cut.text.count("--- src/main/java/p/Reader.java:") == 1
    assert "--- src/main/java/p/Reader.java:4-6 Reader.size, start, done  (statement)\n" in cut.text
    for n, field in enumerate(fields, start=4):
        assert cut.text.count(f"{n}\t{field}\n") == 1


def test_a_block_of_many_units_names_three_and_counts_the_rest(make_repo: RepoBuilder) -> None:
    fields = [f"    private int f{i};" for i in range(5)]
    body = "\n".join(["package p;", "", "class Reader {", *fields, "}"]) + "\n"
    repo = make_repo({"src/main/java/p/Reader.java": body})
    diff = "--- a/src/main/java/p/Reader.java\n+++ b/src/main/java/p/Reader.java\n"
    diff += "@@ -3,1 +3,6 @@\n class Reader {\n" + "".join(f"+{f}\n" for f in fields)
    cut = slice_repository(repo, DiffAnchor(diff=diff), Settings())
    assert len(cut.touched) == 5  # the JSON names every unit
    assert "--- src/main/java/p/Reader.java:4-8 Reader.f0, f1, f2 and 2 more  (statement)\n" in (
        cut.text
    )


@pytest.mark.parametrize("small", [True, False])
def test_a_change_in_small_files_gets_one_line_of_context_in_large_files_three(
    small: bool, make_repo: RepoBuilder
) -> None:
    # Small files: the usual slice would be over SLICE_SHARE of them, so it is made compact.
    filler = "".join(f"\n\ndef other_{i}(x):\n    return x + {i}\n" for i in range(400))
    module = long_module() + ("" if small else filler)
    repo = make_repo({"pkg/calc.py": module})
    diff = "--- a/pkg/calc.py\n+++ b/pkg/calc.py\n@@ -47,1 +47,1 @@\n-    x\n"
    diff += "+    step_40 = step_39 + 40\n"
    cut = slice_repository(repo, DiffAnchor(diff=diff), Settings())
    context = COMPACT_CONTEXT if small else CONTEXT
    assert COMPACT_CONTEXT < CONTEXT
    shown = {int(line.split("\t")[0]) for line in cut.text.splitlines() if line[:1].isdigit()}
    # A replaced line: the line and the one above it are marked (a removal's both sides).
    assert set(range(46 - context, 47 + context + 1)) <= shown
    assert 46 - context - 1 not in shown and 47 + context + 1 not in shown
    assert small or len(cut.text) <= SLICE_SHARE * len(module)


# ---- the flow: the planner reads the cut unit, the drafter edits the whole one ---------------


def long_unit_plan() -> PlanReply:
    return PlanReply(
        summary="Change step 40.",
        scope=Scope(units=["pkg/calc.py::long_one"], files=["pkg/calc.py"], out_of_scope=[]),
        assumptions=[],
        steps=["Change step 40 in pkg/calc.py::long_one."],
        risks=[],
        test_cases=[],
        acceptance_checks=[],
        open_questions=[],
    )


def test_the_planner_gets_the_cut_unit_and_the_drafter_the_whole_unit(
    make_repo: RepoBuilder,
) -> None:
    repo = make_repo({"pkg/calc.py": long_module()})
    diff = "--- a/pkg/calc.py\n+++ b/pkg/calc.py\n@@ -47,1 +47,1 @@\n-    x\n"
    diff += "+    step_40 = step_39 + 40\n"
    cut = slice_repository(repo, DiffAnchor(diff=diff), Settings())
    assert "step_10 =" not in plan_values(TASK, cut)["context"]
    snapshot = take_snapshot(repo, ["pkg/calc.py"])
    units = draft_values(long_unit_plan(), snapshot, cut)["units"]
    assert long_module() in units  # every line, so replace_unit cannot drop the elided ones


@pytest.mark.parametrize("kind", ["replace_unit", "patch"])
def test_an_edit_that_writes_the_elision_marker_is_refused(
    kind: str, make_repo: RepoBuilder
) -> None:
    repo = make_repo({"pkg/calc.py": long_module()})
    marker = "...\t(40 unchanged lines, 8-47, not shown)"
    old = "    step_40 = step_39 + 40\n" if kind == "patch" else None
    new = "    step_40 = step_39 + 41\n" if kind == "patch" else "def long_one(first, second):\n"
    edit = Edit(
        kind=kind, target="pkg/calc.py::long_one", old=old, new=f"{marker}\n{new}", reason="r"
    )
    result = apply_edits(take_snapshot(repo, ["pkg/calc.py"]), [edit], long_unit_plan().scope)
    assert [r.reason for r in result.rejected] == [
        f"the edit contains {marker!r}, the marker the slice puts where unchanged lines were "
        "left out; writing it would erase those lines. Give the code in full"
    ]
    assert result.files == {}


def test_a_marker_copied_with_its_line_number_is_found_and_one_already_in_the_file_is_allowed(
    make_repo: RepoBuilder,
) -> None:
    assert elision_marker("12\t...\t(3 more lines, 13-15, not shown)\nx") is not None
    assert elision_marker("... (3 lines not shown)") is None
    marker = "...\t(2 unchanged lines, 1-2, not shown)\n"
    repo = make_repo({"pkg/doc.py": f'DOC = """\n{marker}"""\n'})
    edit = Edit(
        kind="patch", target="pkg/doc.py", old='DOC = """\n', new=f'DOC = """\n{marker}', reason="r"
    )
    scope = Scope(units=[], files=["pkg/doc.py"], out_of_scope=[])
    result = apply_edits(take_snapshot(repo, ["pkg/doc.py"]), [edit], scope)
    assert result.rejected == []
    assert result.files["pkg/doc.py"] == f'DOC = """\n{marker}{marker}"""\n'


def test_drafter_and_reviewer_see_the_related_tests_as_the_slice_shows_them(
    make_repo: RepoBuilder,
) -> None:
    long_test = "def test_long():\n" + "".join(f"    assert {i} == {i}\n" for i in range(40))
    tests_file = (
        f"{long_test}\n\ndef test_short():\n    assert 1\n\n\ndef test_other():\n    pass\n"
    )
    repo = make_repo({"pkg/calc.py": long_module(), "tests/test_calc.py": tests_file})
    related = [
        RelatedTest(path="tests/test_calc.py", name="test_long", start_line=1, end_line=41,
                    score=3.0, reason="calls long_one"),
        RelatedTest(path="tests/test_calc.py", name="test_short", start_line=44, end_line=45,
                    score=2.0, reason="named after calc"),
    ]  # fmt: skip
    context = Slice(tests=related)
    snapshot = take_snapshot(repo, ["pkg/calc.py", "tests/test_calc.py"])
    shown = draft_values(long_unit_plan(), snapshot, context)["context"]
    title = "### tests/test_calc.py::test_long (lines 1-41): calls long_one\n```\n"
    assert f"{title}def test_long():\n    assert 0 == 0\n" in shown  # as in the file
    assert f"    assert {TEST_LINES - 2} == {TEST_LINES - 2}\n" in shown
    assert f"    assert {TEST_LINES - 1} ==" not in shown
    assert (
        f"...\t(15 more lines, {TEST_LINES + 1}-40, not shown)\n    assert 39 == 39\n```" in shown
    )
    assert "\ntests/test_calc.py:44-45  def test_short():\n" in shown + "\n"
    assert "named after calc" not in shown  # a listed test's reason is left out, as in the slice
    assert "assert 1\n" not in shown  # the second test by signature only
    empty = Draft(reply=DraftReply(edits=[], notes=[]))
    review = review_values(long_unit_plan(), empty, context, snapshot)["tests"]
    assert review in shown
