"""The oracle's patch style: one patch per hunk with the least context, or an insertion."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from edit_hunks import INSERT_SIDES, KINDS, EditDict, Hunk, edit, holding, nameable, reply_tokens
from edit_quotes import common_prefix, occurrences, shortest_old, unique_anchor
from tandem.flow.edits import FileSnapshot
from tandem.flow.handoff import unit_id


@dataclass(frozen=True)
class Patch:
    """Old lines [lo, hi) (hunk plus context) in ``target``; ``hunk`` is what changes, made of
    the commit's ``parts``."""

    lo: int
    hi: int
    hunk: Hunk
    target: str
    parts: tuple[Hunk, ...] = ()
    region: tuple[int, int] = (0, 0)
    """The target's lines [start, end): where ``old`` must occur exactly once."""


def _regions(file: FileSnapshot, pre: list[str], hunk: Hunk) -> list[tuple[str, int, int]]:
    regions = [
        (unit_id(file.path, u.name), u.start_line - 1, u.end_line)
        for u in holding(file, hunk)
        if nameable(file, u)
    ]
    return [*regions, (file.path, 0, len(pre))]


def resolve(file: FileSnapshot, pre: list[str], post: list[str], hunk: Hunk) -> Patch | None:
    """The smallest context around ``hunk`` that makes ``old`` unique in its target, in the
    target (the innermost unit holding it, an outer one, the file) whose patch is cheapest."""
    found = []
    for target, start, end in _regions(file, pre, hunk):
        region = "".join(pre[start:end])
        lo, hi, up = hunk.ps, hunk.pe, True
        while True:
            if hi > lo and occurrences(region, "".join(pre[lo:hi])) == 1:
                found.append(Patch(lo, hi, hunk, target, region=(start, end)))
                break
            can_up, can_down = lo > start, hi < end
            if not (can_up or can_down):
                break
            if (up and can_up) or not can_down:
                lo -= 1
            else:
                hi += 1
            up = not up
    if not found:
        return None
    return min(found, key=lambda p: reply_tokens([patch_edit(pre, post, p)]))


def patches(
    file: FileSnapshot, pre: list[str], post: list[str], hunks: Sequence[Hunk], gap: int
) -> list[Patch] | None:
    """One patch per hunk (hunks ``gap`` lines apart or closer, or whose contexts overlap,
    merged); None if one cannot be made."""
    out: list[Patch] = []
    for part in sorted(hunks, key=lambda h: (h.ps, h.qs)):
        hunk, parts = part, (part,)
        while True:
            patch = resolve(file, pre, post, hunk)
            if patch is None:
                return None
            if out and (patch.lo < out[-1].hi or hunk.ps - out[-1].hunk.pe <= gap):
                last = out.pop()
                hunk = Hunk(last.hunk.ps, max(last.hunk.pe, hunk.pe), last.hunk.qs, hunk.qe)
                parts = (*last.parts, *parts)
                continue
            out.append(Patch(patch.lo, patch.hi, hunk, patch.target, parts, patch.region))
            break
    return out


def patch_edit(pre: list[str], post: list[str], patch: Patch) -> EditDict:
    """The patch with the shortest ``old`` that still occurs exactly once in its target."""
    h = patch.hunk
    old = "".join(pre[patch.lo : patch.hi])
    new = "".join(pre[patch.lo : h.ps] + post[h.qs : h.qe] + pre[h.pe : patch.hi])
    region = "".join(pre[patch.region[0] : patch.region[1]])
    offset = len("".join(pre[patch.region[0] : patch.lo]))
    changed = len("".join(pre[patch.lo : h.ps])), len("".join(pre[patch.lo : h.pe]))
    a, b = shortest_old(region, offset, old, new, changed)
    made = edit("patch", patch.target, new[a : len(new) - (len(old) - b)], old[a:b])
    forms = [made, *insertions(region, offset, old, new, patch.target)]
    return min(forms, key=lambda e: reply_tokens([e]))


def insertions(region: str, offset: int, old: str, new: str, target: str) -> list[EditDict]:
    """When ``new`` is ``old`` with one run of text added: that run as ``insert_after`` /
    ``insert_before`` next to the shortest anchor of whole lines (or, on a line the insertion
    splits, words) that occurs once in ``region`` (``old`` starts there at ``offset``)."""
    grow = len(new) - len(old)
    if grow <= 0:
        return []
    prefix = len(common_prefix(old, new))
    suffix = len(common_prefix(old[::-1], new[::-1]))
    points = range(max(0, len(old) - suffix), min(prefix, len(old)) + 1)
    if not points:
        return []
    lines = [p for p in points if p == 0 or old[p - 1] == "\n"]
    out = []
    for point in {points[0], points[-1], *lines[:1], *lines[-1:]}:
        added = new[point : point + grow]
        at = offset + point
        for kind in INSERT_SIDES:
            if kind not in KINDS:
                continue
            anchor = unique_anchor(region, at, after=kind == "insert_after")
            if anchor:
                out.append(edit(kind, target, added, anchor))
    return out
