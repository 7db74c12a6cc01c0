"""Parse a file with tree-sitter and extract its code units with its language's extractor."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tandem.slicing.extractors.base import Extractor
from tandem.slicing.extractors.go import GoExtractor
from tandem.slicing.extractors.java import JavaExtractor
from tandem.slicing.extractors.javascript import JavaScriptExtractor
from tandem.slicing.extractors.python import PythonExtractor
from tandem.slicing.extractors.rust import RustExtractor
from tandem.slicing.languages import FAMILY, LanguageName, parser
from tandem.slicing.units import FileUnits

if TYPE_CHECKING:
    from tree_sitter import Tree

EXTRACTORS: dict[str, type[Extractor]] = {
    "python": PythonExtractor,
    "js": JavaScriptExtractor,
    "go": GoExtractor,
    "rust": RustExtractor,
    "java": JavaExtractor,
}
"""The extractor of each language family (``tandem.slicing.languages.FAMILY``)."""


def parse(text: str | bytes, language: LanguageName, old_tree: Tree | None = None) -> Tree:
    """Parse ``text``; with ``old_tree`` (already edited) the parse is incremental."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    if old_tree is None:
        return parser(language).parse(data)
    return parser(language).parse(data, old_tree)


def extract_units(path: str, text: str | bytes, language: LanguageName) -> FileUnits:
    """Parse ``text`` and return its units (test units only when ``path`` may hold tests)."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    tree = parse(data, language)
    return units_from_tree(path, data, language, tree)


def units_from_tree(path: str, data: bytes, language: LanguageName, tree: Tree) -> FileUnits:
    """The units of an already parsed file."""
    extractor = EXTRACTORS[FAMILY[language]](path, data, language)
    root = tree.root_node
    extractor.walk_container(root.children, prefix="", container="", test_region=False)
    extractor.finish(root.children)
    result = FileUnits(path=path, language=language, has_errors=root.has_error)
    result.units = sorted(extractor.units, key=lambda u: (u.start_line, u.end_line, u.name))
    return result
