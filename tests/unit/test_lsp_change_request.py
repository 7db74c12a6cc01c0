"""The change request: the argument, else a selected comment or TODO, else .tandem/request.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from tandem.lsp.change_request import MissingRequest, request_from_selection, resolve_request


def test_the_argument_wins(tmp_path: Path) -> None:
    assert resolve_request("  add a flag ", ["# TODO: other"], tmp_path) == (
        "add a flag",
        "argument",
    )


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["    # TODO: accept ?archived=true"], "accept ?archived=true"),
        (["x = 1  # FIXME(bob): off by one"], "off by one"),
        (["// TODO - handle null", "int x;"], "handle null"),
        (["# Reject unknown values", "# with a 400."], "Reject unknown values with a 400."),
        (["/* Cache the result", " * for a minute */"], "Cache the result for a minute"),
        (["-- use an index here"], "use an index here"),
    ],
)
def test_a_selected_comment_or_todo_is_the_request(lines: list[str], expected: str) -> None:
    assert request_from_selection(lines) == expected


@pytest.mark.parametrize("lines", [[], ["   "], ["def f():", "    return 1"], ["x = 1  # a note"]])
def test_code_is_not_a_request(lines: list[str]) -> None:
    assert request_from_selection(lines) is None


def test_request_md_is_the_fallback_without_html_comments(tmp_path: Path) -> None:
    (tmp_path / ".tandem").mkdir()
    (tmp_path / ".tandem" / "request.md").write_text("<!-- what to change -->\nAdd paging.\n")
    assert resolve_request(None, ["def f():"], tmp_path) == ("Add paging.", "request.md")
    assert resolve_request("", ["# TODO: x"], tmp_path) == ("x", "selection")


def test_without_any_request_the_message_says_where_one_can_come_from(tmp_path: Path) -> None:
    with pytest.raises(MissingRequest, match=r"request.*comment.*TODO.*\.tandem/request\.md"):
        resolve_request(None, ["def f():"], tmp_path)
    with pytest.raises(MissingRequest):
        resolve_request(None, [], None)
