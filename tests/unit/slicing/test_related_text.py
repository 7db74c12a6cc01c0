"""A test that expects the text a change writes is related to it, though it names nothing touched.

Help output, error messages and rendered forms are checked by tests that run a public entry point
and compare what it printed; the phrase in the changed line's string literal is what ties them.
"""

from __future__ import annotations

from pathlib import Path

from slice_repos import RepoBuilder

from tandem.config import Settings
from tandem.slicing import slice_repository
from tandem.slicing.related_text import literal_phrases
from tandem.slicing.result import FileRangeAnchor, RelatedTest


def _related(repo: Path, path: str, text: str) -> list[RelatedTest]:
    lines = (repo / path).read_text(encoding="utf-8").splitlines()
    line = next(i for i, s in enumerate(lines, start=1) if text in s)
    anchor = FileRangeAnchor(path=path, start_line=line, end_line=line)
    return slice_repository(repo, anchor, Settings()).tests


def test_a_test_expecting_the_changed_message_outranks_tests_sharing_its_words(
    make_repo: RepoBuilder,
) -> None:
    repo = make_repo(
        {
            "app/__init__.py": "",
            "app/help.py": """
                def alias_note(aliases):
                    return "  [visible aliases: " + ", ".join(aliases) + "]"
            """,
            "app/cli.py": """
                from app import help


                class Command:
                    def __init__(self, name, aliases=()):
                        self.name = name
                        self.aliases = list(aliases)


                def run(argv):
                    return "usage: app [OPTIONS]"
            """,
            "tests/test_cli.py": """
                from app.cli import Command, run


                def test_aliases_are_kept_in_order():
                    cmd = Command("ls", aliases=["dir", "list"])
                    assert cmd.aliases == ["dir", "list"]


                def test_visible_aliases_are_stored():
                    cmd = Command("ls", aliases=["dir"])
                    assert "dir" in cmd.aliases


                def test_help_lists_the_aliases():
                    out = run(["ls", "--help"])
                    assert out.endswith("[visible aliases: dir, list]")
            """,
        }
    )
    tests = _related(repo, "app/help.py", "[visible aliases: ")
    assert tests[0].name == "test_help_lists_the_aliases"
    assert 'expects "[visible aliases:"' in tests[0].reason


def test_phrases_are_the_fixed_text_of_literals_between_placeholders() -> None:
    rust = [
        'let note = format!("[aliases: {}]", als.join(", "));',
        "fn first<'a>(xs: &'a [String]) -> &'a str { &xs[0] }",  # lifetimes are not text
        'use crate::output::{"not", "a literal"};',  # imports say nothing about output
    ]
    assert literal_phrases(rust, "rust") == {"[aliases:"}
    python = [
        "raise ValueError(f'{name!r} is not a valid field name')",
        'log("retrying")',  # one word: the ranking already compares it as a word
        'msg = "%s cannot parse %d lines\\n" % (path, n)',
    ]
    assert literal_phrases(python, "python") == {"is not a valid field name", "cannot parse"}
    ts = ["throw new Error(`Invalid discriminated union option at index ${i}`);"]
    assert literal_phrases(ts, "js") == {"Invalid discriminated union option at index"}
