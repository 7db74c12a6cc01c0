"""A light tree-sitter pass over one file: its definitions (units) with line ranges, and its nodes.

The flow needs two small things from source text that the slicer's full analysis does not give
it directly: the line range of every unit a plan may touch (so edits can replace exact ranges)
and a walk over the nodes of the touched code (so risk can look for content signals). Grammars
are imported lazily: nothing here loads at ``tandem --help``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Language, Node

LANGUAGE_BY_SUFFIX: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
}

# Node types that define a unit, per language; their "name" field names the unit.
_DEFINITIONS: dict[str, frozenset[str]] = {
    "python": frozenset({"function_definition", "class_definition"}),
    "javascript": frozenset(
        {"function_declaration", "generator_function_declaration", "class_declaration"}
        | {"method_definition"}
    ),
    "go": frozenset({"function_declaration", "method_declaration", "type_spec"}),
    "rust": frozenset({"function_item", "struct_item", "enum_item", "trait_item", "mod_item"}),
    "java": frozenset(
        {"class_declaration", "interface_declaration", "method_declaration"}
        | {"constructor_declaration", "enum_declaration"}
    ),
}
_DEFINITIONS["typescript"] = _DEFINITIONS["javascript"] | {
    "interface_declaration",
    "abstract_class_declaration",
    "function_signature",
}
_DEFINITIONS["tsx"] = _DEFINITIONS["typescript"]


@dataclass(frozen=True)
class CodeUnit:
    """A definition in a file: qualified name (``Class.method``), kind and 1-based lines."""

    name: str
    kind: str
    start_line: int
    end_line: int


def language_for(path: str) -> str | None:
    """The grammar for a repository path, by extension; None when unsupported."""
    return LANGUAGE_BY_SUFFIX.get(PurePosixPath(path).suffix.lower())


_GRAMMARS: dict[str, tuple[str, str]] = {
    "python": ("tree_sitter_python", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "go": ("tree_sitter_go", "language"),
    "rust": ("tree_sitter_rust", "language"),
    "java": ("tree_sitter_java", "language"),
}


@cache
def _language(name: str) -> Language:
    import importlib

    from tree_sitter import Language

    if name not in _GRAMMARS:
        raise ValueError(f"no grammar for {name}")
    module, function = _GRAMMARS[name]
    return Language(getattr(importlib.import_module(module), function)())


def parse(text: str, language: str) -> Node:
    """The root node of ``text`` parsed as ``language``."""
    from tree_sitter import Parser

    return Parser(_language(language)).parse(text.encode("utf-8")).root_node


def _name_of(node: Node) -> str | None:
    name = node.child_by_field_name("name")
    if name is None and node.type == "impl_item":
        name = node.child_by_field_name("type")
    if name is None or name.text is None:
        return None
    return name.text.decode("utf-8", "replace")


def find_units(text: str, language: str) -> list[CodeUnit]:
    """Every named definition in the file, outer ones first, with decorators in the range."""
    return list(_units_of(text, language))


@lru_cache(maxsize=256)
def _units_of(text: str, language: str) -> tuple[CodeUnit, ...]:
    # Snapshots and estimates ask for the same files' units again and again; the text is the key,
    # so an edited file is parsed afresh.
    definitions = _DEFINITIONS.get(language, frozenset()) | {"impl_item"}
    units: list[CodeUnit] = []

    def visit(node: Node, prefix: str) -> None:
        for child in node.children:
            target = child
            span = child
            if child.type == "decorated_definition":
                inner = child.child_by_field_name("definition")
                if inner is not None:
                    target = inner
            if target.type in definitions:
                name = _name_of(target)
                if name is not None:
                    qualified = f"{prefix}{name}"
                    if target.type != "impl_item":
                        units.append(
                            CodeUnit(
                                name=qualified,
                                kind=target.type,
                                start_line=span.start_point.row + 1,
                                end_line=span.end_point.row + 1,
                            )
                        )
                    visit(target, qualified + ".")
                    continue
            visit(child, prefix)

    visit(parse(text, language), "")
    return tuple(units)


def walk(node: Node) -> Iterator[Node]:
    """Every node under ``node`` (itself included), depth first."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))
