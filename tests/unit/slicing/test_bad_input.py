"""Bad input: every case ends in a slice with a clear warning or a clear error, never a crash."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from slice_repos import PYTHON_REPO, RepoBuilder

from tandem.config import Settings
from tandem.slicing import SliceError, slice_repository
from tandem.slicing.files import decode_source
from tandem.slicing.result import DiffAnchor, FileRangeAnchor, Slice, WorkingTreeAnchor


def slice_lines(repo: Path, path: str, start: int, end: int | None = None) -> Slice:
    anchor = FileRangeAnchor(path=path, start_line=start, end_line=end or start)
    return slice_repository(repo, anchor, Settings())


def test_a_binary_file_with_a_source_extension_is_skipped_with_a_warning(
    make_repo: RepoBuilder,
) -> None:
    repo = make_repo({**PYTHON_REPO, "tests/test_blob.py": b"\x00\x01\x02binary\x00" * 100})
    result = slice_lines(repo, "pkg/shapes.py", 24)
    assert [t.name for t in result.touched] == ["clamp"]
    assert "tests/test_blob.py: skipped, binary file" in result.warnings
    direct = slice_lines(repo, "tests/test_blob.py", 1)
    assert direct.touched == []
    assert "tests/test_blob.py: skipped, binary file" in direct.warnings


def test_a_10_mb_minified_bundle_is_never_parsed(make_repo: RepoBuilder) -> None:
    bundle = "var a=1;" * (10 * 1024 * 1024 // 8)
    repo = make_repo(
        {
            "web/app.js": "export function start() {\n  return boot();\n}\n",
            "web/bundle.min.js": bundle,
            "web/app.test.js": "import { start } from './app';\n\n"
            "test('starts', () => { start(); });\n",
        }
    )
    began = time.perf_counter()
    result = slice_lines(repo, "web/app.js", 2)
    assert time.perf_counter() - began < 30  # a sanity bound, not a speed measurement
    assert [t.name for t in result.touched] == ["start"]
    assert [t.name for t in result.tests] == ["starts"]
    on_bundle = slice_lines(repo, "web/bundle.min.js", 1)
    assert on_bundle.touched == []
    assert any(
        w.startswith("web/bundle.min.js: skipped") and "over context.max_file_bytes" in w
        for w in on_bundle.warnings
    )


def test_a_minified_file_under_the_size_limit_is_recognised_by_its_long_lines() -> None:
    warning = decode_source(b"var a=1;" * 2000, "min.js")
    assert warning == (
        "min.js: skipped, looks minified or generated (mostly lines over 5000 characters)"
    )


def test_a_source_file_with_one_long_literal_line_is_still_sliced() -> None:
    body = "".join(
        f"test('case {k}', () => {{ expect(f({k})).toBe({k}); }});\n" for k in range(300)
    )
    text = f"const LONG = '{'x' * 9000}';\n{body}"
    source = decode_source(text.encode(), "long.test.ts")
    assert not isinstance(source, str)
    assert source.text == text


def test_a_test_file_mostly_made_of_one_expected_output_is_still_sliced() -> None:
    # rich's tests/test_table.py: one 16 KB expected rendering is 57% of a 413-line file.
    body = "".join(f"def test_{k}():\n    assert render({k}) == EXPECTED\n\n" for k in range(40))
    text = f"EXPECTED = '{'x' * 12000}'\n{body}"
    source = decode_source(text.encode(), "tests/test_table.py")
    assert not isinstance(source, str)
    assert decode_source((b"x" * 6000 + b"\n") * 3 + b"y = 1\n" * 20, "gen.py") == (
        "gen.py: skipped, looks minified or generated (mostly lines over 5000 characters)"
    )


def test_invalid_utf8_is_decoded_with_replacement_characters_and_a_warning(
    make_repo: RepoBuilder,
) -> None:
    repo = make_repo({"latin.py": b"NAME = '\xe9t\xe9'\n\ndef greet():\n    return NAME\n"})
    result = slice_lines(repo, "latin.py", 4)
    assert [t.name for t in result.touched] == ["greet"]
    assert "latin.py: invalid UTF-8, decoded with replacement characters" in result.warnings


def test_a_file_with_syntax_errors_is_sliced_as_far_as_it_parses(make_repo: RepoBuilder) -> None:
    repo = make_repo({"broken.py": "def good():\n    return 1\n\ndef bad(:\n    pass\n"})
    result = slice_lines(repo, "broken.py", 2)
    assert [t.name for t in result.touched] == ["good"]
    assert "broken.py: syntax errors; slicing what parses" in result.warnings


def test_an_empty_diff_touches_nothing_and_says_so(make_repo: RepoBuilder) -> None:
    result = slice_repository(make_repo(PYTHON_REPO), DiffAnchor(diff=""), Settings())
    assert result.touched == [] and result.tests == []
    assert "nothing changed: the diff is empty, so nothing is touched" in result.warnings


def test_a_diff_that_does_not_match_the_tree_names_the_hunk(make_repo: RepoBuilder) -> None:
    diff = (
        "--- a/pkg/shapes.py\n+++ b/pkg/shapes.py\n"
        "@@ -24,1 +24,1 @@ def clamp(x):\n-    return x\n+    return min(1.0, x)\n"
    )
    with pytest.raises(SliceError) as caught:
        slice_repository(make_repo(PYTHON_REPO), DiffAnchor(diff=diff), Settings())
    message = str(caught.value)
    assert "diff does not match the tree" in message
    assert "hunk '@@ -24,1 +24,1 @@' of pkg/shapes.py" in message
    assert "line 24" in message


def test_a_diff_of_a_file_missing_from_the_tree_names_the_hunk(make_repo: RepoBuilder) -> None:
    diff = "--- a/gone.py\n+++ b/gone.py\n@@ -1,1 +1,1 @@\n-a = 1\n+a = 2\n"
    with pytest.raises(SliceError, match=r"hunk '@@ -1,1 \+1,1 @@' changes gone.py"):
        slice_repository(make_repo(PYTHON_REPO), DiffAnchor(diff=diff), Settings())


def test_text_that_is_not_a_unified_diff_is_a_clear_error(make_repo: RepoBuilder) -> None:
    with pytest.raises(SliceError, match="is it a unified diff"):
        slice_repository(make_repo(PYTHON_REPO), DiffAnchor(diff="hello\n"), Settings())


def test_symlink_loops_are_skipped_and_never_followed(make_repo: RepoBuilder) -> None:
    repo = make_repo(PYTHON_REPO)
    (repo / "tests" / "test_loop.py").symlink_to("test_loop.py")  # points at itself
    (repo / "pkg" / "up").symlink_to("..")  # a folder loop
    result = slice_lines(repo, "pkg/shapes.py", 24)
    assert [t.name for t in result.touched] == ["clamp"]
    assert "tests/test_loop.py: skipped, symlink loop" in result.warnings


def test_a_folder_that_is_not_a_git_repository_slices_without_git_features(
    make_repo: RepoBuilder,
) -> None:
    repo = make_repo(PYTHON_REPO)
    assert not (repo / ".git").exists()
    assert [t.name for t in slice_lines(repo, "pkg/shapes.py", 24).touched] == ["clamp"]
    with pytest.raises(SliceError, match="is not a git repository, so --working-tree"):
        slice_repository(repo, WorkingTreeAnchor(), Settings())


def test_an_unsupported_language_is_sent_as_plain_text_within_the_budget(
    make_repo: RepoBuilder,
) -> None:
    repo = make_repo(
        {"notes.md": "# Notes\n\nSome text.\n", "main.c": "int main() { return 0; }\n"}
    )
    diff = "--- a/main.c\n+++ b/main.c\n@@ -1 +1 @@\n-int main() { return 1; }\n"
    diff += "+int main() { return 0; }\n"
    result = slice_repository(repo, DiffAnchor(diff=diff), Settings())
    assert "main.c: language not supported for slicing; sent as plain text" in result.warnings
    assert "## Other changed files (plain text, not sliced)" in result.text
    assert "1\tint main() { return 0; }" in result.text
    ranged = slice_lines(repo, "notes.md", 1)
    assert "3\tSome text." in ranged.text
    (repo / "big.md").write_text("".join(f"line {i} of a long text\n" for i in range(1, 2001)))
    squeezed = slice_repository(
        repo,
        FileRangeAnchor(path="big.md", start_line=1, end_line=1),
        Settings(),
        budget_tokens=500,
    )
    assert squeezed.tokens <= 500
    assert "1\tline 1 of a long text" in squeezed.text
    assert "line 2000 of" not in squeezed.text
    cut = [w for w in squeezed.warnings if w.startswith("over budget: the unsliced file big.md")]
    assert len(cut) == 1 and "cut to its first" in cut[0]


@pytest.mark.parametrize(
    ("anchor", "message"),
    [
        (FileRangeAnchor(path="nope.py", start_line=1, end_line=1), "file not found"),
        (FileRangeAnchor(path="pkg/shapes.py", start_line=5, end_line=2), "end is before"),
        (FileRangeAnchor(path="/etc/passwd", start_line=1, end_line=1), "outside the repository"),
    ],
)
def test_bad_anchors_are_clear_errors(
    make_repo: RepoBuilder, anchor: FileRangeAnchor, message: str
) -> None:
    with pytest.raises(SliceError, match=message):
        slice_repository(make_repo(PYTHON_REPO), anchor, Settings())


def test_a_missing_repository_and_a_non_positive_budget_are_clear_errors(tmp_path: Path) -> None:
    anchor = FileRangeAnchor(path="a.py", start_line=1, end_line=1)
    with pytest.raises(SliceError, match="repository folder not found"):
        slice_repository(tmp_path / "missing", anchor, Settings())
    with pytest.raises(SliceError, match="budget must be positive"):
        slice_repository(tmp_path, anchor, Settings(), budget_tokens=0)


def test_form_feeds_and_unicode_line_separators_do_not_shift_line_numbers(
    make_repo: RepoBuilder,
) -> None:
    repo = make_repo(
        {"odd.py": "\x0c\nNOTE = 'a\u2028b'\n\x0c\ndef target():\n    return 'here'\n"}
    )
    result = slice_lines(repo, "odd.py", 5)
    assert [(t.name, t.start_line, t.end_line) for t in result.touched] == [("target", 4, 5)]
    assert "4\tdef target():\n5\t    return 'here'" in result.text


def test_windows_line_endings_slice_like_unix_ones(make_repo: RepoBuilder) -> None:
    repo = make_repo({"crlf.py": b"def a():\r\n    return 1\r\n\r\ndef b():\r\n    return 2\r\n"})
    diff = "--- a/crlf.py\r\n+++ b/crlf.py\r\n@@ -5 +5 @@\r\n-    return 3\r\n+    return 2\r\n"
    result = slice_repository(repo, DiffAnchor(diff=diff), Settings())
    assert [t.name for t in result.touched] == ["b"]
    assert "5\t    return 2\n" in result.text


def test_a_diff_path_climbing_out_of_the_repository_is_an_error(make_repo: RepoBuilder) -> None:
    diff = "--- a/../outside.py\n+++ b/../outside.py\n@@ -1 +1 @@\n-a = 1\n+a = 2\n"
    with pytest.raises(SliceError, match="outside the repository"):
        slice_repository(make_repo(PYTHON_REPO), DiffAnchor(diff=diff), Settings())
    with pytest.raises(SliceError, match="outside the repository"):
        slice_lines(make_repo(PYTHON_REPO), "pkg/../../outside.py", 1)


def test_a_symlink_to_a_file_outside_the_repository_is_never_read(
    make_repo: RepoBuilder, tmp_path: Path
) -> None:
    outside = tmp_path / "credentials_elsewhere.py"
    outside.write_text("def test_leak():\n    TOKEN = 'sk-live-outside'\n")
    repo = make_repo(PYTHON_REPO)
    (repo / "tests" / "test_link.py").symlink_to(outside)
    (repo / "pkg" / "link.md").symlink_to(outside)
    result = slice_lines(repo, "pkg/shapes.py", 24)
    assert "tests/test_link.py: skipped, a symlink to outside the repository" in result.warnings
    assert "sk-live-outside" not in result.text
    as_plain = slice_lines(repo, "pkg/link.md", 1)
    assert "sk-live-outside" not in as_plain.text
    assert "pkg/link.md: skipped, a symlink to outside the repository" in as_plain.warnings
    diff = "--- a/pkg/link.md\n+++ b/pkg/link.md\n@@ -1 +1 @@\n-x\n+def test_leak():\n"
    via_diff = slice_repository(repo, DiffAnchor(diff=diff), Settings())
    assert "sk-live-outside" not in via_diff.text
    assert "pkg/link.md: skipped, a symlink to outside the repository" in via_diff.warnings
