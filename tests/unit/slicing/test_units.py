"""Code units: what each language's units are called, where they start and end, which are tests."""

from __future__ import annotations

import textwrap

import pytest
from slice_repos import GO_REPO, JAVA_REPO, PYTHON_REPO, RUST_REPO, TS_REPO

from tandem.slicing.extract import extract_units
from tandem.slicing.languages import UnsupportedLanguage, language_for_path
from tandem.slicing.units import FileUnits, Unit, is_test_file


def units_of(repo: dict[str, str | bytes], path: str) -> FileUnits:
    source = repo[path]
    assert isinstance(source, str)
    language = language_for_path(path)
    assert language is not None
    return extract_units(path, textwrap.dedent(source).lstrip("\n"), language)


def by_name(fu: FileUnits) -> dict[str, Unit]:
    return {u.name: u for u in fu.units}


def spans(fu: FileUnits) -> dict[str, tuple[int, int]]:
    return {u.name: (u.start_line, u.end_line) for u in fu.units}


def names_of_tests(fu: FileUnits) -> list[str]:
    return [u.name for u in fu.tests()]


# ---- Python --------------------------------------------------------------------------------


def test_python_methods_are_qualified_by_class_and_decorators_and_comments_belong_to_them() -> None:
    fu = units_of(PYTHON_REPO, "pkg/shapes.py")
    units = by_name(fu)
    # The decorator (line 6) opens the class's header, which ends at its colon.
    assert (units["Circle"].kind, units["Circle"].start_line, units["Circle"].end_line) == (
        "class",
        6,
        7,
    )
    # The comment and @property above the method are part of it.
    assert spans(fu)["Circle.area"] == (12, 15)
    assert units["Circle.area"].signature == "def area(self) -> float"
    assert units["Circle.area"].container == "Circle"
    # The docstring is inside the function's own span.
    assert spans(fu)["scale"] == (18, 20)
    assert units["RATE"].kind == "statement"
    assert not fu.has_errors
    assert fu.tests() == []  # not a test file


def test_python_tests_are_test_functions_and_methods_in_test_files_but_not_fixtures() -> None:
    fu = units_of(PYTHON_REPO, "tests/test_shapes.py")
    assert names_of_tests(fu) == ["test_area", "TestScale.test_doubles"]
    assert spans(fu)["unit_circle"] == (6, 8)  # the fixture, with its decorator


# ---- JavaScript / TypeScript / TSX -----------------------------------------------------


def test_typescript_doc_comments_and_decorators_belong_to_the_method() -> None:
    fu = units_of(TS_REPO, "src/cart.ts")
    assert spans(fu)["Cart.add"] == (7, 11)
    assert spans(fu)["Cart"] == (3, 4)  # doc comment + class header line
    assert by_name(fu)["Cart.total"].kind == "function"  # an arrow function field
    assert by_name(fu)["emptyCart"].signature == "export function emptyCart(): Cart"


def test_js_test_names_join_describe_titles_with_the_it_title() -> None:
    fu = units_of(TS_REPO, "src/cart.test.ts")
    assert names_of_tests(fu) == ["Cart > add > counts items", "Cart > totals %i"]
    assert spans(fu)["Cart > add > counts items"] == (5, 9)


def test_tsx_parses_jsx_and_finds_tests_under_dunder_tests() -> None:
    assert spans(units_of(TS_REPO, "src/Button.tsx")) == {"Button": (1, 3), "click": (5, 7)}
    assert names_of_tests(units_of(TS_REPO, "src/__tests__/Button.test.tsx")) == [
        "renders the label"
    ]


def test_javascript_functions_arrow_constants_and_spec_files() -> None:
    fu = units_of(TS_REPO, "lib/util.js")
    assert spans(fu)["add"] == (1, 4)  # the leading comment is part of it
    assert by_name(fu)["mul"].kind == "function"
    assert names_of_tests(units_of(TS_REPO, "lib/util.spec.js")) == ["adds"]


# ---- Go ---------------------------------------------------------------------------------


def test_go_methods_are_qualified_by_receiver_type_and_doc_comments_belong_to_them() -> None:
    fu = units_of(GO_REPO, "server/client.go")
    assert spans(fu)["Client"] == (3, 4)
    assert spans(fu)["NewClient"] == (8, 11)
    assert spans(fu)["Client.Get"] == (13, 16)
    assert by_name(fu)["Client.Get"].signature == "func (c *Client) Get(path string) string"


def test_go_tests_are_test_benchmark_fuzz_and_example_functions_in_test_files() -> None:
    fu = units_of(GO_REPO, "server/client_test.go")
    assert names_of_tests(fu) == ["TestNewClient", "BenchmarkGet", "ExampleClient_Get", "FuzzGet"]


# ---- Rust -------------------------------------------------------------------------------


def test_rust_impl_methods_are_qualified_with_double_colons_and_keep_their_doc_comments() -> None:
    fu = units_of(RUST_REPO, "src/parser.rs")
    assert spans(fu)["Parser::feed"] == (10, 13)
    assert by_name(fu)["Parser::fmt"].container == "Parser"
    # The struct's doc comment and derive attribute belong to it.
    assert min(u.start_line for u in fu.units if u.name == "Parser") == 3


def test_rust_inline_cfg_test_modules_hold_tests_and_test_region_helpers() -> None:
    fu = units_of(RUST_REPO, "src/parser.rs")
    units = by_name(fu)
    assert names_of_tests(fu) == ["tests::feed_appends"]
    assert spans(fu)["tests::feed_appends"] == (30, 35)  # from its #[test] attribute
    assert units["tests::fresh"].in_test_region and not units["tests::fresh"].is_test
    assert not units["Parser::feed"].in_test_region


def test_a_rust_doc_example_is_no_test_and_a_variants_attributes_open_its_span() -> None:
    source = """
        /// Checks the command.
        ///
        /// ```rust
        /// #[test]
        /// fn verify() {}
        /// ```
        #[allow(clippy::test_attr_in_doctest)]
        pub fn debug_assert() {}

        enum Kind {
            /// The usual one
            #[default]
            Normal,
            Other,
        }
        """
    fu = extract_units("src/lib.rs", textwrap.dedent(source).lstrip("\n"), "rust")
    assert not by_name(fu)["debug_assert"].is_test
    assert spans(fu)["Kind::Normal"] == (12, 13)
    assert spans(fu)["Kind::Other"] == (14, 14)


def test_rust_integration_tests_live_in_the_tests_folder() -> None:
    assert names_of_tests(units_of(RUST_REPO, "tests/parse.rs")) == ["parses_from_outside"]
    assert is_test_file("tests/parse.rs", "rust")
    assert not is_test_file("src/parser.rs", "rust")


# ---- Java -------------------------------------------------------------------------------


def test_java_methods_are_qualified_by_class_and_javadoc_and_annotations_belong_to_them() -> None:
    fu = units_of(JAVA_REPO, "src/main/java/com/acme/Invoice.java")
    assert spans(fu)["Invoice"] == (3, 4)
    assert spans(fu)["Invoice.totalWithTax"] == (11, 15)
    assert spans(fu)["Invoice.Invoice"] == (7, 9)  # the constructor


def test_java_tests_carry_test_annotations_in_src_test_mirrors() -> None:
    fu = units_of(JAVA_REPO, "src/test/java/com/acme/InvoiceTest.java")
    assert names_of_tests(fu) == ["InvoiceTest.addsTax", "InvoiceTest.manyTaxes"]
    assert spans(fu)["InvoiceTest.manyTaxes"] == (11, 13)


def test_a_comment_at_the_end_of_a_line_belongs_to_that_line_not_to_the_next_item() -> None:
    source = """
        class StreamParser {
            private final Queue<Node> emitQueue = new ArrayDeque<>(); // events to emit
            private final List<Element> deferredEls = new ArrayList<>(); // closed, not emitted

            /** Runs. */
            void run() {} // trailing
            int depth;
        }
    """
    fu = extract_units("StreamParser.java", textwrap.dedent(source).lstrip("\n"), "java")
    assert spans(fu)["StreamParser.emitQueue"] == (2, 2)
    assert spans(fu)["StreamParser.deferredEls"] == (3, 3)
    assert spans(fu)["StreamParser.run"] == (5, 6)  # its Javadoc still leads it
    assert spans(fu)["StreamParser.depth"] == (7, 7)


def test_java_junit3_test_methods_count_as_tests() -> None:
    source = """
        public class LegacyTest extends TestCase {
            public void testAdds() {}
            public void helper() {}
        }
        """
    fu = extract_units(
        "src/test/java/LegacyTest.java", textwrap.dedent(source).lstrip("\n"), "java"
    )
    assert names_of_tests(fu) == ["LegacyTest.testAdds"]


# ---- every language --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("a.py", "python"),
        ("a.pyi", "python"),
        ("a.js", "javascript"),
        ("a.mjs", "javascript"),
        ("a.jsx", "javascript"),
        ("a.ts", "typescript"),
        ("a.tsx", "tsx"),
        ("a.go", "go"),
        ("a.rs", "rust"),
        ("A.java", "java"),
        ("README.md", None),
        ("main.c", None),
        ("Makefile", None),
    ],
)
def test_languages_are_chosen_by_extension(path: str, language: str | None) -> None:
    assert language_for_path(path) == language


def test_an_unsupported_language_says_it_is_not_supported_for_slicing() -> None:
    assert "not supported for slicing" in str(UnsupportedLanguage("main.c"))


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        (
            "a.py",
            "def good():\n    return 1\n\ndef bad(:\n    pass\n\ndef after():\n    pass\n",
            {"good", "after"},
        ),
        (
            "a.ts",
            "function good() { return 1; }\nfunction bad( { \nfunction after() {}\n",
            {"good"},
        ),
        ("a.go", "package a\n\nfunc Good() int { return 1 }\n\nfunc Bad( {\n", {"Good"}),
        ("a.rs", "fn good() -> i32 { 1 }\n\nfn bad( {\n", {"good"}),
        ("A.java", "class A {\n  int good() { return 1; }\n  void bad( {\n}\n", {"A.good"}),
    ],
)
def test_syntax_errors_do_not_stop_extraction_of_what_parses(
    path: str, source: str, expected: set[str]
) -> None:
    language = language_for_path(path)
    assert language is not None
    fu = extract_units(path, source, language)
    assert fu.has_errors
    assert expected <= {u.name for u in fu.units}
