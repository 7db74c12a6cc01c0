"""Indirect links from tests to a change: helpers and source callers in between, and imports.

A test that calls a helper (or a source function) that calls a touched unit reaches the change in
one hop; a JS/TS test whose imports lead nowhere near a changed file cannot reach it at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tandem.slicing.imports import ImportResolver, is_js, leading_to, specifiers
from tandem.slicing.records import FileRecord
from tandem.slicing.related_words import norm, usable
from tandem.slicing.units import Unit

if TYPE_CHECKING:
    from tandem.slicing.callers import ImportLookup, SourceLookup

MAX_SOURCE_NAMES = 40
MAX_CALLERS_PER_NAME = 12


def helper_hops(
    helpers: list[tuple[FileRecord, Unit, frozenset[str]]], touched_norms: dict[str, str]
) -> dict[str, tuple[str, str]]:
    """norm(helper) -> (helper, touched name) for test helpers and fixtures calling a touched
    unit (``touched_norms``: norm(name) -> name)."""
    out: dict[str, tuple[str, str]] = {}
    for _rec, unit, idents in helpers:
        if not usable(unit.simple_name) or norm(unit.simple_name) in touched_norms:
            continue
        # The first touched name in name order, not in the set's (hash-seeded) order: the reason
        # shown must not change from one process to the next.
        hit = min((touched_norms[k] for k in map(norm, idents) if k in touched_norms), default=None)
        if hit is not None:
            out.setdefault(norm(unit.simple_name), (unit.simple_name, hit))
    return out


def source_callers(
    touched: list[tuple[str, Unit]], touched_names: dict[str, str], sources: SourceLookup
) -> dict[str, tuple[str, str, int]]:
    """norm(caller) -> (caller name, touched name reached, hops) for source units calling them.

    Two rounds: callers of the touched units, then callers of those callers. A name with very
    many callers is a utility; its callers are skipped rather than flooding the ranking.
    """
    out: dict[str, tuple[str, str, int]] = {}
    frontier = {nm: nm for nm in touched_names if len(nm) >= 3}
    blocked = {norm(nm) for nm in touched_names}
    touched_spans = {(p, u.start_line, u.end_line) for p, u in touched}
    for depth in (1, 2):
        if not frontier:
            break
        records = sources.mentioning(frontier)
        callers: dict[str, list[tuple[str, str]]] = {}
        for rec in records:
            for unit, idents in zip(rec.units, rec.idents, strict=True):
                # The frontier's names are few and most units mention none: look them up first.
                hits = [target for target in frontier if target in idents]
                if not hits or unit.in_test_region:
                    continue
                if (rec.path, unit.start_line, unit.end_line) in touched_spans:
                    continue
                name = unit.simple_name
                if not usable(name) or norm(name) in blocked or len(name) < 3:
                    continue
                for target in hits:
                    if target != name:
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


def cut_off_by_imports(
    changed_files: set[str], records: list[FileRecord], sources: ImportLookup
) -> set[str]:
    """JS/TS test files whose imports all resolve and none of which leads to a changed file.

    Only when the graph explains something: if no test file reaches a changed file (a file a
    bundler reads, a configuration), imports say nothing about this change and nothing is cut.
    """
    changed = {p for p in changed_files if is_js(p)}
    tests = {r.path: r.text for r in records if is_js(r.path) and r.path not in changed_files}
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
