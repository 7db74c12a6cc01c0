"""Property: random and mutated source in every slicing language never makes the slicer raise.

Unit extraction must return well-formed units for any text, and a whole slice of a repository
holding that text must come back (with warnings, perhaps) for any line range inside the file,
showing each touched unit under its own line numbers.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tandem.config import Settings
from tandem.cost.tokens import count_tokens
from tandem.slicing import SliceError, slice_repository
from tandem.slicing.extract import extract_units
from tandem.slicing.files import decode_source, source_lines
from tandem.slicing.languages import LanguageName
from tandem.slicing.result import DiffAnchor, FileRangeAnchor

SEEDS: dict[str, str] = {
    "pkg/test_mod.py": (
        "import os\n\n@decorator(1)\nclass A(Base):\n    '''Doc.'''\n    x: int = 1\n\n"
        "    @property\n    def f(self) -> int:\n        return helper(self.x)\n\n"
        "def test_f():\n    assert A().f == 1\n\nasync def g(*a, **k):\n    yield from a\n"
    ),
    "src/mod.test.ts": (
        "import { A } from './a';\n/** Doc. */\nexport class C<T> implements I {\n"
        "  @dec() m(x: T): number { return f(x); }\n  p = (a: number) => a + 1;\n}\n"
        "export const k = function () {};\ndescribe('C', () => {\n  it.each([1])('m %i', (n) => "
        "{ expect(new C().m(n)).toBe(1); });\n  test('p', async () => { await x(); });\n});\n"
        "namespace N { export function h(): void {} }\n"
    ),
    "src/view.tsx": (
        "export function View({ a }: { a: string }) {\n  return <div onClick={() => go(a)}>{a}"
        "</div>;\n}\nconst go = (s: string) => s;\n"
    ),
    "lib/mod.spec.js": (
        "// c\nfunction add(a, b) { return a + b; }\nmodule.exports = { add, m: function () {} };\n"
        "exports.x = () => 1;\ndescribe('add', function () { it('adds', () => add(1, 2)); });\n"
    ),
    "server/mod_test.go": (
        'package server\n\nimport "testing"\n\n// T doc.\ntype T struct {\n\tA int\n}\n\n'
        "type I interface{ M() }\n\nfunc (t *T) M() int { return f(t.A) }\n\n"
        "func TestM(t *testing.T) { (&T{}).M() }\n\nfunc f[K any](k K) K { return k }\n"
    ),
    "src/lib.rs": (
        "use std::fmt;\n/// Doc.\n#[derive(Debug)]\npub struct P<'a> { buf: &'a str }\n"
        "impl<'a> P<'a> { pub fn feed(&mut self) -> usize { helper(self.buf) } }\n"
        "pub enum E { A, B(u8) }\ntrait Tr { fn t(&self); }\nmacro_rules! m { () => {} }\n"
        '#[cfg(test)]\nmod tests {\n    use super::*;\n    #[test]\n    fn feeds() { P { buf: "" }'
        ".feed(); }\n}\n"
    ),
    "src/test/java/a/ATest.java": (
        "package a;\nimport org.junit.Test;\n/** Doc. */\npublic class ATest extends Base {\n"
        "  private int x = 1;\n  @Test public void adds() { assertEquals(1, f(x)); }\n"
        "  enum E { A, B; void m() {} }\n  record R(int a) {}\n  interface I { void m(); }\n}\n"
    ),
}

LANGUAGES: dict[str, LanguageName] = {
    "pkg/test_mod.py": "python",
    "src/mod.test.ts": "typescript",
    "src/view.tsx": "tsx",
    "lib/mod.spec.js": "javascript",
    "server/mod_test.go": "go",
    "src/lib.rs": "rust",
    "src/test/java/a/ATest.java": "java",
}

# Characters that matter to these grammars, so random text often opens and breaks constructs.
SYNTAX = st.sampled_from(
    [
        *"(){}[]<>;:,.'\"`/\\*#@!?&|=+-\n\t ",
        *["def ", "class ", "fn ", "func ", "impl ", "mod ", "it(", "describe(", "@Test"],
        *["#[test]", "/**", "*/", "=>", "::", "${", "<div>", "</div>", "\u00e9", "\u4e2d"],
    ]
)
TEXT = st.lists(st.one_of(SYNTAX, st.text(max_size=8)), max_size=60).map("".join)


@st.composite
def mutated_source(draw: st.DrawFn) -> tuple[str, str]:
    """A seed file of some language with a few random cuts, insertions and duplications."""
    path = draw(st.sampled_from(sorted(SEEDS)))
    text = SEEDS[path]
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        i = draw(st.integers(min_value=0, max_value=len(text)))
        j = draw(st.integers(min_value=i, max_value=min(len(text), i + 40)))
        op = draw(st.sampled_from(["cut", "insert", "duplicate", "replace"]))
        if op == "cut":
            text = text[:i] + text[j:]
        elif op == "insert":
            text = text[:i] + draw(TEXT) + text[i:]
        elif op == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        else:
            text = text[:i] + draw(TEXT) + text[j:]
    return path, text


def check_units(path: str, text: str) -> None:
    fu = extract_units(path, text, LANGUAGES[path])
    n_lines = text.count("\n") + 1
    for unit in fu.units:
        assert 1 <= unit.start_line <= unit.end_line <= n_lines, unit
        assert unit.name


def test_a_definition_whose_name_is_missing_still_gets_a_name() -> None:
    check_units("src/test/java/a/ATest.java", "class ATest {\n  @Test\n  void () {}\n}\n")
    check_units("pkg/test_mod.py", "def (x):\n    pass\n")


@settings(max_examples=60, deadline=None)
@given(path=st.sampled_from(sorted(SEEDS)), text=TEXT)
def test_unit_extraction_accepts_random_text_in_every_language(path: str, text: str) -> None:
    check_units(path, text)


@settings(max_examples=80, deadline=None)
@given(source=mutated_source())
def test_unit_extraction_accepts_mutated_source_in_every_language(
    source: tuple[str, str],
) -> None:
    check_units(*source)


@settings(max_examples=30, deadline=None)
@given(path=st.sampled_from(sorted(SEEDS)), data=st.binary(max_size=300))
def test_arbitrary_bytes_are_decoded_or_refused_with_a_reason(path: str, data: bytes) -> None:
    decoded = decode_source(data, path)
    if isinstance(decoded, str):
        assert decoded.startswith(f"{path}: skipped")
    else:
        check_units(path, decoded.text)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(source=mutated_source(), start=st.integers(1, 40), length=st.integers(0, 10))
def test_slicing_a_repository_of_mutated_source_never_raises(
    source: tuple[str, str], start: int, length: int
) -> None:
    path, text = source
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp)
        for seed_path, seed in SEEDS.items():
            (repo / seed_path).parent.mkdir(parents=True, exist_ok=True)
            (repo / seed_path).write_text(seed, encoding="utf-8")
        (repo / path).write_text(text, encoding="utf-8")
        n_lines = max(1, text.count("\n") + 1)
        first = min(start, n_lines)
        anchor = FileRangeAnchor(path=path, start_line=first, end_line=min(n_lines, first + length))
        result = slice_repository(repo, anchor, Settings())
        assert result.tokens > 0
        lines = source_lines(text)
        for touched in result.touched:
            assert touched.path == path
            first = lines[touched.start_line - 1]
            assert f"{touched.start_line}\t{first}" in result.text


BASE_DIFF = (
    "--- a/pkg/test_mod.py\n+++ b/pkg/test_mod.py\n@@ -9,2 +9,2 @@\n"
    "     def f(self) -> int:\n-        return helper(self.x)\n+        return helper(self.x)\n"
    "diff --git a/src/lib.rs b/src/lib.rs\nnew file mode 100644\n--- /dev/null\n+++ b/new.rs\n"
    "@@ -0,0 +1,1 @@\n+fn new() {}\nBinary files a/x.bin and b/x.bin differ\n"
)
DIFF_TOKENS = st.sampled_from(
    [
        *["@@", " -1,2 +3,4 @@", "\n", "+", "-", " ", "--- a/", "+++ b/", "/dev/null"],
        *["\\ No newline", "diff --git a/q b/q\n", '"a\\\\b"', "0", "99999999999", "\t"],
        *["\r", "\x00", "../", "\u00e9"],
    ]
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edits=st.lists(
        st.tuples(st.floats(0, 1), st.integers(0, 20), st.lists(DIFF_TOKENS, max_size=4)),
        min_size=1,
        max_size=5,
    )
)
def test_a_mutated_diff_gives_a_slice_or_a_clear_slice_error(
    edits: list[tuple[float, int, list[str]]],
) -> None:
    diff = BASE_DIFF
    for where, cut, insert in edits:
        i = int(where * len(diff))
        diff = diff[:i] + "".join(insert) + diff[i + cut :]
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp)
        for seed_path, seed in SEEDS.items():
            (repo / seed_path).parent.mkdir(parents=True, exist_ok=True)
            (repo / seed_path).write_text(seed, encoding="utf-8")
        try:
            result = slice_repository(repo, DiffAnchor(diff=diff), Settings())
        except SliceError as exc:
            assert str(exc)
        else:
            assert result.tokens == count_tokens(result.text)
