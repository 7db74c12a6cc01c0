"""The six slicing languages: file extension → language name → cached tree-sitter grammar.

Grammars come from the per-language wheels and load on first use only, so importing this module
stays cheap (``tandem --help`` must not pay for grammars).
"""

from __future__ import annotations

from functools import cache
from pathlib import PurePath
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from tree_sitter import Language, Parser

LanguageName = Literal["python", "javascript", "typescript", "tsx", "go", "rust", "java"]

EXTENSIONS: dict[str, LanguageName] = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
}

# The family decides which unit and test conventions apply (TSX and JS share TypeScript's).
FAMILY: dict[LanguageName, str] = {
    "python": "python",
    "javascript": "js",
    "typescript": "js",
    "tsx": "js",
    "go": "go",
    "rust": "rust",
    "java": "java",
}


class UnsupportedLanguage(Exception):
    """The file's language is not one the slicer parses; it may still be sent as plain text."""

    def __init__(self, path: str) -> None:
        super().__init__(
            f"{path}: language not supported for slicing (supported: Python, JavaScript, "
            "TypeScript/TSX, Go, Rust, Java); the file can only be sent as plain text"
        )
        self.path = path


def language_for_path(path: str | PurePath) -> LanguageName | None:
    """The slicing language of ``path`` by its extension, or None when unsupported.

    String work rather than ``PurePath(path).suffix``: this runs for every file of a walk, and
    building path objects was a large share of a slice's time on big repositories.
    """
    text = path if isinstance(path, str) else str(path)
    name = text.rpartition("/")[2]
    if "\\" in name:  # a Windows path
        name = name.rpartition("\\")[2]
    dot = name.rfind(".")
    if dot <= 0:  # no extension, or a dotfile such as ".py"
        return None
    return EXTENSIONS.get(name[dot:].lower())


@cache
def grammar(name: LanguageName) -> Language:
    """The tree-sitter Language for ``name``, loaded from its wheel once per process."""
    from tree_sitter import Language

    if name == "python":
        import tree_sitter_python as mod

        return Language(mod.language())
    if name == "javascript":
        import tree_sitter_javascript as js

        return Language(js.language())
    if name in ("typescript", "tsx"):
        import tree_sitter_typescript as ts

        return Language(ts.language_typescript() if name == "typescript" else ts.language_tsx())
    if name == "go":
        import tree_sitter_go as go

        return Language(go.language())
    if name == "rust":
        import tree_sitter_rust as rust

        return Language(rust.language())
    import tree_sitter_java as java

    return Language(java.language())


@cache
def parser(name: LanguageName) -> Parser:
    """A parser for ``name``; cached, so callers must not change its language."""
    from tree_sitter import Parser

    return Parser(grammar(name))
