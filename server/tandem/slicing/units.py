"""Code units of one file: functions, methods, class headers, declaration-level statements, tests.

A unit's span includes its decorators, annotations, attributes and doc comments. Names are
qualified by their containers: ``Class.method``, ``Type::method`` (Rust), ``Recv.Method`` (Go),
``describe title > it title`` (JS/TS tests). Syntax errors do not stop extraction: the children
of an ERROR node are read as if they sat in its parent, so whatever parses is sliced.
The extraction itself is :mod:`tandem.slicing.extract`, one extractor per language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tandem.slicing.languages import FAMILY, LanguageName

_QUALIFIER = re.compile(r"::|\.| > ")

FUNCTION = "function"
CLASS = "class"
STATEMENT = "statement"


@dataclass(frozen=True, slots=True)
class Unit:
    """One code unit; lines are 1-based and inclusive."""

    name: str
    kind: str  # function | class | statement
    start_line: int
    end_line: int
    signature: str = ""
    is_test: bool = False
    in_test_region: bool = False  # Rust inline test code (#[cfg(test)] items, #[test] fns)
    container: str = ""  # simple name of the enclosing class/type, if any
    # A header's unit ends where its body opens; the definition it heads ends here (0: no body).
    definition_end: int = 0

    @property
    def definition_end_line(self) -> int:
        """The last line of the whole definition: a class's body included, for edits."""
        return max(self.end_line, self.definition_end)

    @property
    def simple_name(self) -> str:
        name = self.name
        if "." not in name and ":" not in name and ">" not in name:
            return name  # most names: no container to strip (read for every unit per slice)
        return _QUALIFIER.split(name)[-1]

    def contains(self, line: int) -> bool:
        return self.start_line <= line <= self.end_line


@dataclass(slots=True)
class FileUnits:
    """The units of one file, in source order, plus whether the parse had errors."""

    path: str
    language: LanguageName
    units: list[Unit] = field(default_factory=list)
    has_errors: bool = False

    def tests(self) -> list[Unit]:
        return [u for u in self.units if u.is_test]


# Python test files; JS/TS test files; Go; Java (under src/test); Rust tests/ and benches/.
_PY_TEST_FILE = re.compile(r"(^|/)(tests?/.*\.py|test_[^/]*\.py|[^/]*_test\.py|conftest\.py)$")
_JS_TEST_FILE = re.compile(r"(^|/)([^/]*\.(test|spec)\.[^/]+|__tests__/.*|tests?/.*)$")


def is_test_file(path: str, language: LanguageName) -> bool:
    """Whether ``path`` is a test file by its language's convention (Rust: tests/ or benches/)."""
    family = FAMILY[language]
    if family == "python":
        return bool(_PY_TEST_FILE.search(path))
    if family == "js":
        return bool(_JS_TEST_FILE.search(path))
    if family == "go":
        return path.endswith("_test.go")
    if family == "java":
        return "src/test/" in path or path.startswith("test/") or "/test/" in path
    return bool(re.search(r"(^|/)(tests|benches)/", path))
