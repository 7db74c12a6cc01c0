"""Parsing file versions into cache entries, many at once in forked workers when a cold index may.

An entry is what the caches store of a file version (units as lists, identifiers per unit as one
space-separated string, whether the parse had errors), never its text. A cold slice of a large
repository parses hundreds of test files; spread over the machine's cores they take a fraction
of the time. Workers are forked (the file contents they parse are inherited, not sent) only
where that is safe and worth it: a platform with ``fork``, a process running one thread (the
language server parses in its own threads and never forks), more than one usable core and at
least :data:`MIN_PARALLEL` files. Anything going wrong in the workers falls back to parsing here.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from typing import Any

from tandem.slicing.extract import extract_units
from tandem.slicing.languages import LanguageName
from tandem.slicing.records import unit_idents
from tandem.slicing.units import Unit

log = logging.getLogger("tandem.slicing")

MIN_PARALLEL = 48  # fewer files than this are parsed here: forking would cost more than it saves
MAX_WORKERS = 4

Item = tuple[str, str, bytes, LanguageName]  # cache key, path, content, language
Entry = dict[str, Any]


def parse_entry(
    rel: str, data: bytes, language: LanguageName
) -> tuple[Entry, list[Unit], list[frozenset[str]]]:
    """One file version's cache entry, with its units and their identifiers."""
    fu = extract_units(rel, data, language)
    idents = unit_idents(data, fu.units)
    entry = {
        "errors": fu.has_errors,
        "units": [
            [
                u.name,
                u.kind,
                u.start_line,
                u.end_line,
                u.signature,
                u.is_test,
                u.in_test_region,
                u.container,
                u.definition_end,
            ]
            for u in fu.units
        ],
        "idents": [" ".join(sorted(s)) for s in idents],
    }
    return entry, fu.units, idents


def workers_for(count: int) -> int:
    """How many processes should parse ``count`` files (1: parse here)."""
    if count < MIN_PARALLEL or threading.active_count() != 1:
        return 1
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS, count // (MIN_PARALLEL // 2)))


# The items the forked workers read (inherited with the process memory, never pickled).
_ITEMS: list[Item] = []
_SHARES = 1


def _parse_share(share: int) -> dict[str, Entry]:
    return {key: parse_entry(rel, data, lang)[0] for key, rel, data, lang in _ITEMS[share::_SHARES]}


def parse_entries(items: list[Item]) -> dict[str, Entry]:
    """The cache entry of each item, by cache key; in forked workers when :func:`workers_for`
    says so."""
    global _ITEMS, _SHARES
    workers = workers_for(len(items))
    if workers > 1:
        _ITEMS, _SHARES = items, workers
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                out: dict[str, Entry] = {}
                for part in pool.map(_parse_share, range(workers)):
                    out.update(part)
                return out
        except Exception as exc:
            log.warning("parsing in worker processes failed (%s); parsing in this one", exc)
        finally:
            _ITEMS, _SHARES = [], 1
    return {key: parse_entry(rel, data, lang)[0] for key, rel, data, lang in items}
