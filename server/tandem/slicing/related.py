"""Ranking the tests related to a change: static evidence only, best first, weak guesses cut.

Evidence for a test unit, strongest first:

- it calls or references a touched unit (``calls Parser.feed``), or is named after one;
- it reaches a touched unit through one hop: a helper or fixture in test code that calls it, or
  a source function that calls it (``calls echo_via_pager, which calls _tempfilepager``), up to
  two such source links;
- it references the touched unit's class or type;
- it spells a phrase of the changed lines' string literals (a message, a help line: tests of
  output run a public entry point and compare what it printed);
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
goes to the best test of a file not yet shown whose score reaches 30% of the best. A list still
shorter than its limit is filled with the next tests by score (the best of two files not yet
shown first), down to a lower absolute bar (weak evidence is better than an empty slot: the
filler never displaces a ranked test, and is shown by signature). Each result carries a
one-line reason naming its two strongest pieces of evidence.

This module assembles the list; ``related_scoring`` weighs each test's evidence, with the words
of ``related_words``, the literal phrases of ``related_text``, the rarity table of
``related_table``, the file conventions of ``related_files`` and the indirect links of
``related_hops``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tandem.slicing import related_scoring
from tandem.slicing.records import FileRecord
from tandem.slicing.related_scoring import ChangeInfo, ScoredTest, score_tests
from tandem.slicing.related_table import Rarity, ranking_table
from tandem.slicing.units import Unit

if TYPE_CHECKING:
    from tandem.slicing.callers import SourceLookup

RELATIVE_CUT = 0.5
LEAD = 5
OTHER_FILE_SLOTS = 1
OTHER_FILE_CUT = 0.3
FILL_NEW_FILES = 2


@dataclass
class Candidate:
    """A related test as ranked: where it is, its score and the reason shown for it."""

    path: str
    unit: Unit
    score: float
    reason: str


def rank_tests(
    change: ChangeInfo,
    records: list[FileRecord],
    limit: int,
    sources: SourceLookup | None = None,
) -> list[Candidate]:
    """Related test units, best first, at most ``limit``."""
    tests, functions, df = ranking_table(records)
    if not tests or limit <= 0:
        return []
    every = score_tests(change, records, tests, functions, Rarity(df, len(tests)), sources)
    every.sort(key=lambda x: (-x.score, x.test.rec.path, x.test.unit.start_line))
    scored = [s for s in every if s.score >= related_scoring.MIN_SCORE] or every[:1]
    if not scored:
        return []
    floor = scored[0].score * RELATIVE_CUT
    evidence = [s for s in scored if s.score >= floor]
    related_files = {s.test.rec.path for s in evidence[: LEAD * 2]}
    lexical_rank = sorted(
        (s for s in scored if s.lexical > 0 and s.test.rec.path in related_files),
        key=lambda x: (-x.lexical, -x.score, x.test.rec.path, x.test.unit.start_line),
    )
    merged = _merge(evidence, lexical_rank, limit)
    # A second file needs less evidence than a tenth test of the first one.
    other_floor = scored[0].score * OTHER_FILE_CUT
    merged = _diversify(merged, [s for s in scored if s.score >= other_floor], limit)
    merged = _fill(merged, every, limit)
    out: list[Candidate] = []
    for score, _lex, t, reasons, _located in merged:
        # Structural evidence explains a test best; shared words only fill in.
        reasons.sort(key=lambda r: (r[1].startswith("shares "), -r[0]))
        reason = "; ".join(dict.fromkeys(r for _, r in reasons[:2]))
        out.append(Candidate(t.rec.path, t.unit, round(score, 3), reason))
    return out


def _merge(evidence: list[ScoredTest], lexical: list[ScoredTest], limit: int) -> list[ScoredTest]:
    """The evidence ranking's lead, then the two rankings alternately, without repeats."""
    out: list[ScoredTest] = []
    seen: set[int] = set()

    def take(item: ScoredTest) -> None:
        if id(item.test) not in seen:
            seen.add(id(item.test))
            out.append(item)

    for item in evidence[:LEAD]:
        take(item)
    rest_e, rest_l = iter(evidence[LEAD:]), iter(lexical)
    while len(out) < limit:
        progressed = False
        for source in (rest_e, rest_l):
            for item in source:
                if id(item.test) not in seen:
                    take(item)
                    progressed = True
                    break
            if len(out) >= limit:
                break
        if not progressed:
            break
    return out[:limit]


def _fill(ranked: list[ScoredTest], every: list[ScoredTest], limit: int) -> list[ScoredTest]:
    """``ranked``, then the best tests of ``every`` (sorted by score) not in it, up to ``limit``:
    first the best of up to ``FILL_NEW_FILES`` files not shown yet, then by score. A filler
    must have some evidence besides where it lives (a test of the same package that shares
    nothing with the change stays out)."""
    if len(ranked) >= limit:
        return ranked
    seen = {id(item.test) for item in ranked}
    extra = [item for item in every if id(item.test) not in seen and not item.located_only]
    files = {item.test.rec.path for item in ranked}
    first: list[ScoredTest] = []
    for item in extra:
        if len(first) >= FILL_NEW_FILES:
            break
        if item.test.rec.path not in files:
            files.add(item.test.rec.path)
            first.append(item)
    rest = (item for item in extra if not any(item is f for f in first))
    return [*ranked, *itertools.islice(itertools.chain(first, rest), limit - len(ranked))]


def _diversify(
    ranked: list[ScoredTest], evidence: list[ScoredTest], limit: int
) -> list[ScoredTest]:
    """Give the last slots to the best tests of files not yet shown, when there are any.

    The tests a change needs are often split over two files (the module's own tests and an
    integration test); ten entries from one file would hide the second.
    """
    if OTHER_FILE_SLOTS <= 0:
        return ranked
    shown = {item.test.rec.path for item in ranked}
    others: list[ScoredTest] = []
    for item in evidence:
        path = item.test.rec.path
        if path not in shown:
            shown.add(path)
            others.append(item)
        if len(others) >= OTHER_FILE_SLOTS:
            break
    if not others:
        return ranked
    keep = max(LEAD, min(len(ranked), limit - len(others)))
    return [*ranked[:keep], *others][:limit]
