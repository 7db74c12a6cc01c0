"""Text a change writes that tests expect: phrases of its new string literals, found in tests.

A changed message (``"duplicate discriminator value"``), a help line (``"[aliases: "``) or a
printed form is checked by the tests that spell it in their expected output, often through
public entry points that name nothing the change touched. The identifiers inside literals are
already words of the change; what this adds is the exact phrase: a literal's pieces between
format placeholders that are more than one word (spaces or punctuation), looked up verbatim in
the test units.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Iterable

from tandem.slicing.records import FileRecord

# String literals by language family: the quotes that delimit text (Rust and Java use ``'``
# for characters and lifetimes, Go for runes).
_QUOTED = {
    "python": re.compile(r'"((?:[^"\\\n]|\\.)*)"|\'((?:[^\'\\\n]|\\.)*)\''),
    "js": re.compile(r'"((?:[^"\\\n]|\\.)*)"|\'((?:[^\'\\\n]|\\.)*)\'|`((?:[^`\\\n]|\\.)*)`'),
    "go": re.compile(r'"((?:[^"\\\n]|\\.)*)"|`([^`\n]*)`'),
    "rust": re.compile(r'"((?:[^"\\\n]|\\.)*)"'),
    "java": re.compile(r'"((?:[^"\\\n]|\\.)*)"'),
}
# Where a literal's fixed text breaks: format placeholders (``{}``, ``{name:?}``, ``%s``,
# ``%-5d``, ``${x}``) and escapes (``\n``, ``\"``).
_BREAKS = re.compile(r"\$?\{[^{}]*\}|%[-+ #0-9.]*[a-zA-Z]|\\.")
_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_IMPORT = re.compile(r"^\s*(import|from|use|package|require|#include|export\s.*\sfrom)\b")
_LETTERS = re.compile(r"[A-Za-z].*[A-Za-z]")
MIN_CHARS = 5
MAX_PHRASES = 24


def literal_phrases(lines: Iterable[str], family: str) -> set[str]:
    """The phrases of the string literals on ``lines`` (code of language ``family``): each
    literal's text between placeholders, trimmed, kept when it has ``MIN_CHARS`` characters,
    two letters and is not a single identifier (whose words the ranking already compares)."""
    quoted = _QUOTED.get(family)
    if quoted is None:
        return set()
    out: set[str] = set()
    for line in lines:
        if _IMPORT.match(line):
            continue
        for m in quoted.finditer(line):
            literal = next(g for g in m.groups() if g is not None)
            for piece in _BREAKS.split(literal):
                piece = piece.strip()
                if (
                    len(piece) >= MIN_CHARS
                    and _LETTERS.search(piece)
                    and not _IDENT.fullmatch(piece)
                    and not piece.startswith(("./", "../"))
                ):
                    out.add(piece)
    return out


def phrase_hits(
    phrases: set[str], records: list[FileRecord], n_tests: int
) -> dict[tuple[str, int], tuple[float, str]]:
    """(path, test start line) -> (specificity 0..1, phrase) of the rarest phrase of
    ``phrases`` each test unit of ``records`` spells; specificity as ``Rarity.spec``, over the
    ``n_tests`` test units."""
    if not phrases:
        return {}
    # The longest are the most telling; a huge diff's literals are capped, not all searched.
    phrases = set(sorted(phrases, key=lambda p: (-len(p), p))[:MAX_PHRASES])
    found: dict[str, list[tuple[str, int]]] = {}
    for rec in records:
        text = rec.text
        present = [p for p in phrases if p in text]
        if not present:
            continue
        starts = _line_starts(text)
        tests = [u for u in rec.units if u.is_test]
        for phrase in present:
            pos = text.find(phrase)
            while pos != -1:
                line = _line_of(starts, pos)
                for u in tests:
                    if u.start_line <= line <= u.end_line:
                        found.setdefault(phrase, []).append((rec.path, u.start_line))
                pos = text.find(phrase, pos + len(phrase))
    rarest = math.log((n_tests + 1) / 2) + 0.1
    out: dict[tuple[str, int], tuple[float, str]] = {}
    for phrase, where in sorted(found.items()):
        keys = set(where)
        spec = max(0.05, min(1.0, (math.log((n_tests + 1) / (len(keys) + 1)) + 0.1) / rarest))
        for key in keys:
            if key not in out or out[key][0] < spec:
                out[key] = (spec, phrase)
    return out


def _line_starts(text: str) -> list[int]:
    starts = [0]
    pos = text.find("\n")
    while pos != -1:
        starts.append(pos + 1)
        pos = text.find("\n", pos + 1)
    return starts


def _line_of(starts: list[int], pos: int) -> int:
    """The 1-based line holding character ``pos``."""
    return bisect_right(starts, pos)
