"""Ranking the tests related to a change: static evidence only, best first, weak guesses cut.

Evidence for a test unit, strongest first:

- it calls or references a touched unit (``calls Parser.feed``), or is named after one;
- it reaches a touched unit through one hop: a helper or fixture in test code that calls it, or
  a source function that calls it (``calls echo_via_pager, which calls _tempfilepager``), up to
  two such source links;
- it references the touched unit's class or type;
- its file pairs with a changed file by convention (``test_core.py``, ``ParserTest.java``,
  ``parser.test.ts``), holds the inline tests of a changed Rust file, or is in a changed
  package (a Go folder; a Java package, whose tests live in the ``src/test/java`` mirror);
- it shares rare words with the change (identifiers of the changed lines and touched names,
  split at case and underscores; a test's name counts double).

A JS/TS test file whose imports all resolve and none of which leads, directly or through other
files, to a changed file cannot run the change: its tests are left out (``imports.py``).

Every name's weight is its inverse document frequency over all test units, so names that every
test mentions (``parse``, ``value``) count for little. Two rankings are merged: the evidence
ranking leads (its first five entries), then it alternates with a ranking by shared words among
tests in related files, which finds new tests written for the change that call it only through
public entry points. A test is kept when its score reaches half the best one's; the last slot
goes to the best test of a file not yet shown whose score reaches 30% of the best. Each result
carries a one-line reason naming its two strongest pieces of evidence.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from tandem.slicing.callers import ImportLookup
from tandem.slicing.imports import ImportResolver, is_js, leading_to, specifiers
from tandem.slicing.index import FileRecord
from tandem.slicing.units import Unit

if TYPE_CHECKING:
    from tandem.slicing.callers import SourceLookup

_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z]|\d|\b)|[A-Z]?[a-z]+|[A-Z]+|\d+")
_STOP_TEXT = """
    self this cls super None True False true false null nil undefined return def func fn let
    const var function class new if else for while in is not and or import from package use pub
    mut impl struct type interface public private protected static void int string bool err
    assert expect test it describe t ok Ok Err Some String str len await async the a an of to
    with by on at as be get set value name args kwargs result res data item items val key list
    map obj object options opts ctx context error errors any unknown number boolean final
    return_value tests mod super crate Self"""
_STOP = frozenset(_STOP_TEXT.split())
_WORD_STOP_TEXT = """
    the a an of to in is it be as at by on or and not for with from this that test tests
    should when then does do can are was has have if else get set new true false none null nil
    self cls return def fn func let const var mut pub use mod impl type struct class string str
    int bool err ok assert expect describe value values name names data item items key keys val
    result results error errors case cases check checks string strings list lists"""
_WORD_STOP = frozenset(_WORD_STOP_TEXT.split())

W_DIRECT = 3.0
W_NAMED = 2.0
W_HELPER_HOP = 1.6
W_SOURCE_HOP = 1.0
SOURCE_HOP_DECAY = 0.5
W_TYPE = 0.5
W_WORDS = 2.5
W_PAIR = 1.5
W_SAME_FILE = 2.0
W_SAME_PACKAGE = 1.0
MIN_SCORE = 1.2
RELATIVE_CUT = 0.5
LEAD = 5
OTHER_FILE_SLOTS = 1
OTHER_FILE_CUT = 0.3
MAX_SOURCE_NAMES = 40
MAX_CALLERS_PER_NAME = 12


def words(name: str) -> list[str]:
    return [w.lower() for w in _WORDS.findall(name)]


@functools.lru_cache(maxsize=262_144)
def norm(ident: str) -> str:
    """Identifiers compared across naming styles: ``ProgressBar`` ~ ``progressbar``."""
    return ident.lower().replace("_", "").replace("$", "")


@functools.lru_cache(maxsize=262_144)
def _ident_tokens(ident: str) -> frozenset[str]:
    return frozenset([*words(ident), norm(ident)])


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


@dataclass
class _Test:
    rec: FileRecord
    unit: Unit
    idents: frozenset[str]
    norms: frozenset[str]
    tokens: frozenset[str]  # words of the body and name, plus joined neighbouring name words
    name_tokens: frozenset[str]


@functools.lru_cache(maxsize=65_536)
def _stem_key(path: str) -> str:
    """The module a file is about, with test affixes removed: ``test_core.py`` → ``core``."""
    name = path.rpartition("/")[2]
    stem = name.split(".")[0]
    for pre in ("test_",):
        if stem.startswith(pre):
            stem = stem[len(pre) :]
    for suf in ("_test", "_tests", "Tests", "Test", "IT", "_spec"):
        if stem.endswith(suf) and len(stem) > len(suf):
            stem = stem[: -len(suf)]
            break
    if stem.startswith("Test") and len(stem) > 4 and stem[4].isupper():
        stem = stem[4:]
    return stem.lower().replace("_", "").replace("-", "")


_INDEX_STEMS = ("index", "mod", "lib", "__init__", "init", "main")


@functools.lru_cache(maxsize=65_536)
def _paired(test_path: str, src_path: str) -> bool:
    if test_path == src_path:
        return False
    t, s = PurePosixPath(test_path), PurePosixPath(src_path)
    tk, sk = _stem_key(test_path), _stem_key(src_path)
    if tk == sk and tk not in _INDEX_STEMS:
        return True
    if tk in _INDEX_STEMS or sk in _INDEX_STEMS or sk == "":
        # a package's index pairs with a test named after its folder
        return tk == s.parent.name.lower() or sk == t.parent.name.lower()
    return False


_JVM_ROOT = re.compile(r"(^|/)src/(main|test)/(java|kotlin)/")


@functools.lru_cache(maxsize=65_536)
def _package_of(path: str) -> str | None:
    """The package a file belongs to, where a language convention makes that a folder.

    Go: the file's folder (tests sit next to the code). Java: the folder below
    ``src/main/java`` or ``src/test/java`` of the same module, so a test and the code it tests
    share a package although they live in two trees.
    """
    parent = str(PurePosixPath(path).parent)
    if path.endswith(".go"):
        return "go:" + parent
    if path.endswith(".java"):
        m = _JVM_ROOT.search(parent + "/")
        if m is None:
            return None
        return "java:" + parent[: m.start()] + "|" + (parent + "/")[m.end() :]
    return None


def _name_tokens(name: str) -> set[str]:
    ws = words(name)
    out = set(ws)
    out.update(a + b for a, b in itertools.pairwise(ws))
    return out


def _tokens_of(idents: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for ident in idents:
        out |= _ident_tokens(ident)
    return out


@functools.lru_cache(maxsize=131_072)
def _test_sets(
    name: str, idents: frozenset[str]
) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """A test unit's normalised identifiers, name tokens and all tokens. Cached: a file
    version's identifier sets are shared between slices, so a warm process computes them once."""
    name_tokens = frozenset(_name_tokens(name))
    tokens = frozenset(_tokens_of(idents) | name_tokens)
    return frozenset(norm(i) for i in idents), name_tokens, tokens


_Table = tuple[list[_Test], list[tuple[FileRecord, Unit, frozenset[str]]], dict[str, int]]
_TABLES: dict[tuple[int, ...], tuple[list[FileRecord], _Table]] = {}


def _test_table(records: list[FileRecord]) -> _Table:
    """The test units of ``records``, their function units and each token's document frequency
    over the tests. Kept for the same record objects (the entry holds them, so their ids stay
    theirs): a warm index hands the same records to every slice, and this is a third of it."""
    key = tuple(map(id, records))
    found = _TABLES.get(key)
    if found is not None:
        return found[1]
    tests: list[_Test] = []
    functions: list[tuple[FileRecord, Unit, frozenset[str]]] = []
    for rec in records:
        for unit, idents in zip(rec.units, rec.idents, strict=True):
            if unit.is_test:
                norms, name_tokens, tokens = _test_sets(unit.name, idents)
                tests.append(_Test(rec, unit, idents, norms, tokens, name_tokens))
            elif unit.kind == "function":
                functions.append((rec, unit, idents))
    df: dict[str, int] = {}
    for t in tests:
        for tok in t.tokens:  # tokens include the normalised identifiers
            df[tok] = df.get(tok, 0) + 1
    if len(_TABLES) >= 8:
        _TABLES.clear()
    _TABLES[key] = (list(records), (tests, functions, df))
    return tests, functions, df


def _usable(name: str) -> bool:
    return len(name) >= 2 and name not in _STOP and not name.startswith("<")


def rank_tests(
    change: ChangeInfo,
    records: list[FileRecord],
    limit: int,
    sources: SourceLookup | None = None,
) -> list[Candidate]:
    """Related test units, best first, at most ``limit``."""
    tests, functions, df = _test_table(records)
    helpers = [
        (rec, unit, idents)
        for rec, unit, idents in functions
        if unit.in_test_region or rec.path not in change.files
    ]
    if not tests or limit <= 0:
        return []
    n = len(tests)

    def idf(tok: str) -> float:
        return math.log((n + 1) / (df.get(tok, 0) + 1)) + 0.1

    rarest = idf("\0") if n == 1 else math.log((n + 1) / 2) + 0.1  # a name one test uses

    def spec(ident: str) -> float:
        """How specific a name is among the tests: 1 when one test uses it, near 0 when all do."""
        return max(0.05, min(1.0, idf(norm(ident)) / rarest))

    # ---- names from the change ----------------------------------------------------------
    touched_names: dict[str, str] = {}  # simple name -> qualified name (shown in reasons)
    type_names: dict[str, str] = {}
    for _, u in change.touched:
        simple = u.simple_name
        if _usable(simple) and (u.kind in ("function", "class") or not simple.startswith("<")):
            touched_names.setdefault(simple, u.name)
        if u.container and _usable(u.container):
            type_names.setdefault(u.container, u.container)
        if u.kind == "class" and _usable(simple):
            type_names.setdefault(simple, u.name)
    touched_norms = {norm(nm): nm for nm in touched_names if len(norm(nm)) >= 2}
    touched_words = {
        nm: ws
        for nm in touched_names
        if (ws := frozenset(words(nm))) and (len(ws) > 1 or len(nm) >= 5)
    }
    type_norms = {norm(nm): nm for nm in type_names if norm(nm) not in touched_norms}

    change_tokens = _tokens_of(i for i in change.added_idents if _usable(i))
    for nm in touched_names:
        change_tokens |= _name_tokens(nm) | {norm(nm)}
    change_tokens = {
        tok for tok in change_tokens if len(tok) >= 3 and tok not in _WORD_STOP and tok in df
    }
    token_mass = sum(idf(tok) for tok in change_tokens) or 1.0

    # ---- one hop through test helpers ----------------------------------------------------
    helper_hop: dict[str, tuple[str, str]] = {}  # norm(helper) -> (helper, touched name)
    for _rec, unit, idents in helpers:
        if not _usable(unit.simple_name) or norm(unit.simple_name) in touched_norms:
            continue
        keys = (norm(i) for i in idents)
        hit = next((touched_norms[k] for k in keys if k in touched_norms), None)
        if hit is not None:
            helper_hop.setdefault(norm(unit.simple_name), (unit.simple_name, hit))

    # ---- one or two hops through source callers ---------------------------------------------
    source_hop = _source_callers(change, touched_names, sources) if sources else {}
    cut_off: set[str] = (
        _cut_off_by_imports(change, records, sources)
        if isinstance(sources, ImportLookup)
        else set()
    )

    # ---- scoring --------------------------------------------------------------------------
    change_packages = {pkg for p in change.files if (pkg := _package_of(p))}
    pair_cache: dict[str, str | None] = {}

    def paired_with(path: str) -> str | None:
        if path not in pair_cache:
            pair_cache[path] = next((f for f in sorted(change.files) if _paired(path, f)), None)
        return pair_cache[path]

    scored: list[tuple[float, float, _Test, list[tuple[float, str]]]] = []
    for t in tests:
        if t.rec.path in cut_off:
            continue
        reasons: list[tuple[float, str]] = []
        direct = [
            (spec(nm), touched_names[nm]) for key, nm in touched_norms.items() if key in t.norms
        ]
        direct.sort(key=lambda x: -x[0])
        for k, (w, qual) in enumerate(direct[:4]):
            reasons.append((W_DIRECT * w / (1 + k), f"calls {qual}"))
        for nm, ws in touched_words.items():
            if ws <= t.name_tokens:
                reasons.append((W_NAMED * spec(nm), f"named after {touched_names[nm]}"))
                break
        if not direct:
            hops = [(spec(h), nm, tgt) for h, (nm, tgt) in helper_hop.items() if h in t.norms]
            if hops:
                w, helper, target = max(hops)
                reasons.append(
                    (
                        W_HELPER_HOP * max(w, 0.3),
                        f"uses helper {helper}, which calls {touched_names[target]}",
                    )
                )
            via = [
                (spec(c) * (SOURCE_HOP_DECAY ** (depth - 1)), c, target, depth)
                for key, (c, target, depth) in source_hop.items()
                if key in t.norms
            ]
            if via:
                via.sort(key=lambda x: -x[0])
                w, caller, target, depth = via[0]
                extra = sum(v[0] for v in via[1:3]) * 0.3
                link = "which calls" if depth == 1 else "which leads to"
                reasons.append(
                    (W_SOURCE_HOP * (w + extra), f"calls {caller}, {link} {touched_names[target]}")
                )
        types = [(spec(nm), nm) for key, nm in type_norms.items() if key in t.norms]
        if types:
            w, nm = max(types)
            reasons.append((W_TYPE * w, f"references {nm}"))
        # Sorted: set order varies with the process's hash seed, and slices must be deterministic.
        shared = sorted(change_tokens & t.tokens)
        lexical = 0.0
        if shared:
            mass = sum(idf(tok) * (2.0 if tok in t.name_tokens else 1.0) for tok in shared)
            lexical = min(1.0, mass / token_mass)
            top = sorted(shared, key=lambda tok: (-idf(tok), tok))[:3]
            reasons.append((W_WORDS * lexical, "shares " + ", ".join(top) + " with the change"))
        where = 0.0
        if t.rec.path in change.files and t.unit.in_test_region:
            where = W_SAME_FILE
            reasons.append((where, "inline test in the changed file"))
        elif (src := paired_with(t.rec.path)) is not None:
            where = W_PAIR
            reasons.append((where, f"test file pairs with {src}"))
        elif _package_of(t.rec.path) in change_packages:
            where = W_SAME_PACKAGE
            reasons.append((where, "same package"))
        score = sum(r for r, _ in reasons)
        if score < MIN_SCORE:
            continue
        scored.append((score, lexical, t, reasons))

    if not scored:
        return []
    scored.sort(key=lambda x: (-x[0], x[2].rec.path, x[2].unit.start_line))
    floor = scored[0][0] * RELATIVE_CUT
    evidence = [s for s in scored if s[0] >= floor]
    related_files = {s[2].rec.path for s in evidence[: LEAD * 2]}
    lexical_rank = sorted(
        (s for s in scored if s[1] > 0 and s[2].rec.path in related_files),
        key=lambda x: (-x[1], -x[0], x[2].rec.path, x[2].unit.start_line),
    )
    merged = _merge(evidence, lexical_rank, limit)
    # A second file needs less evidence than a tenth test of the first one.
    other_floor = scored[0][0] * OTHER_FILE_CUT
    merged = _diversify(merged, [s for s in scored if s[0] >= other_floor], limit)
    out: list[Candidate] = []
    for score, _lex, t, reasons in merged:
        # Structural evidence explains a test best; shared words only fill in.
        reasons.sort(key=lambda r: (r[1].startswith("shares "), -r[0]))
        reason = "; ".join(dict.fromkeys(r for _, r in reasons[:2]))
        out.append(Candidate(t.rec.path, t.unit, round(score, 3), reason))
    return out


_Scored = tuple[float, float, _Test, list[tuple[float, str]]]


def _merge(evidence: list[_Scored], lexical: list[_Scored], limit: int) -> list[_Scored]:
    """The evidence ranking's lead, then the two rankings alternately, without repeats."""
    out: list[_Scored] = []
    seen: set[int] = set()

    def take(item: _Scored) -> None:
        if id(item[2]) not in seen:
            seen.add(id(item[2]))
            out.append(item)

    for item in evidence[:LEAD]:
        take(item)
    rest_e, rest_l = iter(evidence[LEAD:]), iter(lexical)
    while len(out) < limit:
        progressed = False
        for source in (rest_e, rest_l):
            for item in source:
                if id(item[2]) not in seen:
                    take(item)
                    progressed = True
                    break
            if len(out) >= limit:
                break
        if not progressed:
            break
    return out[:limit]


def _diversify(ranked: list[_Scored], evidence: list[_Scored], limit: int) -> list[_Scored]:
    """Give the last slots to the best tests of files not yet shown, when there are any.

    The tests a change needs are often split over two files (the module's own tests and an
    integration test); ten entries from one file would hide the second.
    """
    if OTHER_FILE_SLOTS <= 0:
        return ranked
    shown = {item[2].rec.path for item in ranked}
    others: list[_Scored] = []
    for item in evidence:
        path = item[2].rec.path
        if path not in shown:
            shown.add(path)
            others.append(item)
        if len(others) >= OTHER_FILE_SLOTS:
            break
    if not others:
        return ranked
    keep = max(LEAD, min(len(ranked), limit - len(others)))
    return [*ranked[:keep], *others][:limit]


def _cut_off_by_imports(
    change: ChangeInfo, records: list[FileRecord], sources: ImportLookup
) -> set[str]:
    """JS/TS test files whose imports all resolve and none of which leads to a changed file.

    Only when the graph explains something: if no test file reaches a changed file (a file a
    bundler reads, a configuration), imports say nothing about this change and nothing is cut.
    """
    changed = {p for p in change.files if is_js(p)}
    tests = {r.path: r.text for r in records if is_js(r.path) and r.path not in change.files}
    if not changed or not tests:
        return set()
    resolver = ImportResolver(sources.js_files(), sources.read_text)
    texts = {p: t for p, t in sources.source_texts().items() if is_js(p)}
    texts.update(tests)
    reached = leading_to(changed, texts, resolver)
    if not any(p in reached for p in tests):
        return set()
    return {
        p
        for p, text in tests.items()
        if p not in reached and resolver.understood(p, specifiers(text))
    }


def _source_callers(
    change: ChangeInfo, touched_names: dict[str, str], sources: SourceLookup
) -> dict[str, tuple[str, str, int]]:
    """norm(caller) -> (caller name, touched name reached, hops) for source units calling them.

    Two rounds: callers of the touched units, then callers of those callers. A name with very
    many callers is a utility; its callers are skipped rather than flooding the ranking.
    """
    out: dict[str, tuple[str, str, int]] = {}
    frontier = {nm: nm for nm in touched_names if len(nm) >= 3}
    blocked = {norm(nm) for nm in touched_names}
    touched_spans = {(p, u.start_line, u.end_line) for p, u in change.touched}
    for depth in (1, 2):
        if not frontier:
            break
        records = sources.mentioning(frontier)
        callers: dict[str, list[tuple[str, str]]] = {}
        for rec in records:
            for unit, idents in zip(rec.units, rec.idents, strict=True):
                if unit.in_test_region:
                    continue
                if (rec.path, unit.start_line, unit.end_line) in touched_spans:
                    continue
                name = unit.simple_name
                if not _usable(name) or norm(name) in blocked or len(name) < 3:
                    continue
                for target in frontier:
                    if target in idents and target != name:
                        callers.setdefault(target, []).append((name, frontier[target]))
        next_frontier: dict[str, str] = {}
        for _target, found in callers.items():
            if len(found) > MAX_CALLERS_PER_NAME:
                continue
            for name, root in found:
                key = norm(name)
                if key not in out and key not in blocked:
                    out[key] = (name, root, depth)
                    next_frontier[name] = root
        if len(out) >= MAX_SOURCE_NAMES:
            break
        frontier = next_frontier
        blocked |= set(out)
    return out
