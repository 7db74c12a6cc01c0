"""Scoring each candidate test against a change: the evidence found, weighed, with its reasons."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from tandem.slicing.callers import ImportLookup
from tandem.slicing.records import FileRecord
from tandem.slicing.related_files import package_of, paired
from tandem.slicing.related_hops import cut_off_by_imports, helper_hops, source_callers
from tandem.slicing.related_table import RankableTest, Rarity
from tandem.slicing.related_text import phrase_hits
from tandem.slicing.related_words import WORD_STOP, name_tokens, norm, tokens_of, usable, words
from tandem.slicing.units import Unit

if TYPE_CHECKING:
    from tandem.slicing.callers import SourceLookup

W_DIRECT = 3.0
W_NAMED = 2.0
W_HELPER_HOP = 1.6
W_SOURCE_HOP = 1.0
SOURCE_HOP_DECAY = 0.5
W_TYPE = 1.0
W_WORDS = 4.5
W_PAIR = 1.5
W_SAME_FILE = 2.0
W_SAME_PACKAGE = 1.0
W_TEXT = 2.5
# Methods a test reaches by calling the class (Python, TypeScript ``new C()``, Rust ``C::new``):
# the class is the name to look for.
CONSTRUCTORS = frozenset(
    {"__init__", "__new__", "__post_init__", "__attrs_post_init__", "constructor", "new"}
)
MIN_SCORE = 1.2  # the ranking proper starts here...
FILL_SCORE = 0.6  # ...and a list shorter than its limit is filled down to here


@dataclass
class ChangeInfo:
    """What the ranking needs to know about the change."""

    files: set[str] = field(default_factory=set)
    touched: list[tuple[str, Unit]] = field(default_factory=list)  # (path, unit)
    added_idents: set[str] = field(default_factory=set)
    phrases: set[str] = field(default_factory=set)  # of the changed lines' string literals


class ScoredTest(NamedTuple):
    score: float
    lexical: float  # the shared-words share of the score's evidence, 0..1
    test: RankableTest
    reasons: list[tuple[float, str]]  # (weight, one-line reason)
    located_only: bool = False  # the only evidence is where the test lives (file, package)


@dataclass
class _ChangeNames:
    """The names of a change the evidence looks for, keyed as the tests' sets are."""

    touched: dict[str, str]  # simple name -> qualified name (shown in reasons)
    touched_norms: dict[str, str]  # norm(name) -> simple name
    touched_words: dict[str, frozenset[str]]  # simple name -> its words, when telling enough
    type_norms: dict[str, str]  # norm(type) -> type, for types not touched themselves
    tokens: set[str]  # words of the change that some test uses
    token_mass: float  # the rarity of all of them together


def _change_names(change: ChangeInfo, rarity: Rarity) -> _ChangeNames:
    touched_names: dict[str, str] = {}
    type_names: dict[str, str] = {}
    for _, u in change.touched:
        simple, qualified = u.simple_name, u.name
        if simple in CONSTRUCTORS and u.container:
            simple = qualified = u.container  # tests call the class, never ``__init__``
        if usable(simple) and (u.kind in ("function", "class") or not simple.startswith("<")):
            touched_names.setdefault(simple, qualified)
        if u.container and usable(u.container):
            type_names.setdefault(u.container, u.container)
        if u.kind == "class" and usable(simple):
            type_names.setdefault(simple, u.name)
    touched_norms = {norm(nm): nm for nm in touched_names if len(norm(nm)) >= 2}
    touched_words = {
        nm: ws
        for nm in touched_names
        if (ws := frozenset(words(nm))) and (len(ws) > 1 or len(nm) >= 5)
    }
    type_norms = {norm(nm): nm for nm in type_names if norm(nm) not in touched_norms}

    change_tokens = tokens_of(i for i in change.added_idents if usable(i))
    for nm in touched_names:
        change_tokens |= name_tokens(nm) | {norm(nm)}
    change_tokens = {
        tok for tok in change_tokens if len(tok) >= 3 and tok not in WORD_STOP and tok in rarity.df
    }
    # Summed in sorted order: a float sum over a set would vary with the hash seed.
    token_mass = sum(rarity.idf(tok) for tok in sorted(change_tokens)) or 1.0
    return _ChangeNames(
        touched_names, touched_norms, touched_words, type_norms, change_tokens, token_mass
    )


def score_tests(
    change: ChangeInfo,
    records: list[FileRecord],
    tests: list[RankableTest],
    functions: list[tuple[FileRecord, Unit, frozenset[str]]],
    rarity: Rarity,
    sources: SourceLookup | None,
) -> list[ScoredTest]:
    """Every test of ``tests`` whose evidence reaches ``FILL_SCORE`` (or ``MIN_SCORE``, when
    lower), in ``tests`` order."""
    helpers = [
        (rec, unit, idents)
        for rec, unit, idents in functions
        if unit.in_test_region or rec.path not in change.files
    ]
    names = _change_names(change, rarity)
    helper_hop = helper_hops(helpers, names.touched_norms)
    source_hop = source_callers(change.touched, names.touched, sources) if sources else {}
    cut_off: set[str] = (
        cut_off_by_imports(change.files, records, sources)
        if isinstance(sources, ImportLookup)
        else set()
    )
    change_packages = {pkg for p in change.files if (pkg := package_of(p))}
    pair_cache: dict[str, str | None] = {}
    expected = phrase_hits(change.phrases, records, len(tests)) if W_TEXT > 0 else {}

    def paired_with(path: str) -> str | None:
        if path not in pair_cache:
            pair_cache[path] = next((f for f in sorted(change.files) if paired(path, f)), None)
        return pair_cache[path]

    spec, idf = rarity.spec, rarity.idf
    scored: list[ScoredTest] = []
    for t in tests:
        if t.rec.path in cut_off:
            continue
        reasons: list[tuple[float, str]] = []
        direct = [
            (spec(nm), names.touched[nm])
            for key, nm in names.touched_norms.items()
            if key in t.norms
        ]
        direct.sort(key=lambda x: -x[0])
        for k, (w, qual) in enumerate(direct[:4]):
            reasons.append((W_DIRECT * w / (1 + k), f"calls {qual}"))
        for nm, ws in names.touched_words.items():
            if ws <= t.name_tokens:
                reasons.append((W_NAMED * spec(nm), f"named after {names.touched[nm]}"))
                break
        if not direct:
            hops = [(spec(h), nm, tgt) for h, (nm, tgt) in helper_hop.items() if h in t.norms]
            if hops:
                w, helper, target = max(hops)
                reasons.append(
                    (
                        W_HELPER_HOP * max(w, 0.3),
                        f"uses helper {helper}, which calls {names.touched[target]}",
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
                    (W_SOURCE_HOP * (w + extra), f"calls {caller}, {link} {names.touched[target]}")
                )
        types = [(spec(nm), nm) for key, nm in names.type_norms.items() if key in t.norms]
        if types:
            w, nm = max(types)
            reasons.append((W_TYPE * w, f"references {nm}"))
        if (text := expected.get((t.rec.path, t.unit.start_line))) is not None:
            reasons.append((W_TEXT * text[0], f'expects "{text[1]}"'))
        # Sorted: set order varies with the process's hash seed, and slices must be deterministic.
        shared = sorted(names.tokens & t.tokens)
        lexical = 0.0
        if shared:
            mass = sum(idf(tok) * (2.0 if tok in t.name_tokens else 1.0) for tok in shared)
            lexical = min(1.0, mass / names.token_mass)
            top = sorted(shared, key=lambda tok: (-idf(tok), tok))[:3]
            reasons.append((W_WORDS * lexical, "shares " + ", ".join(top) + " with the change"))
        where = 0.0
        if t.rec.path in change.files and t.unit.in_test_region:
            where = W_SAME_FILE
            reasons.append((where, "inline test in the changed file"))
        elif (src := paired_with(t.rec.path)) is not None:
            where = W_PAIR
            reasons.append((where, f"test file pairs with {src}"))
        elif package_of(t.rec.path) in change_packages:
            where = W_SAME_PACKAGE
            reasons.append((where, "same package"))
        score = sum(r for r, _ in reasons)
        if score < min(MIN_SCORE, FILL_SCORE):
            continue
        scored.append(ScoredTest(score, lexical, t, reasons, score == where))
    return scored
