"""Edits apply to exact unit ranges of a snapshot, or are rejected with a reason."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from flow_doubles import example_replies, example_repo
from hypothesis import given, settings
from hypothesis import strategies as st

from tandem.flow.edits import apply_edits, files_snapshot, snapshot_text, take_snapshot, write_files
from tandem.flow.handoff import DraftReply, Edit, Scope

SOURCE = '''"""Module."""


def first():
    return 1


def second():
    return 2
'''
SCOPE = Scope(units=["m.py::first"], files=["m.py", "tests/test_m.py"], out_of_scope=[])


def _snapshot(tmp_path: Path, text: str = SOURCE):  # type: ignore[no-untyped-def]
    (tmp_path / "m.py").write_text(text)
    return take_snapshot(tmp_path, ["m.py", "tests/test_m.py", "new.py"])


def _edit(kind: str, target: str, code: str) -> Edit:
    return Edit.model_validate({"kind": kind, "target": target, "code": code, "reason": "r"})


def test_replace_unit_changes_exactly_that_unit(tmp_path: Path) -> None:
    edit = _edit("replace_unit", "m.py::first", "def first():\n    return 10\n")
    result = apply_edits(_snapshot(tmp_path), [edit], SCOPE)
    assert not result.rejected
    assert result.files["m.py"] == SOURCE.replace("return 1\n", "return 10\n")
    assert "-    return 1\n+    return 10\n" in result.diff


def test_unknown_unit_is_rejected_with_the_units_that_exist(tmp_path: Path) -> None:
    scope = Scope(units=[], files=["m.py"], out_of_scope=[])
    result = apply_edits(_snapshot(tmp_path), [_edit("replace_unit", "m.py::third", "x")], scope)
    assert result.rejected[0].reason == "m.py has no unit third (units: first, second)"
    assert result.files == {}


def test_unit_outside_the_plan_is_refused_as_scope_drift(tmp_path: Path) -> None:
    edit = _edit("replace_unit", "m.py::second", "def second():\n    return 3\n")
    result = apply_edits(_snapshot(tmp_path), [edit], SCOPE)
    assert result.scope_drift and result.scope_drift[0].edit == edit
    assert "not among the plan's units" in result.rejected[0].reason


def test_file_outside_the_plan_is_refused_as_scope_drift(tmp_path: Path) -> None:
    result = apply_edits(_snapshot(tmp_path), [_edit("new_file", "other.py", "x = 1\n")], SCOPE)
    assert result.scope_drift
    assert "other.py is not among the plan's files" in result.rejected[0].reason


def test_new_file_over_an_existing_file_is_rejected(tmp_path: Path) -> None:
    scope = Scope(units=[], files=["m.py"], out_of_scope=[])
    result = apply_edits(_snapshot(tmp_path), [_edit("new_file", "m.py", "x = 1\n")], scope)
    assert "already exists" in result.rejected[0].reason


def test_two_edits_of_one_unit_are_rejected_as_overlapping(tmp_path: Path) -> None:
    edits = [_edit("replace_unit", "m.py::first", "def first():\n    return n\n")] * 2
    result = apply_edits(_snapshot(tmp_path), edits, SCOPE)
    assert len(result.applied) == 1
    assert result.rejected[0].reason == "overlaps an earlier edit of m.py::first"


def test_insert_after_a_unit_keeps_pep8_spacing(tmp_path: Path) -> None:
    edit = _edit("insert_unit", "m.py::first", "def between():\n    return 1.5\n")
    result = apply_edits(_snapshot(tmp_path), [edit], SCOPE)
    assert (
        "    return 1\n\n\ndef between():\n    return 1.5\n\n\ndef second" in result.files["m.py"]
    )


def test_add_test_creates_a_missing_test_file(tmp_path: Path) -> None:
    edit = _edit("add_test", "tests/test_m.py", "def test_first():\n    assert True\n")
    result = apply_edits(_snapshot(tmp_path), [edit], SCOPE)
    assert result.files["tests/test_m.py"] == "def test_first():\n    assert True\n"
    assert "--- /dev/null" in result.diff


def test_paths_escaping_the_repository_are_rejected(tmp_path: Path) -> None:
    result = apply_edits(_snapshot(tmp_path), [_edit("new_file", "../evil.py", "x")], None)
    assert "not a repository path" in result.rejected[0].reason


def test_example_second_draft_applies_and_the_example_tests_pass(tmp_path: Path) -> None:
    repo = example_repo(tmp_path)
    draft = DraftReply.model_validate(example_replies()["draft"][1])
    scope = Scope(
        units=["app/handlers.py::get_projects", "app/queries.py::list_projects"],
        files=["tests/test_handlers.py"],
        out_of_scope=[],
    )
    snapshot = take_snapshot(repo, ["app/handlers.py", "app/queries.py", "tests/test_handlers.py"])
    result = apply_edits(snapshot, draft.edits, scope)
    assert [r.reason for r in result.rejected] == []
    write_files(repo, result.files)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=repo,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(repo), "PATH": "/usr/bin:/bin"},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "5 passed" in run.stdout


CLASS_SOURCE = (
    "class Repo:\n    def get(self):\n        return 1\n\n    def put(self):\n        pass\n"
)


def test_a_method_returned_flush_left_is_indented_to_its_place(tmp_path: Path) -> None:
    scope = Scope(units=["m.py::Repo.get"], files=["m.py"], out_of_scope=[])
    edit = _edit("replace_unit", "m.py::Repo.get", "def get(self):\n    return 2\n")
    result = apply_edits(_snapshot(tmp_path, CLASS_SOURCE), [edit], scope)
    assert result.files["m.py"] == CLASS_SOURCE.replace(
        "    def get(self):\n        return 1", "    def get(self):\n        return 2"
    )


@settings(max_examples=40, deadline=None)
@given(
    bodies=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=6, unique=True),
    pick=st.integers(min_value=0, max_value=5),
)
def test_replacing_a_unit_with_its_own_text_is_a_no_op(bodies: list[int], pick: int) -> None:
    text = "\n\n".join(f"def f{n}():\n    return {n}\n" for n in bodies)
    snapshot = files_snapshot({"m.py": snapshot_text("m.py", text)})
    unit = snapshot.get("m.py").units[pick % len(bodies)]
    own = "".join(text.splitlines(keepends=True)[unit.start_line - 1 : unit.end_line])
    result = apply_edits(snapshot, [_edit("replace_unit", f"m.py::{unit.name}", own)], None)
    assert result.files["m.py"] == text
    assert result.diff == ""


def test_an_edit_that_would_write_a_redaction_placeholder_is_refused(tmp_path: Path) -> None:
    code = 'def first():\n    return connect(password="<<REDACTED:password:1>>")\n'
    fine = _edit("replace_unit", "m.py::first", "def first():\n    return 10\n")
    leaky = _edit("insert_unit", "m.py::first", code.replace("first", "third"))
    result = apply_edits(_snapshot(tmp_path), [leaky, fine], SCOPE)
    assert result.applied == [fine]
    (refused,) = result.rejected
    assert refused.edit == leaky and not refused.scope_drift
    assert "<<REDACTED:password:1>>" in refused.reason
    assert "replace the real value" in refused.reason
    assert "REDACTED" not in result.files["m.py"]


def test_a_slightly_mangled_placeholder_is_refused_too(tmp_path: Path) -> None:
    code = "def first():\n    return 'REDACTED:aws-access-key-id:1'\n"
    result = apply_edits(_snapshot(tmp_path), [_edit("replace_unit", "m.py::first", code)], SCOPE)
    assert result.rejected and "placeholder" in result.rejected[0].reason


def test_a_placeholder_already_in_the_file_may_be_kept(tmp_path: Path) -> None:
    source = SOURCE.replace("return 2", 'return "<<REDACTED:secret:1>>"')
    scope = Scope(units=["m.py::second"], files=["m.py"], out_of_scope=[])
    code = 'def second():\n    # the redaction test fixture\n    return "<<REDACTED:secret:1>>"\n'
    edit = _edit("replace_unit", "m.py::second", code)
    result = apply_edits(_snapshot(tmp_path, source), [edit], scope)
    assert result.applied == [edit]


# ---- edits target the units the slice names, in every language ---------------------------------

RUST_SOURCE = """pub struct Parser {
    buf: String,
}

impl Parser {
    /// Feeds input.
    #[inline]
    pub fn feed(&mut self, s: &str) {
        self.buf.push_str(s);
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }
}
"""

GO_SOURCE = """package server

type Client struct {
	base string
}

// Get fetches a path.
func (c *Client) Get(path string) string {
	return c.base + path
}
"""

TS_SOURCE = """/** Adds. */
export const add = (a: number, b: number): number => a + b;

export const sub = (a: number, b: number): number => a - b;
"""


def _replace(path: str, source: str, name: str, code: str) -> str:
    snapshot = files_snapshot({path: snapshot_text(path, source)})
    result = apply_edits(snapshot, [_edit("replace_unit", f"{path}::{name}", code)], None)
    assert [r.reason for r in result.rejected] == []
    return result.files[path]


def test_a_rust_method_is_replaced_by_its_double_colon_name_attributes_and_doc_included() -> None:
    new = (
        "    /// Feeds input once.\n    pub fn feed(&mut self, s: &str) {\n        todo!()\n    }\n"
    )
    after = _replace("src/p.rs", RUST_SOURCE, "Parser::feed", new)
    lines = RUST_SOURCE.splitlines(keepends=True)
    assert after == "".join(lines[:5]) + new + "".join(lines[10:])


def test_a_go_method_is_replaced_by_its_receiver_qualified_name() -> None:
    new = "// Get fetches.\nfunc (c *Client) Get(path string) string {\n\treturn path\n}\n"
    after = _replace("srv/client.go", GO_SOURCE, "Client.Get", new)
    assert after == GO_SOURCE.split("// Get")[0] + new


def test_a_typescript_arrow_function_bound_to_a_name_is_replaced_with_its_doc_comment() -> None:
    new = "/** Adds two. */\nexport const add = (a: number, b: number): number => b + a;\n"
    after = _replace("src/math.ts", TS_SOURCE, "add", new)
    assert after == new + TS_SOURCE.split("\n", 2)[2]


def test_replacing_a_class_replaces_its_whole_body_so_no_old_member_is_left() -> None:
    new = "class Repo:\n    def get(self):\n        return 2\n"
    assert _replace("m.py", CLASS_SOURCE, "Repo", new) == new


def test_a_replacement_that_repeats_the_decorator_does_not_double_it() -> None:
    source = "class Repo:\n    @property\n    def get(self):\n        return 1\n"
    new = "    @property\n    def get(self):\n        return 2\n"
    assert _replace("m.py", source, "Repo.get", new) == "class Repo:\n" + new


def test_a_name_two_units_share_edits_the_first_the_one_the_drafter_is_shown() -> None:
    source = (
        "class Repo:\n    @property\n    def size(self):\n        return self._n\n\n"
        "    @size.setter\n    def size(self, n):\n        self._n = n\n"
    )
    new = "    @property\n    def size(self):\n        return self._n or 0\n"
    after = _replace("m.py", source, "Repo.size", new)
    assert after == source.replace("return self._n\n", "return self._n or 0\n")


def test_a_missing_unit_is_reported_with_the_definitions_only(tmp_path: Path) -> None:
    source = "import os\n\nRATE = 2\n\n\ndef first():\n    return RATE\n"
    scope = Scope(units=[], files=["m.py"], out_of_scope=[])
    result = apply_edits(
        _snapshot(tmp_path, source), [_edit("replace_unit", "m.py::x", "x")], scope
    )
    assert result.rejected[0].reason == "m.py has no unit x (units: first)"


def test_a_module_constant_the_slice_touched_can_be_replaced() -> None:
    source = "RATE = 2\n\n\ndef first():\n    return RATE\n"
    assert _replace("m.py", source, "RATE", "RATE = 3\n") == source.replace("2", "3")


def test_a_method_inserted_after_a_method_gets_one_blank_line() -> None:
    snapshot = files_snapshot({"m.py": snapshot_text("m.py", CLASS_SOURCE)})
    edit = _edit("insert_unit", "m.py::Repo.get", "def size(self):\n    return 0\n")
    result = apply_edits(snapshot, [edit], None)
    assert (
        "        return 1\n\n    def size(self):\n        return 0\n\n    def put"
        in (result.files["m.py"])
    )


def test_a_class_and_one_of_its_methods_in_one_draft_overlap_and_the_second_is_refused() -> None:
    snapshot = files_snapshot({"m.py": snapshot_text("m.py", CLASS_SOURCE)})
    whole = _edit("replace_unit", "m.py::Repo", "class Repo:\n    pass\n")
    method = _edit("replace_unit", "m.py::Repo.get", "def get(self):\n    return 2\n")
    result = apply_edits(snapshot, [whole, method], None)
    assert result.applied == [whole]
    assert result.rejected[0].reason == "overlaps an earlier edit of m.py::Repo"
