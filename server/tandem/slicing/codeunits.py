"""The slicer's code units seen as edit targets: the ranges a draft's edits replace.

Units come from :mod:`tandem.slicing.units` alone, so a unit id the plan takes from the slice
(``Class.method``, ``Type::method``, ``Recv.Method``, a TS arrow function bound to a name, a
statement) names the same unit here. Two things differ from the slice's view, both for editing:
a class, impl, struct or interface covers its whole definition (the slice shows only its header),
so replacing it can never leave its old members behind; and only definitions (functions and
classes) are offered as names when an edit misses. Grammars load on first parse only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from tandem.slicing.extract import extract_units
from tandem.slicing.languages import LanguageName
from tandem.slicing.languages import language_for_path as language_for
from tandem.slicing.units import STATEMENT, Unit

__all__ = ["CodeUnit", "code_units", "find_units", "language_for"]


@dataclass(frozen=True)
class CodeUnit:
    """An edit target: qualified name, kind (function | class | statement), 1-based lines
    (leading decorators, attributes and doc comments included) and its container's name."""

    name: str
    kind: str
    start_line: int
    end_line: int
    container: str = ""

    @property
    def is_definition(self) -> bool:
        """A function or class: what an edit is offered to target by name."""
        return self.kind != STATEMENT


def code_units(units: Iterable[Unit]) -> tuple[CodeUnit, ...]:
    """The slicer's units as edit targets (whole definitions)."""
    return tuple(
        CodeUnit(u.name, u.kind, u.start_line, u.definition_end_line, u.container) for u in units
    )


def find_units(text: str, language: LanguageName, path: str = "") -> list[CodeUnit]:
    """Every unit of ``text`` in source order; with ``path``, the tests of a test file too
    (``describe > it`` units are found only in files named as tests)."""
    return list(_units_of(text, language, path))


@lru_cache(maxsize=256)
def _units_of(text: str, language: LanguageName, path: str) -> tuple[CodeUnit, ...]:
    # Snapshots and estimates ask for the same files' units again and again; the text is the key,
    # so an edited file is parsed afresh.
    return code_units(extract_units(path, text, language).units)
