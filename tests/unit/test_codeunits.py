"""Edit targets: the slicer's units of a file, named as the slice names them, with ranges that
cover what an edit of that unit must replace (decorators, attributes and doc comments included,
a class's whole body included)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tandem.slicing.codeunits import CodeUnit, find_units
from tandem.slicing.extract import extract_units
from tandem.slicing.languages import LanguageName

SERVER_ROOT = Path(__file__).resolve().parents[2] / "server"


def spans(text: str, language: LanguageName, path: str = "") -> dict[str, tuple[int, int]]:
    """Name → (first line, last line); the first unit of a name wins, as in edits."""
    found: dict[str, tuple[int, int]] = {}
    for unit in find_units(text, language, path):
        found.setdefault(unit.name, (unit.start_line, unit.end_line))
    return found


PYTHON = '''import os

RATE = 2


class Repo:
    """Stores things."""

    # Reads one.
    @property
    def get(self):
        return 1

    @get.setter
    def get(self, value):
        self.size = value


def outer():
    def inner():
        return 1

    return inner()
'''

TYPESCRIPT = """/** Adds. */
export const add = (a: number, b: number): number => a + b;

export class Cart {
  /** Adds an item. */
  @logged
  add(item: string): void {
    this.items.push(item);
  }
}
"""

JAVASCRIPT = """const api = {
  get(id) {
    return id;
  },
  put: (id) => id,
};
"""

TSX = """export const Icon = () => <svg />;

export function Button({ label }: { label: string }) {
  return <button>{label}</button>;
}
"""

GO = """package server

// Client talks to the API.
type Client struct {
	base string
}

// Get fetches a path.
func (c *Client) Get(path string) string {
	return c.base + path
}
"""

RUST = """/// A stack of numbers.
#[derive(Default)]
pub struct Stack {
    items: Vec<i32>,
}

impl Stack {
    /// Pushes one.
    #[inline]
    pub fn push(&mut self, n: i32) {
        self.items.push(n);
    }
}
"""

JAVA = """package com.acme;

/** An invoice. */
public class Invoice {
    private int total;

    /** With tax. */
    @Override
    public int totalWithTax(int rate) {
        return total * rate;
    }
}
"""


# ---- names: as the slice gives them to the planner --------------------------------------------


def test_a_python_method_is_named_by_its_class() -> None:
    assert "Repo.get" in spans(PYTHON, "python")


def test_a_typescript_arrow_function_bound_to_a_name_is_a_unit() -> None:
    assert spans(TYPESCRIPT, "typescript")["add"] == (1, 2)


def test_a_tsx_arrow_component_is_a_unit() -> None:
    assert spans(TSX, "tsx")["Icon"] == (1, 1)


def test_a_javascript_object_literal_method_is_named_by_its_object() -> None:
    assert spans(JAVASCRIPT, "javascript")["api.get"] == (2, 4)
    assert spans(JAVASCRIPT, "javascript")["api.put"] == (5, 5)


def test_a_go_method_is_named_by_its_receiver_type() -> None:
    assert spans(GO, "go")["Client.Get"] == (8, 11)


def test_a_rust_impl_method_is_named_with_double_colons() -> None:
    assert spans(RUST, "rust")["Stack::push"] == (8, 12)


def test_a_java_method_is_named_by_its_class() -> None:
    assert "Invoice.totalWithTax" in spans(JAVA, "java")


def test_a_nested_function_is_not_a_unit_its_enclosing_function_is_edited_whole() -> None:
    units = spans(PYTHON, "python")
    assert "outer.inner" not in units
    assert units["outer"] == (19, 23)


def test_js_tests_are_units_only_when_the_path_is_a_test_file() -> None:
    source = 'describe("Cart", () => {\n  it("adds", () => {\n    expect(1).toBe(1);\n  });\n});\n'
    assert spans(source, "typescript", "src/cart.test.ts")["Cart > adds"] == (2, 4)
    assert "Cart > adds" not in spans(source, "typescript", "src/cart.ts")


# ---- ranges: what replacing the unit replaces -------------------------------------------------


def test_a_python_method_includes_the_comment_and_decorator_above_it() -> None:
    assert spans(PYTHON, "python")["Repo.get"] == (9, 12)


def test_a_typescript_method_includes_its_doc_comment_and_decorator() -> None:
    assert spans(TYPESCRIPT, "typescript")["Cart.add"] == (5, 9)


def test_a_go_function_includes_its_doc_comment() -> None:
    assert spans(GO, "go")["Client.Get"][0] == 8


def test_a_rust_function_includes_its_doc_comment_and_attributes() -> None:
    assert spans(RUST, "rust")["Stack::push"][0] == 8


def test_a_java_method_includes_its_javadoc_and_annotations() -> None:
    assert spans(JAVA, "java")["Invoice.totalWithTax"] == (7, 11)


@pytest.mark.parametrize(
    ("source", "language", "name", "span"),
    [
        (PYTHON, "python", "Repo", (6, 16)),
        (TYPESCRIPT, "typescript", "Cart", (4, 10)),
        (JAVASCRIPT, "javascript", "api", (1, 6)),
        (GO, "go", "Client", (3, 6)),
        (RUST, "rust", "Stack", (1, 5)),
        (JAVA, "java", "Invoice", (3, 12)),
    ],
)
def test_a_class_covers_its_whole_body_so_replacing_it_leaves_no_old_member(
    source: str, language: LanguageName, name: str, span: tuple[int, int]
) -> None:
    assert spans(source, language)[name] == span


def test_a_rust_impl_block_covers_its_methods() -> None:
    impls = [u for u in find_units(RUST, "rust") if u.name == "Stack" and u.kind == "class"]
    assert [(u.start_line, u.end_line) for u in impls] == [(1, 5), (7, 13)]


def test_every_other_unit_keeps_the_slicers_range() -> None:
    for language, source in (("python", PYTHON), ("go", GO), ("java", JAVA)):
        sliced = extract_units("", source, language).units
        edited = find_units(source, language)
        assert [(u.name, u.start_line) for u in sliced] == [(u.name, u.start_line) for u in edited]
        assert all(
            e.end_line == s.end_line
            for s, e in zip(sliced, edited, strict=True)
            if s.kind != "class"
        )


# ---- statements and duplicates ----------------------------------------------------------------


def test_a_module_constant_is_a_unit_but_not_a_definition() -> None:
    rate = next(u for u in find_units(PYTHON, "python") if u.name == "RATE")
    assert rate == CodeUnit("RATE", "statement", 3, 3)
    assert not rate.is_definition


def test_units_come_in_source_order_with_a_getter_before_its_setter() -> None:
    getters = [u for u in find_units(PYTHON, "python") if u.name == "Repo.get"]
    assert [(u.start_line, u.end_line) for u in getters] == [(9, 12), (14, 16)]


# ---- cost -------------------------------------------------------------------------------------


def test_importing_the_edit_units_loads_no_grammar() -> None:
    code = (
        "import sys, tandem.slicing.codeunits, tandem.flow.edits; "
        "print('tree_sitter' in sys.modules)"
    )
    env = {"PYTHONPATH": str(SERVER_ROOT)}
    assert subprocess.check_output([sys.executable, "-c", code], env=env, text=True) == "False\n"
