"""Rendering: deterministic numbered text, an exact token count, and degradation over budget."""

from __future__ import annotations

from slice_repos import RepoBuilder

from tandem.config import Settings
from tandem.cost.tokens import count_tokens
from tandem.slicing import slice_repository
from tandem.slicing.related import Candidate
from tandem.slicing.render import SIGNATURES_HEADING, Block, render
from tandem.slicing.result import FileRangeAnchor
from tandem.slicing.slicer import bodies_shown
from tandem.slicing.units import Unit


def block(name: str, start: int, n_lines: int, *, signature: str = "") -> Block:
    lines = [f"    value_{name}_{i} = compute_{i}(value_{name}_{i - 1})" for i in range(n_lines)]
    return Block("src/m.py", name, start, start + n_lines - 1, lines, signature=signature)


TOUCHED = [block("touched", 10, 5)]
CALLEES = [f"src/lib.py:{i}  def helper_{i}(alpha, beta, gamma) -> int" for i in range(1, 6)]
TESTS = [block(f"test_{i}", 100 * i, 30, signature=f"def test_{i}()") for i in range(1, 4)]


def full_tokens() -> int:
    return render(TOUCHED, CALLEES, TESTS, [], budget=10**6).tokens


def test_the_text_is_numbered_headed_by_path_range_and_name_and_deterministic() -> None:
    one = render([Block("a.py", "f", 3, 4, ["def f():", "    pass"])], [], [], [], 4000)
    assert one.text == "## Touched code\n\n--- a.py:3-4 f\n3\tdef f():\n4\t    pass\n"
    assert render([Block("a.py", "f", 3, 4, ["def f():", "    pass"])], [], [], [], 4000) == one


def test_the_token_count_is_exact_for_the_rendered_text() -> None:
    rendered = render(TOUCHED, CALLEES, TESTS, [], budget=10**6)
    assert rendered.tokens == count_tokens(rendered.text)
    assert rendered.warnings == []


def test_over_budget_the_lowest_ranked_test_bodies_become_signatures_first() -> None:
    full = full_tokens()
    rendered = render(TOUCHED, CALLEES, TESTS, [], budget=full - 1)
    assert rendered.tokens <= full - 1
    assert rendered.text.endswith(f"{SIGNATURES_HEADING}\nsrc/m.py:300-329  def test_3()\n")
    assert "value_test_1_29" in rendered.text  # the best test keeps its body
    assert "def helper_5" in rendered.text  # callees stay while tests can shrink
    assert rendered.warnings == ["over budget: some related tests are shown as signatures only"]


def test_callee_signatures_are_dropped_last_first_once_every_test_body_is_gone() -> None:
    # The largest budget at which the last callee is dropped (a binary search).
    low, high = 1, full_tokens()
    while high - low > 1:
        middle = (low + high) // 2
        kept = "def helper_5" in render(TOUCHED, CALLEES, TESTS, [], budget=middle).text
        low, high = (low, middle) if kept else (middle, high)
    budget = low
    rendered = render(TOUCHED, CALLEES, TESTS, [], budget=budget)
    assert "def helper_5" not in rendered.text
    assert rendered.tokens <= budget
    assert not any(line in rendered.text for t in TESTS for line in t.lines)
    assert "def helper_1" in rendered.text
    assert "over budget: dropped 1 callee signature(s)" in rendered.warnings


def test_touched_units_are_never_dropped_and_a_warning_says_they_exceed_the_budget() -> None:
    rendered = render(TOUCHED, CALLEES, TESTS, [], budget=20)
    for line in TOUCHED[0].lines:
        assert line in rendered.text
    assert "def helper_1" not in rendered.text
    assert f"{SIGNATURES_HEADING}\nsrc/m.py:100-129  def test_1()\n" in rendered.text
    assert rendered.warnings[-1].startswith(f"over budget: the slice is {rendered.tokens} tokens")
    assert "touched units are never dropped" in rendered.warnings[-1]


def test_a_slice_stays_within_its_budget_and_reports_whole_file_tokens(
    make_repo: RepoBuilder,
) -> None:
    body = "\n".join(f"    assert compute(x{i}) == {i}" for i in range(60))
    repo = make_repo(
        {
            "calc.py": "def compute(x):\n    return helper(x)\n\n\ndef helper(x):\n    return x\n",
            "test_calc.py": "from calc import compute\n\n\n"
            + "\n\n".join(f"def test_compute_{k}():\n{body}\n" for k in range(3)),
        }
    )
    anchor = FileRangeAnchor(path="calc.py", start_line=2, end_line=2)
    roomy = slice_repository(repo, anchor, Settings())
    assert len(roomy.tests) == 3 and roomy.tokens <= 4000
    files = (repo / "calc.py").read_text() + (repo / "test_calc.py").read_text()
    assert roomy.whole_file_tokens == count_tokens((repo / "calc.py").read_text()) + count_tokens(
        (repo / "test_calc.py").read_text()
    )
    assert roomy.whole_file_tokens < count_tokens(files) + 5
    tight = slice_repository(repo, anchor, Settings(), budget_tokens=roomy.tokens // 2)
    assert tight.tokens <= roomy.tokens // 2
    assert tight.tokens == count_tokens(tight.text)
    assert [t.name for t in tight.touched] == ["compute"]
    assert SIGNATURES_HEADING in tight.text


def test_only_the_best_ranked_test_bodies_are_kept_when_asked() -> None:
    rendered = render(TOUCHED, CALLEES, TESTS, [], budget=10**6, test_bodies=1)
    assert "value_test_1_29" in rendered.text
    assert "\nsrc/m.py:200-229  def test_2()\n" in rendered.text
    assert "value_test_3_0" not in rendered.text
    assert rendered.warnings == []  # a policy, not a budget problem


def test_signature_only_tests_are_listed_one_per_line_without_their_reason() -> None:
    described = Block(
        "src/m.test.ts",
        "parse > rejects empty input",
        7,
        9,
        ['it("rejects empty input", () => {'],
        note="calls parse",
        signature='it("rejects empty input")',
    )
    table = Block(
        "src/m.test.ts", "parse > %s is refused", 11, 12, ["it.each(CASES)"], note="calls parse"
    )
    best = block("test_1", 100, 30, signature="def test_1()")
    best.note = "why test_1"
    tests = [best, described, table]
    rendered = render(TOUCHED, [], tests, [], budget=10**6, test_bodies=1)
    # A described test's name already holds its title: its it("...") is not repeated.
    assert rendered.text.endswith(
        f"{SIGNATURES_HEADING}\n"
        "src/m.test.ts:7-9  parse > rejects empty input\n"
        "src/m.test.ts:11-12  parse > %s is refused: it.each(CASES)\n"
    )
    # The best test, shown with its body, keeps its reason in its header.
    assert "--- src/m.py:100-129 test_1  (why test_1)\n" in rendered.text


def test_only_the_best_test_is_shown_whole() -> None:
    def ranked(*scores: float) -> list[Candidate]:
        unit = Unit(name="test_x", kind="function", start_line=1, end_line=2)
        return [Candidate("tests/test_x.py", unit, score, "calls x") for score in scores]

    assert bodies_shown(ranked()) == 0
    assert bodies_shown(ranked(6.9)) == 1
    assert bodies_shown(ranked(6.9, 1.2, 1.1)) == 1
    assert bodies_shown(ranked(6.9, 6.9, 6.9)) == 1
