"""Slicing a change: the touched units, the tests related to them, the signatures they call."""

from __future__ import annotations

from pathlib import Path

import pytest
from slice_repos import (
    GO_REPO,
    JAVA_REPO,
    PYTHON_REPO,
    RUST_REPO,
    TS_REPO,
    RepoBuilder,
    git,
    git_commit_all,
)

from tandem.config import Settings
from tandem.slicing import SliceError, slice_repository
from tandem.slicing.result import DiffAnchor, FileRangeAnchor, Slice, WorkingTreeAnchor


def slice_lines(repo: Path, path: str, start: int, end: int | None = None) -> Slice:
    anchor = FileRangeAnchor(path=path, start_line=start, end_line=end or start)
    return slice_repository(repo, anchor, Settings())


def touched_names(result: Slice) -> list[str]:
    return [t.name for t in result.touched]


# ---- touched units from a range --------------------------------------------------------


def test_a_cursor_inside_a_method_touches_that_method_only(make_repo: RepoBuilder) -> None:
    repo = make_repo(PYTHON_REPO)
    result = slice_lines(repo, "pkg/shapes.py", 15)
    assert [(t.path, t.name, t.kind, t.start_line, t.end_line) for t in result.touched] == [
        ("pkg/shapes.py", "Circle.area", "function", 12, 15)
    ]
    assert result.touched[0].language == "python"


def test_a_selection_across_two_functions_touches_both(make_repo: RepoBuilder) -> None:
    repo = make_repo(PYTHON_REPO)
    assert touched_names(slice_lines(repo, "pkg/shapes.py", 20, 24)) == ["scale", "clamp"]


def test_a_cursor_on_a_decorator_touches_the_decorated_unit(make_repo: RepoBuilder) -> None:
    repo = make_repo(PYTHON_REPO)
    assert touched_names(slice_lines(repo, "pkg/shapes.py", 13)) == ["Circle.area"]


def test_unsaved_buffer_text_is_sliced_instead_of_the_file_on_disk(
    make_repo: RepoBuilder,
) -> None:
    repo = make_repo({"app.py": "def old():\n    pass\n"})
    anchor = FileRangeAnchor(
        path="app.py", start_line=2, end_line=2, text="def fresh():\n    return 2\n"
    )
    result = slice_repository(repo, anchor, Settings())
    assert touched_names(result) == ["fresh"]
    assert "return 2" in result.text


def test_an_absolute_path_inside_the_repository_is_made_relative(make_repo: RepoBuilder) -> None:
    repo = make_repo(PYTHON_REPO)
    result = slice_lines(repo, str(repo / "pkg" / "shapes.py"), 24)
    assert [(t.path, t.name) for t in result.touched] == [("pkg/shapes.py", "clamp")]


# ---- touched units from a unified diff -------------------------------------------------

SHAPES_DIFF = """\
--- a/pkg/shapes.py
+++ b/pkg/shapes.py
@@ -18,3 +18,3 @@ def scale(c, k):
 def scale(c, k):
     \"\"\"Scale a circle.\"\"\"
-    return Circle(c.radius * k)
+    return Circle(clamp(c.radius * k))
"""


def test_a_diff_touches_the_units_holding_its_new_side_lines(make_repo: RepoBuilder) -> None:
    repo = make_repo(PYTHON_REPO)
    result = slice_repository(repo, DiffAnchor(diff=SHAPES_DIFF), Settings())
    assert touched_names(result) == ["scale"]


def test_a_pure_deletion_touches_the_enclosing_unit(make_repo: RepoBuilder) -> None:
    repo = make_repo(PYTHON_REPO)
    diff = (
        "--- a/pkg/shapes.py\n+++ b/pkg/shapes.py\n"
        "@@ -23,3 +23,2 @@ def clamp(x):\n"
        " def clamp(x):\n"
        "-    x = float(x)\n"
        "     return max(0.0, x)\n"
    )
    result = slice_repository(repo, DiffAnchor(diff=diff), Settings())
    assert touched_names(result) == ["clamp"]


def test_lines_removed_from_the_end_of_an_indented_body_touch_that_unit(
    make_repo: RepoBuilder,
) -> None:
    # After the removal the new side shows only blank lines around the gap: the removed line's
    # indentation says it was the tail of scale's body.
    repo = make_repo(PYTHON_REPO)
    diff = (
        "--- a/pkg/shapes.py\n+++ b/pkg/shapes.py\n"
        "@@ -18,7 +18,6 @@\n"
        " def scale(c, k):\n"
        '     """Scale a circle."""\n'
        "     return Circle(clamp(c.radius * k))\n"
        "-    return None\n"
        " \n"
        " \n"
        " def clamp(x):\n"
    )
    assert touched_names(slice_repository(repo, DiffAnchor(diff=diff), Settings())) == ["scale"]


def test_a_whole_function_removed_between_two_others_touches_neither(
    make_repo: RepoBuilder,
) -> None:
    repo = make_repo(PYTHON_REPO)
    diff = (
        "--- a/pkg/shapes.py\n+++ b/pkg/shapes.py\n"
        "@@ -20,8 +20,4 @@\n"
        "     return Circle(clamp(c.radius * k))\n"
        " \n"
        " \n"
        "-def shrink(c):\n"
        "-    return scale(c, 0.5)\n"
        "-\n"
        "-\n"
        " def clamp(x):\n"
    )
    assert touched_names(slice_repository(repo, DiffAnchor(diff=diff), Settings())) == []


def test_a_removed_leading_decorator_touches_the_function_it_decorated(
    make_repo: RepoBuilder,
) -> None:
    repo = make_repo(PYTHON_REPO)
    diff = (
        "--- a/pkg/shapes.py\n+++ b/pkg/shapes.py\n"
        "@@ -21,4 +21,3 @@\n"
        " \n"
        " \n"
        "-@functools.cache\n"
        " def clamp(x):\n"
    )
    assert touched_names(slice_repository(repo, DiffAnchor(diff=diff), Settings())) == ["clamp"]


def test_a_test_only_method_of_a_production_type_is_touched_with_the_type(
    make_repo: RepoBuilder,
) -> None:
    # A #[cfg(test)] method belongs to its type; code inside `mod tests` stays test code.
    repo = make_repo(
        {
            "src/lib.rs": """
                pub struct Meter(u32);

                impl Meter {
                    pub fn read(&self) -> u32 {
                        self.0
                    }

                    #[cfg(test)]
                    fn zero() -> Meter {
                        Meter(0)
                    }
                }
                """
        }
    )
    diff = (
        "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -5,6 +5,6 @@\n"
        "-        self.0 + 0\n+        self.0\n"
        "     }\n \n     #[cfg(test)]\n     fn zero() -> Meter {\n"
        "-        Meter(0u32)\n+        Meter(0)\n"
    )
    result = slice_repository(repo, DiffAnchor(diff=diff), Settings())
    assert touched_names(result) == ["Meter::read", "Meter::zero"]


def test_a_diff_over_several_files_and_languages_touches_each(make_repo: RepoBuilder) -> None:
    repo = make_repo({**GO_REPO, **RUST_REPO})
    diff = (
        "--- a/server/client.go\n+++ b/server/client.go\n@@ -15,1 +15,1 @@\n"
        "-    return path\n+    return c.base + path\n"
        "--- a/src/parser.rs\n+++ b/src/parser.rs\n@@ -12,1 +12,1 @@\n"
        "-        self.buf += s;\n+        self.buf.push_str(s);\n"
    )
    result = slice_repository(repo, DiffAnchor(diff=diff), Settings())
    assert [(t.path, t.name) for t in result.touched] == [
        ("server/client.go", "Client.Get"),
        ("src/parser.rs", "Parser::feed"),
    ]


def test_a_diff_that_deletes_a_file_touches_nothing_left_in_it(make_repo: RepoBuilder) -> None:
    repo = make_repo(PYTHON_REPO)
    diff = "--- a/old.py\n+++ /dev/null\n@@ -1,1 +0,0 @@\n-x = 1\n" + SHAPES_DIFF
    assert touched_names(slice_repository(repo, DiffAnchor(diff=diff), Settings())) == ["scale"]


# ---- touched units from the working tree ------------------------------------------------


def test_the_working_tree_is_compared_with_head(make_repo: RepoBuilder) -> None:
    repo = make_repo(PYTHON_REPO)
    git_commit_all(repo)
    shapes = repo / "pkg" / "shapes.py"
    shapes.write_text(shapes.read_text().replace("max(0.0, x)", "max(0.5, x)"))
    result = slice_repository(repo, WorkingTreeAnchor(), Settings())
    assert touched_names(result) == ["clamp"]


def test_the_working_tree_against_a_named_base_includes_committed_changes(
    make_repo: RepoBuilder,
) -> None:
    repo = make_repo(PYTHON_REPO)
    git_commit_all(repo, "base")
    git(repo, "tag", "v1")
    shapes = repo / "pkg" / "shapes.py"
    shapes.write_text(shapes.read_text().replace("max(0.0, x)", "max(0.5, x)"))
    git_commit_all(repo, "clamp at one half")
    head = slice_repository(repo, WorkingTreeAnchor(), Settings())
    assert head.touched == []
    assert any("nothing changed" in w for w in head.warnings)
    assert touched_names(slice_repository(repo, WorkingTreeAnchor(base="v1"), Settings())) == [
        "clamp"
    ]


def test_untracked_source_files_count_as_wholly_added(make_repo: RepoBuilder) -> None:
    repo = make_repo(PYTHON_REPO)
    git_commit_all(repo)
    (repo / "pkg" / "extra.py").write_text("def extra():\n    return scale(1, 2)\n")
    result = slice_repository(repo, WorkingTreeAnchor(), Settings())
    assert [(t.path, t.name) for t in result.touched] == [("pkg/extra.py", "extra")]


def test_an_unknown_base_revision_is_a_clear_error(make_repo: RepoBuilder) -> None:
    repo = make_repo(PYTHON_REPO)
    git_commit_all(repo)
    with pytest.raises(SliceError, match="unknown base revision 'no-such-branch'"):
        slice_repository(repo, WorkingTreeAnchor(base="no-such-branch"), Settings())


# ---- related tests, by each language's conventions ---------------------------------------


@pytest.mark.parametrize(
    ("files", "path", "line", "first_test"),
    [
        (PYTHON_REPO, "pkg/shapes.py", 20, ("tests/test_shapes.py", "TestScale.test_doubles")),
        (PYTHON_REPO, "pkg/shapes.py", 15, ("tests/test_shapes.py", "test_area")),
        (TS_REPO, "src/cart.ts", 10, ("src/cart.test.ts", "Cart > add > counts items")),
        (TS_REPO, "src/Button.tsx", 2, ("src/__tests__/Button.test.tsx", "renders the label")),
        (TS_REPO, "lib/util.js", 3, ("lib/util.spec.js", "adds")),
        (GO_REPO, "server/client.go", 10, ("server/client_test.go", "TestNewClient")),
        (RUST_REPO, "src/parser.rs", 12, ("src/parser.rs", "tests::feed_appends")),
        (
            JAVA_REPO,
            "src/main/java/com/acme/Invoice.java",
            14,
            ("src/test/java/com/acme/InvoiceTest.java", "InvoiceTest.addsTax"),
        ),
    ],
)
def test_the_best_related_test_is_the_one_that_exercises_the_touched_unit(
    make_repo: RepoBuilder,
    files: dict[str, str | bytes],
    path: str,
    line: int,
    first_test: tuple[str, str],
) -> None:
    result = slice_lines(make_repo(files), path, line)
    assert result.tests, "no related test found"
    assert (result.tests[0].path, result.tests[0].name) == first_test
    assert result.tests[0].reason
    scores = [t.score for t in result.tests]
    assert scores == sorted(scores, reverse=True)


def test_rust_finds_both_inline_tests_and_integration_tests(make_repo: RepoBuilder) -> None:
    result = slice_lines(make_repo(RUST_REPO), "src/parser.rs", 12)
    assert {(t.path, t.name) for t in result.tests} == {
        ("src/parser.rs", "tests::feed_appends"),
        ("tests/parse.rs", "parses_from_outside"),
    }


def test_unrelated_tests_are_left_out(make_repo: RepoBuilder) -> None:
    python = slice_lines(make_repo(PYTHON_REPO), "pkg/shapes.py", 20)
    assert "tests/test_unrelated.py" not in {t.path for t in python.tests}


def test_java_tests_in_another_class_are_left_out(tmp_path: Path) -> None:
    from slice_repos import write_files

    repo = write_files(tmp_path, JAVA_REPO)
    result = slice_lines(repo, "src/main/java/com/acme/Invoice.java", 14)
    assert "ClockTest.ticks" not in {t.name for t in result.tests}


def test_the_related_test_limit_is_a_setting(make_repo: RepoBuilder) -> None:
    repo = make_repo(GO_REPO)
    settings = Settings.model_validate({"context": {"max_related_tests": 1}})
    anchor = FileRangeAnchor(path="server/client.go", start_line=15, end_line=15)
    assert len(slice_repository(repo, anchor, settings).tests) == 1


# ---- callee signatures -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "path", "line", "callee"),
    [
        (PYTHON_REPO, "pkg/shapes.py", 20, ("pkg/shapes.py", "clamp", "def clamp(x)", 23)),
        (TS_REPO, "src/Button.tsx", 2, ("src/Button.tsx", "click", "function click(l: string)", 5)),
        (
            GO_REPO,
            "server/client.go",
            10,
            ("server/client.go", "trim", "func trim(s string) string", 18),
        ),
    ],
)
def test_callees_are_given_as_signatures_not_bodies(
    make_repo: RepoBuilder,
    files: dict[str, str | bytes],
    path: str,
    line: int,
    callee: tuple[str, str, str, int],
) -> None:
    result = slice_lines(make_repo(files), path, line)
    assert [(c.path, c.name, c.signature, c.line) for c in result.callees] == [callee]
    assert f"{callee[0]}:{callee[3]}  {callee[2]}" in result.text
    assert "## Signatures of called functions" in result.text


def test_callees_in_a_sibling_file_of_the_same_package_are_found(make_repo: RepoBuilder) -> None:
    repo = make_repo(
        {
            "pkg/a.py": "def run(x):\n    return helper(x) + 1\n",
            "pkg/b.py": "def helper(x: int) -> int:\n    return x * 2\n",
        }
    )
    result = slice_lines(repo, "pkg/a.py", 2)
    assert [(c.path, c.signature) for c in result.callees] == [
        ("pkg/b.py", "def helper(x: int) -> int")
    ]
    assert "return x * 2" not in result.text


def test_a_call_on_the_standard_library_is_not_the_repository_function_of_that_name(
    make_repo: RepoBuilder,
) -> None:
    repo = make_repo(
        {
            "src/round.ts": (
                "export function roundUp(x: number): number {\n"
                "  return Math.ceil(x) + Object.keys({}).length + clamp(x);\n}\n"
            ),
            "src/ceil.ts": "export function ceil(x: number, d: number): number {\n  return x;\n}\n",
            "src/keys.ts": "export function keys(o: object): string[] {\n  return [];\n}\n",
            "src/clamp.ts": "export function clamp(x: number): number {\n  return x;\n}\n",
            "src/lib.rs": "fn build() -> Vec<u8> {\n    let v = Vec::new();\n    fill(v)\n}\n",
            "src/fill.rs": (
                "pub fn new() -> u8 {\n    0\n}\npub fn fill(v: Vec<u8>) -> Vec<u8> {\n    v\n}\n"
            ),
        }
    )
    ts = slice_lines(repo, "src/round.ts", 2)
    assert [c.name for c in ts.callees] == ["clamp"]
    rust = slice_lines(repo, "src/lib.rs", 2)
    assert [c.name for c in rust.callees] == ["fill"]


def test_a_bare_call_is_a_free_function_never_a_method_of_that_name(
    make_repo: RepoBuilder,
) -> None:
    repo = make_repo(
        {
            "src/a.ts": (
                'import {has} from "./util"\n'
                'export function f(o: object): boolean {\n  return has(o, "k")\n}\n'
            ),
            "src/proxy.ts": "export const traps = {\n  has(s, p) {\n    return true\n  },\n}\n",
            "src/util.ts": (
                "export function has(o: object, k: string): boolean {\n  return k in o\n}\n"
            ),
            "src/b.ts": "export function g(o: any): boolean {\n  return o.get().has(1)\n}\n",
            "pkg/run.py": "def run(x):\n    return helper(x)\n",
            "pkg/k.py": "class K:\n    def helper(self, x):\n        return x\n",
        }
    )
    ts = slice_lines(repo, "src/a.ts", 3)
    assert [(c.path, c.name) for c in ts.callees] == [("src/util.ts", "has")]
    chained = slice_lines(repo, "src/b.ts", 2)  # a call on an expression is a member call
    assert [(c.path, c.name) for c in chained.callees] == [("src/proxy.ts", "traps.has")]
    assert slice_lines(repo, "pkg/run.py", 2).callees == []


def test_members_removed_under_a_class_header_do_not_touch_the_header(
    make_repo: RepoBuilder,
) -> None:
    repo = make_repo(PYTHON_REPO)
    diff = (
        "--- a/pkg/shapes.py\n+++ b/pkg/shapes.py\n"
        "@@ -7,4 +7,3 @@\n"
        " class Circle:\n"
        '-    kind = "round"\n'
        '     """A circle."""\n'
        " \n"
    )
    assert touched_names(slice_repository(repo, DiffAnchor(diff=diff), Settings())) == []
