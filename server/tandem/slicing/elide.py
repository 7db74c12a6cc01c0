"""Which lines of a long unit the slice shows: around a diff's changes, or a test's first lines.

A unit a diff touches is shown by its signature, its changed lines with ``CONTEXT`` lines either
side (``COMPACT_CONTEXT`` when the files are small), and its last line; the unchanged runs
between are elided (the renderer writes one marker line per run, naming the hidden lines). A
run shorter than ``MIN_GAP`` is shown, since its marker would cost about as much. Only the
planner's slice text is cut: the drafter is always given the units it may edit whole, from the
files themselves, so no edit is made against elided text.
"""

from __future__ import annotations

from itertools import pairwise

CONTEXT = 3
"""Unchanged lines shown either side of a changed line (as in a unified diff)."""
COMPACT_CONTEXT = 1
"""The same in a compact slice: one whose text would be over ``SLICE_SHARE`` of its files."""
SLICE_SHARE = 0.10
"""A slice is worth its tokens when it is a small part of the files it shows code from (the
changed files and the best test's file). When those files are small, the fixed parts (context,
the test's excerpt, the list of tests) dominate: over this share, the slice is made compact."""
MIN_GAP = 4
"""A hidden run must be at least this long; a shorter one is shown."""
SIGNATURE_LINES = 8
"""At most this many lines of a unit's signature are kept."""
TEST_LINES = 25
"""A related test shown with its body: at most this many of its first lines, and its last."""
TEST_BODIES = 1
"""At most this many related tests are shown with their bodies; the rest by signature. The
planner's slice and the drafter's and reviewer's prompts show the same."""


def _normal(line: str) -> str:
    return " ".join(line.split())


def signature_lines(lines: list[str], start: int, signature: str) -> set[int]:
    """The lines of ``lines`` (a unit starting at line ``start``) that hold its signature, with
    the decorator and attribute lines above it; the first line when the signature is not found
    (doc comments come before the declaration, so they are not kept)."""
    sig = _normal(signature)
    if not sig:
        return {start}
    for k, line in enumerate(lines):
        text = _normal(line)
        n = min(len(text), len(sig), 40)
        if n < min(len(sig), 6) or text[:n] != sig[:n]:
            continue
        kept = {start + j for j in range(k) if lines[j].lstrip().startswith(("@", "#["))}
        consumed = 0
        for j in range(k, min(len(lines), k + SIGNATURE_LINES)):
            kept.add(start + j)
            consumed += len(_normal(lines[j])) + 1
            if consumed >= len(sig):
                break
        return kept
    return {start}


def around_changes(
    lines: list[str], start: int, changed: set[int], signature: str, context: int = CONTEXT
) -> frozenset[int] | None:
    """The lines of a touched unit to show: its signature, each of its changed lines with
    ``context`` lines either side, and its last line; None when that hides nothing (show it
    whole). A change just outside the unit (in the unit above) shows none of its lines."""
    end = start + len(lines) - 1
    keep = signature_lines(lines, start, signature) | {end}
    for line in changed & set(range(start, end + 1)):
        keep.update(range(max(start, line - context), min(end, line + context) + 1))
    return _close_small_gaps(keep, start, end)


def head_of_test(lines: list[str], start: int) -> frozenset[int] | None:
    """A related test's first ``TEST_LINES`` lines and its last; None when that is all of it."""
    end = start + len(lines) - 1
    keep = set(range(start, min(end, start + TEST_LINES - 1) + 1)) | {end}
    return _close_small_gaps(keep, start, end)


def _close_small_gaps(keep: set[int], start: int, end: int) -> frozenset[int] | None:
    shown = sorted(line for line in keep if start <= line <= end)
    full = set(shown)
    for a, b in pairwise(shown):
        if b - a - 1 < MIN_GAP:
            full.update(range(a + 1, b))
    if shown and shown[0] - start < MIN_GAP:
        full.update(range(start, shown[0]))
    if len(full) >= end - start + 1:
        return None
    return frozenset(full)
