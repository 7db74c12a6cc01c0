"""The test units a ranking weighs, their words, and how rare each word is among them."""

from __future__ import annotations

import functools
import math
from collections import Counter
from dataclasses import dataclass

from tandem.slicing.records import FileRecord
from tandem.slicing.related_words import ident_tokens, name_tokens, norm
from tandem.slicing.units import Unit


@dataclass
class RankableTest:
    """A test unit with the sets its evidence is looked up in."""

    rec: FileRecord
    unit: Unit
    idents: frozenset[str]
    norms: frozenset[str]
    tokens: frozenset[str]  # words of the body and name, plus joined neighbouring name words
    name_tokens: frozenset[str]


@functools.lru_cache(maxsize=131_072)
def _test_sets(
    name: str, idents: frozenset[str]
) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """A test unit's normalised identifiers, name tokens and all tokens. Cached: a file
    version's identifier sets are shared between slices, so a warm process computes them once."""
    names = frozenset(name_tokens(name))
    tokens = names.union(*map(ident_tokens, idents))  # tokens_of(idents) | names, in C
    return frozenset(map(norm, idents)), names, tokens


RankingTable = tuple[
    list[RankableTest], list[tuple[FileRecord, Unit, frozenset[str]]], dict[str, int]
]
_TABLES: dict[tuple[int, ...], tuple[list[FileRecord], RankingTable]] = {}


def ranking_table(records: list[FileRecord]) -> RankingTable:
    """The test units of ``records``, their function units and each token's document frequency
    over the tests. Kept for the same record objects (the entry holds them, so their ids stay
    theirs): a warm index hands the same records to every slice, and this is a third of it."""
    key = tuple(map(id, records))
    found = _TABLES.get(key)
    if found is not None:
        return found[1]
    tests: list[RankableTest] = []
    functions: list[tuple[FileRecord, Unit, frozenset[str]]] = []
    for rec in records:
        for unit, idents in zip(rec.units, rec.idents, strict=True):
            if unit.is_test:
                norms, names, tokens = _test_sets(unit.name, idents)
                tests.append(RankableTest(rec, unit, idents, norms, tokens, names))
            elif unit.kind == "function":
                functions.append((rec, unit, idents))
    counts: Counter[str] = Counter()
    for t in tests:
        counts.update(t.tokens)  # tokens include the normalised identifiers
    df = dict(counts)
    if len(_TABLES) >= 8:
        _TABLES.clear()
    _TABLES[key] = (list(records), (tests, functions, df))
    return tests, functions, df


class Rarity:
    """How rare a token is among ``n`` test units: its inverse document frequency."""

    def __init__(self, df: dict[str, int], n: int) -> None:
        self.df = df
        self.n = n
        self._rarest = self.idf("\0") if n == 1 else math.log((n + 1) / 2) + 0.1  # one test's

    def idf(self, tok: str) -> float:
        return math.log((self.n + 1) / (self.df.get(tok, 0) + 1)) + 0.1

    def spec(self, ident: str) -> float:
        """How specific a name is among the tests: 1 when one test uses it, near 0 when all do."""
        return max(0.05, min(1.0, self.idf(norm(ident)) / self._rarest))
