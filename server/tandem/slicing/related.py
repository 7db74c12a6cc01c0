"""Ranking the tests related to a change: static evidence only, best first, weak guesses cut.

Evidence for a test unit, strongest first: it is named after a touched unit; it calls or
references a touched unit; it reaches one through a helper or fixture in test code that does
(one hop); it references the touched unit's class or type; it shares rare identifiers with the
changed lines; its file pairs with a changed file by convention (or, for Rust, holds the inline
tests of the changed file). Identifier weights are inverse document frequencies over all test
units, so names every test mentions count for little.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import PurePosixPath

from tandem.slicing.index import FileRecord
from tandem.slicing.languages import FAMILY
from tandem.slicing.units import Unit

_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z]|\d|\b)|[A-Z]?[a-z]+|[A-Z]+|\d+")
_STOP = frozenset(
    [
        "self",
        "this",
        "cls",
        "super",
        "None",
        "True",
        "False",
        "true",
        "false",
        "null",
        "nil",
        "undefined",
        "return",
        "def",
        "func",
        "fn",
        "let",
        "const",
        "var",
        "function",
        "class",
        "new",
        "if",
        "else",
        "for",
        "while",
        "in",
        "is",
        "not",
        "and",
        "or",
        "import",
        "from",
        "package",
        "use",
        "pub",
        "mut",
        "impl",
        "struct",
        "type",
        "interface",
        "public",
        "private",
        "protected",
        "static",
        "void",
        "int",
        "string",
        "bool",
        "err",
        "assert",
        "expect",
        "test",
        "it",
        "describe",
        "t",
        "ok",
        "Ok",
        "Err",
        "Some",
        "None",
        "String",
        "str",
        "len",
        "self_",
        "await",
        "async",
    ]
)

W_NAMED = 3.0
W_DIRECT = 3.0
W_HOP = 1.6
W_TYPE = 0.8
W_SHARED = 2.5
W_PAIR = 1.5
W_SAME_FILE = 2.0
W_SAME_DIR = 0.4
MIN_SCORE = 1.2
RELATIVE_CUT = 0.3


@lru_cache(maxsize=65536)
def _words(name: str) -> tuple[str, ...]:
    return tuple(w.lower() for w in _WORDS.findall(name))


def words(name: str) -> list[str]:
    return list(_words(name))


@dataclass
class ChangeInfo:
    """What the ranking needs to know about the change."""

    files: set[str] = field(default_factory=set)
    touched: list[tuple[str, Unit]] = field(default_factory=list)  # (path, unit)
    added_idents: set[str] = field(default_factory=set)


@dataclass
class Candidate:
    path: str
    unit: Unit
    score: float
    reason: str


@lru_cache(maxsize=65536)
def _stem_key(path: str) -> str:
    """The module a file is about, with test affixes removed: ``test_core.py`` → ``core``."""
    name = path.rpartition("/")[2]
    stem = name.split(".")[0]
    for pre in ("test_",):
        if stem.startswith(pre):
            stem = stem[len(pre) :]
    for suf in ("_test", "Tests", "Test", "IT", "_spec"):
        if stem.endswith(suf) and len(stem) > len(suf):
            stem = stem[: -len(suf)]
            break
    if stem.startswith("Test") and len(stem) > 4 and stem[4].isupper():
        stem = stem[4:]
    return stem.lower()


@lru_cache(maxsize=65536)
def _paired(test_path: str, src_path: str) -> bool:
    if test_path == src_path:
        return False
    t, s = PurePosixPath(test_path), PurePosixPath(src_path)
    tk, sk = _stem_key(test_path), _stem_key(src_path)
    if tk == sk and tk not in ("index", "mod", "lib", "main", "init", "__init__"):
        return True
    if tk in ("index", "mod", "lib", "__init__") or sk in ("index", "mod", "lib", "__init__"):
        # a package's index pairs with a test named after its folder
        return tk == s.parent.name.lower() or sk == t.parent.name.lower()
    return False


def rank_tests(
    change: ChangeInfo,
    records: list[FileRecord],
    limit: int,
) -> list[Candidate]:
    """Related test units, best first, at most ``limit``."""
    tests: list[tuple[FileRecord, Unit, frozenset[str]]] = []
    helpers: list[tuple[FileRecord, Unit, frozenset[str]]] = []
    for rec in records:
        for unit, idents in zip(rec.units, rec.idents, strict=True):
            if unit.is_test:
                tests.append((rec, unit, idents))
            elif unit.kind == "function" and (unit.in_test_region or rec.path not in change.files):
                helpers.append((rec, unit, idents))
    if not tests:
        return []
    df: dict[str, int] = {}
    for _, _, idents in tests:
        for ident in idents:
            df[ident] = df.get(ident, 0) + 1
    n = len(tests)

    def idf(ident: str) -> float:
        return math.log((n + 1) / (df.get(ident, 0) + 1)) + 0.1

    max_idf = idf("\0")

    touched_names: dict[str, str] = {}  # simple name -> qualified name (shown in reasons)
    type_names: dict[str, str] = {}
    for _, u in change.touched:
        simple = u.simple_name
        if (u.kind in ("function", "class") and _usable(simple)) or (
            u.kind == "statement" and _usable(simple) and not simple.startswith("<")
        ):
            touched_names.setdefault(simple, u.name)
        if u.container and _usable(u.container):
            type_names.setdefault(u.container, u.container)
        if u.kind == "class" and _usable(simple):
            type_names.setdefault(simple, u.name)
    touched_words = {
        name: tw for name in touched_names if len(tw := words(name)) >= 1 and len(name) >= 4
    }
    shared_pool = {
        i for i in change.added_idents if _usable(i) and i not in touched_names and len(i) >= 3
    }
    shared_mass = sum(idf(i) for i in shared_pool) or 1.0

    # One hop: helpers (fixtures, builders) in test code that call a touched unit.
    hop: dict[str, str] = {}
    for _rec, unit, idents in helpers:
        hit = next((nm for nm in touched_names if nm in idents), None)
        if hit is not None and unit.simple_name not in touched_names and _usable(unit.simple_name):
            hop.setdefault(unit.simple_name, hit)

    src_families = {FAMILY[rec.language] for rec in records if rec.path in change.files}
    change_dirs = {_folder(p) for p in change.files}
    out: list[Candidate] = []
    for rec, unit, idents in tests:
        score = 0.0
        reasons: list[tuple[float, str]] = []
        tname_words = set(words(unit.name))
        for name, qual in touched_names.items():
            w = 0.5 + 0.5 * idf(name) / max_idf
            ws = touched_words.get(name)
            if ws and set(ws) <= tname_words and (len(ws) > 1 or len(name) >= 5):
                score += W_NAMED * w
                reasons.append((W_NAMED * w, f"named after {qual}"))
            if name in idents:
                s = W_DIRECT * w
                score += s
                reasons.append((s, f"calls {qual}" if touched_names else f"references {qual}"))
        for helper, target in hop.items():
            if helper in idents and target not in idents:
                score += W_HOP
                reasons.append(
                    (W_HOP, f"uses helper {helper}, which calls {touched_names[target]}")
                )
                break
        for tname in type_names:
            if tname in idents and tname not in touched_names:
                score += W_TYPE
                reasons.append((W_TYPE, f"references {tname}"))
                break
        shared = [i for i in shared_pool if i in idents]
        if shared:
            frac = sum(idf(i) for i in shared) / shared_mass
            s = W_SHARED * frac
            score += s
            top = sorted(shared, key=lambda i: -idf(i))[:3]
            reasons.append((s, "shares " + ", ".join(top) + " with the change"))
        if rec.path in change.files and unit.in_test_region:
            score += W_SAME_FILE
            reasons.append((W_SAME_FILE, "inline test in the changed file"))
        elif any(_paired(rec.path, f) for f in change.files):
            score += W_PAIR
            src = next(f for f in change.files if _paired(rec.path, f))
            reasons.append((W_PAIR, f"test file pairs with {src}"))
        elif _folder(rec.path) in change_dirs and "go" in src_families:
            score += W_SAME_DIR
            reasons.append((W_SAME_DIR, "same package"))
        if score < MIN_SCORE or not reasons:
            continue
        reasons.sort(key=lambda r: -r[0])
        reason = "; ".join(r for _, r in reasons[:2])
        out.append(Candidate(rec.path, unit, round(score, 3), reason))
    out.sort(key=lambda c: (-c.score, c.path, c.unit.start_line))
    if out:
        floor = out[0].score * RELATIVE_CUT
        out = [c for c in out if c.score >= floor]
    return out[:limit]


@lru_cache(maxsize=65536)
def _folder(path: str) -> str:
    return str(PurePosixPath(path).parent)


def _usable(name: str) -> bool:
    return len(name) >= 2 and name not in _STOP and not name.startswith("<")
