"""How related tests are ranked: the evidence that puts a test first, and what keeps noise out.

Each test builds a small repository in one language, touches one unit with a cursor range and
reads the ranked tests (best first, each with a one-line reason).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from slice_repos import RepoBuilder

from tandem.config import Settings
from tandem.slicing import slice_repository
from tandem.slicing.result import FileRangeAnchor, RelatedTest


def _related(repo: Path, path: str, line: int) -> list[RelatedTest]:
    anchor = FileRangeAnchor(path=path, start_line=line, end_line=line)
    return slice_repository(repo, anchor, Settings()).tests


def _names(tests: list[RelatedTest]) -> list[str]:
    return [t.name for t in tests]


def _line_of(repo: Path, path: str, text: str) -> int:
    lines = (repo / path).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if text in line)


PARSER_PY = """
    class Parser:
        def __init__(self):
            self.buffer = []

        def feed(self, chunk):
            self.buffer.append(chunk.strip())

        def close(self):
            self.buffer.clear()
"""


def test_a_direct_caller_outranks_a_test_that_only_shares_the_file(make_repo: RepoBuilder) -> None:
    repo = make_repo(
        {
            "pkg/parser.py": PARSER_PY,
            "tests/test_parser.py": """
                from pkg.parser import Parser

                def test_close_empties_the_buffer():
                    p = Parser()
                    p.close()
                    assert p.buffer == []

                def test_feed_strips_chunks():
                    p = Parser()
                    p.feed(" a ")
                    assert p.buffer == ["a"]
            """,
        }
    )
    tests = _related(repo, "pkg/parser.py", _line_of(repo, "pkg/parser.py", "chunk.strip"))
    assert tests[0].name == "test_feed_strips_chunks"
    assert "calls Parser.feed" in tests[0].reason
    names = _names(tests)
    if "test_close_empties_the_buffer" in names:
        assert tests[names.index("test_close_empties_the_buffer")].score < tests[0].score


def test_a_test_reaches_the_change_through_a_fixture_that_calls_it(
    make_repo: RepoBuilder,
) -> None:
    repo = make_repo(
        {
            "pkg/parser.py": PARSER_PY,
            "tests/conftest.py": """
                import pytest
                from pkg.parser import Parser

                @pytest.fixture
                def loaded_parser():
                    p = Parser()
                    p.feed("x")
                    return p
            """,
            "tests/test_reports.py": """
                def test_report_lists_the_buffer(loaded_parser):
                    assert loaded_parser.buffer == ["x"]

                def test_totals_add_up():
                    assert sum([1, 2]) == 3
            """,
        }
    )
    tests = _related(repo, "pkg/parser.py", _line_of(repo, "pkg/parser.py", "chunk.strip"))
    by_name = {t.name: t for t in tests}
    assert "test_report_lists_the_buffer" in by_name
    assert "loaded_parser" in by_name["test_report_lists_the_buffer"].reason
    assert "test_totals_add_up" not in by_name


def test_a_test_reaches_a_private_function_through_the_public_one_that_calls_it(
    make_repo: RepoBuilder,
) -> None:
    repo = make_repo(
        {
            "pkg/pager.py": """
                def _tempfile_pager(lines, cmd):
                    return [line.rstrip() for line in lines]

                def echo_via_pager(text):
                    return _tempfile_pager(text.splitlines(), "less")
            """,
            "tests/test_output.py": """
                from pkg.pager import echo_via_pager

                def test_pager_gets_every_line():
                    assert echo_via_pager("a\\nb") == ["a", "b"]

                def test_unrelated_arithmetic():
                    assert 2 + 2 == 4
            """,
        }
    )
    line = _line_of(repo, "pkg/pager.py", "line.rstrip")
    tests = _related(repo, "pkg/pager.py", line)
    assert _names(tests) == ["test_pager_gets_every_line"]
    assert "echo_via_pager, which calls _tempfile_pager" in tests[0].reason


def test_names_match_across_naming_styles(make_repo: RepoBuilder) -> None:
    repo = make_repo(
        {
            "pkg/bars.py": """
                class ProgressBar:
                    def render_finish(self):
                        return "done"

                def progressbar():
                    return ProgressBar()
            """,
            "tests/test_widgets.py": """
                from pkg import bars

                def test_progressbar_finishes():
                    assert bars.progressbar().render_finish() == "done"
            """,
        }
    )
    tests = _related(repo, "pkg/bars.py", _line_of(repo, "pkg/bars.py", "class ProgressBar"))
    assert _names(tests) == ["test_progressbar_finishes"]


def test_typescript_tests_that_import_and_use_the_export_are_found(
    make_repo: RepoBuilder,
) -> None:
    repo = make_repo(
        {
            "src/money.ts": """
                export function formatAmount(cents: number): string {
                  return (cents / 100).toFixed(2);
                }

                export function parseAmount(text: string): number {
                  return Math.round(parseFloat(text) * 100);
                }
            """,
            "tests/money.test.ts": """
                import { formatAmount, parseAmount } from "../src/money";

                describe("money", () => {
                  it("formats cents as units", () => {
                    expect(formatAmount(150)).toBe("1.50");
                  });
                  it("parses units to cents", () => {
                    expect(parseAmount("1.5")).toBe(150);
                  });
                });
            """,
            "tests/dates.test.ts": """
                test("adds a day", () => {
                  expect(new Date(0).getTime() + 86400000).toBe(86400000);
                });
            """,
        }
    )
    line = _line_of(repo, "src/money.ts", "toFixed")
    tests = _related(repo, "src/money.ts", line)
    assert tests[0].name == "money > formats cents as units"
    assert "formatAmount" in tests[0].reason
    assert all(t.path != "tests/dates.test.ts" for t in tests)


def test_typescript_tests_whose_imports_never_reach_the_change_are_left_out(
    make_repo: RepoBuilder,
) -> None:
    test_body = """
        describe("{title}", () => {{
          it("rounds an amount", () => {{
            expect(roundAmount(1.005)).toBe(1.01);
          }});
        }});
    """
    repo = make_repo(
        {
            "package.json": '{"name": "ledger", "exports": {"./money": "./src/money/index.ts"}}',
            "src/money/index.ts": 'export { roundAmount } from "./round.js";\n',
            "src/money/round.ts": """
                export function roundAmount(value: number): number {
                  return Math.round(value * 100) / 100;
                }
            """,
            "src/legacy/round.ts": """
                export function roundAmount(value: number): number {
                  return Math.floor(value * 100) / 100;
                }
            """,
            # through the package's own name and exports map, then a re-exporting index
            "tests/money.test.ts": 'import { roundAmount } from "ledger/money";\n'
            + test_body.format(title="money"),
            # relative, with the ``.js`` spelling that names a ``.ts`` file
            "tests/direct.test.ts": 'import { roundAmount } from "../src/money/round.js";\n'
            + test_body.format(title="direct"),
            # the same name, from another module: its imports never lead to the change
            "tests/legacy.test.ts": 'import { roundAmount } from "../src/legacy/round";\n'
            + test_body.format(title="legacy"),
        }
    )
    path = "src/money/round.ts"
    tests = _related(repo, path, _line_of(repo, path, "Math.round"))
    assert {t.path for t in tests} == {"tests/money.test.ts", "tests/direct.test.ts"}


def test_go_tests_of_the_same_package_say_so(make_repo: RepoBuilder) -> None:
    repo = make_repo(
        {
            "client/client.go": """
                package client

                type Client struct{ base string }

                func NewClient(base string) *Client {
                    return &Client{base: base}
                }
            """,
            "client/server_test.go": """
                package client

                import "testing"

                func TestServerUsesTheClient(t *testing.T) {
                    if NewClient("x").base != "x" {
                        t.Fatal("base")
                    }
                }
            """,
            "other/other_test.go": """
                package other

                import "testing"

                func TestSomethingElse(t *testing.T) {}
            """,
        }
    )
    line = _line_of(repo, "client/client.go", "return &Client")
    tests = _related(repo, "client/client.go", line)
    assert _names(tests) == ["TestServerUsesTheClient"]
    assert "NewClient" in tests[0].reason
    assert "same package" in tests[0].reason


def test_java_tests_in_the_src_test_mirror_are_paired(make_repo: RepoBuilder) -> None:
    repo = make_repo(
        {
            "src/main/java/org/acme/Tokens.java": """
                package org.acme;

                public class Tokens {
                    public static String normalise(String raw) {
                        return raw.trim().toLowerCase();
                    }
                }
            """,
            "src/test/java/org/acme/TokensTest.java": """
                package org.acme;

                import org.junit.jupiter.api.Test;

                class TokensTest {
                    @Test
                    void normaliseTrimsAndLowers() {
                        Tokens.normalise(" A ");
                    }
                }
            """,
            "src/test/java/org/acme/ClockTest.java": """
                package org.acme;

                import org.junit.jupiter.api.Test;

                class ClockTest {
                    @Test
                    void ticks() {
                        System.nanoTime();
                    }
                }
            """,
        }
    )
    path = "src/main/java/org/acme/Tokens.java"
    tests = _related(repo, path, _line_of(repo, path, "raw.trim"))
    assert _names(tests) == ["TokensTest.normaliseTrimsAndLowers"]
    assert "Tokens.normalise" in tests[0].reason


def test_java_tests_of_the_mirrored_package_outrank_the_same_calls_elsewhere(
    make_repo: RepoBuilder,
) -> None:
    def test_file(package: str, cls: str) -> str:
        return f"""
            package org.acme.{package};

            import org.junit.jupiter.api.Test;
            import org.acme.select.QueryParser;

            class {cls} {{
                @Test
                void parsesAQuery() {{
                    QueryParser.parse("div > p");
                }}
            }}
        """

    repo = make_repo(
        {
            "src/main/java/org/acme/select/QueryParser.java": """
                package org.acme.select;

                public class QueryParser {
                    public static String parse(String query) {
                        return query.trim();
                    }
                }
            """,
            "src/test/java/org/acme/other/DocumentTest.java": test_file("other", "DocumentTest"),
            "src/test/java/org/acme/select/SelectorTest.java": test_file("select", "SelectorTest"),
        }
    )
    path = "src/main/java/org/acme/select/QueryParser.java"
    tests = _related(repo, path, _line_of(repo, path, "query.trim"))
    assert _names(tests)[0] == "SelectorTest.parsesAQuery"
    assert "same package" in tests[0].reason


def test_rust_inline_tests_of_the_changed_file_come_first(make_repo: RepoBuilder) -> None:
    repo = make_repo(
        {
            "src/lib.rs": """
                pub fn parse_line(line: &str) -> Vec<&str> {
                    line.split(',').collect()
                }

                pub fn other(x: u32) -> u32 {
                    x + 1
                }

                #[cfg(test)]
                mod tests {
                    use super::*;

                    #[test]
                    fn splits_on_commas() {
                        assert_eq!(parse_line("a,b"), vec!["a", "b"]);
                    }

                    #[test]
                    fn other_adds_one() {
                        assert_eq!(other(1), 2);
                    }
                }
            """,
        }
    )
    tests = _related(repo, "src/lib.rs", _line_of(repo, "src/lib.rs", "split(','"))
    assert tests[0].name == "tests::splits_on_commas"
    assert "calls parse_line" in tests[0].reason
    names = _names(tests)
    if "tests::other_adds_one" in names:
        assert tests[names.index("tests::other_adds_one")].score < tests[0].score


def test_a_name_every_test_uses_counts_for_less_than_a_rare_one(make_repo: RepoBuilder) -> None:
    common = "\n".join(f"def test_case_{i}():\n    assert run({i}) == {i}\n" for i in range(8))
    repo = make_repo(
        {
            "pkg/engine.py": """
                def run(x):
                    return x

                def rewind_tape(x):
                    return run(x)
            """,
            "tests/test_engine.py": common
            + "\ndef test_rewinding():\n    assert rewind_tape(1) == 1\n",
        }
    )
    tests = _related(repo, "pkg/engine.py", _line_of(repo, "pkg/engine.py", "def rewind_tape"))
    assert tests[0].name == "test_rewinding"


def test_a_second_file_gets_the_last_slot_with_less_evidence_than_a_tenth_test_of_the_first(
    make_repo: RepoBuilder,
) -> None:
    table_tests = "\n".join(
        f"def test_render_row_case_{i}():\n    assert render_row([{i}]) == '{i}'\n"
        for i in range(12)
    )
    repo = make_repo(
        {
            "pkg/table.py": """
                def render_row(cells):
                    return " | ".join(str(c) for c in cells)


                def show_table(rows):
                    return "\\n".join(render_row(r) for r in rows)
            """,
            "tests/test_table.py": "from pkg.table import render_row\n\n" + table_tests,
            "tests/test_report.py": """
                from pkg.table import show_table


                def test_report_renders_each_row():
                    assert show_table([[1, 2]]) == "1 | 2"
            """,
        }
    )
    tests = _related(repo, "pkg/table.py", _line_of(repo, "pkg/table.py", "join(str(c)"))
    assert len(tests) == 10
    assert {t.path for t in tests[:9]} == {"tests/test_table.py"}
    assert tests[9].name == "test_report_renders_each_row"
    assert "calls show_table, which calls render_row" in tests[9].reason
    # weaker than the cut that keeps tests of the first file
    assert tests[9].score < 0.5 * tests[0].score


def test_a_short_list_is_filled_with_weaker_evidence_after_the_ranked_tests(
    make_repo: RepoBuilder,
) -> None:
    repo = make_repo(
        {
            "pkg/parser.py": PARSER_PY,
            "tests/test_parser.py": """
                from pkg.parser import Parser

                def test_feed_strips_chunks():
                    p = Parser()
                    p.feed(" a ")
                    assert p.buffer == ["a"]
            """,
            "tests/test_io.py": """
                from pkg.parser import Parser

                def test_a_new_parser_is_empty():
                    assert Parser().buffer == []

                def test_sums():
                    assert 1 + 1 == 2

                def test_joins():
                    assert "a" + "b" == "ab"

                def test_lengths():
                    assert len([1]) == 1
            """,
        }
    )
    tests = _related(repo, "pkg/parser.py", _line_of(repo, "pkg/parser.py", "chunk.strip"))
    assert _names(tests) == ["test_feed_strips_chunks", "test_a_new_parser_is_empty"]
    assert tests[1].score < tests[0].score * 0.5  # under the relative cut: a filler
    assert tests[1].reason == "references Parser"


def test_a_changed_constructor_is_found_through_the_class_it_builds(
    make_repo: RepoBuilder,
) -> None:
    repo = make_repo(
        {
            "pkg/parser.py": PARSER_PY,
            "tests/test_parser.py": """
                from pkg.parser import Parser

                def test_a_new_parser_is_empty():
                    assert Parser().buffer == []
            """,
            "tests/test_setup.py": """
                def test_init_creates_the_folder(tmp_path):
                    init = tmp_path / "init"
                    init.mkdir()
                    assert init.exists()
            """,
        }
    )
    tests = _related(repo, "pkg/parser.py", _line_of(repo, "pkg/parser.py", "self.buffer = []"))
    assert _names(tests) == ["test_a_new_parser_is_empty"]
    assert tests[0].reason.startswith("calls Parser")


def test_the_filler_shows_files_not_yet_shown_before_more_of_the_same_file() -> None:
    from types import SimpleNamespace
    from typing import Any

    from tandem.slicing.related import _fill
    from tandem.slicing.related_scoring import ScoredTest

    def scored(path: str, score: float, located_only: bool = False) -> ScoredTest:
        test: Any = SimpleNamespace(rec=SimpleNamespace(path=path))
        return ScoredTest(score, 0.0, test, [], located_only)

    ranked = [scored("a_test.go", 9.0)]
    every = [
        ranked[0],
        scored("a_test.go", 1.1),
        scored("a_test.go", 1.0),
        scored("c_test.go", 0.9, located_only=True),
        scored("b_test.go", 0.8),
    ]
    filled = _fill(ranked, every, 4)
    assert [(s.test.rec.path, s.score) for s in filled] == [
        ("a_test.go", 9.0),
        ("b_test.go", 0.8),
        ("a_test.go", 1.1),
        ("a_test.go", 1.0),
    ]


def test_a_changed_typescript_constructor_is_found_through_new_class(
    make_repo: RepoBuilder,
) -> None:
    repo = make_repo(
        {
            "src/cart.ts": """
                export class Cart {
                  items: string[];

                  constructor(first: string) {
                    this.items = [first.trim()];
                  }
                }
            """,
            "tests/cart.test.ts": """
                import { Cart } from "../src/cart";

                test("a new cart holds its first item", () => {
                  expect(new Cart(" a ").items).toEqual(["a"]);
                });
            """,
            "tests/other.test.ts": """
                test("a constructor name alone says nothing", () => {
                  const constructor = 1;
                  expect(constructor).toBe(1);
                });
            """,
        }
    )
    tests = _related(repo, "src/cart.ts", _line_of(repo, "src/cart.ts", "first.trim()"))
    assert _names(tests) == ["a new cart holds its first item"]
    assert tests[0].reason.startswith("calls Cart")


def test_a_helper_calling_two_touched_units_names_the_same_one_in_every_process() -> None:
    script = (
        "from tandem.slicing.related_hops import helper_hops\n"
        "from tandem.slicing.units import Unit\n"
        "helper = Unit('make_report', 'function', 1, 3)\n"
        "idents = frozenset(['render_row', 'render_cell', 'width', 'rows'])\n"
        "touched = {'renderrow': 'render_row', 'rendercell': 'render_cell'}\n"
        "print(helper_hops([(None, helper, idents)], touched))\n"
    )
    seen = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in range(6)
    }
    assert len(seen) == 1, seen
