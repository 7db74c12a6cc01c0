"""The oracle's unit style: which unit edit reproduces which hunks of one file."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from edit_hunks import (
    EditDict,
    Hunk,
    applies_alone,
    edit,
    holding,
    nameable,
    splice,
)
from tandem.flow.edits import FileSnapshot
from tandem.flow.handoff import unit_id
from tandem.slicing.codeunits import CodeUnit


@dataclass
class Group:
    """Hunks one unit edit covers (``unit`` None: hunks outside any nameable unit)."""

    unit: CodeUnit | None
    hunks: list[Hunk] = field(default_factory=list)


def grown_at_end(
    file: FileSnapshot, after: FileSnapshot, hunk: Hunk
) -> tuple[CodeUnit, int] | None:
    """A unit the hunk ends with, whose namesake after the commit ends inside the hunk's new
    lines (lines appended to the unit, then maybe new units): the unit and that end."""
    for unit in sorted(file.units, key=lambda u: u.start_line - u.end_line):
        if unit.end_line != hunk.pe or hunk.ps < unit.start_line - 1 or not nameable(file, unit):
            continue
        grown = after.unit(unit.name)
        if grown is not None and hunk.qs < grown.end_line <= hunk.qe:
            return unit, grown.end_line
    return None


def split_hunks(file: FileSnapshot, after: FileSnapshot, hunks: Sequence[Hunk]) -> list[Hunk]:
    """Hunks that end a unit and go on past its new end, split where that unit now ends (the
    rest is an insertion after it)."""
    out: list[Hunk] = []
    for hunk in hunks:
        grown = grown_at_end(file, after, hunk)
        if grown is None or grown[1] == hunk.qe:
            out.append(hunk)
            continue
        end = grown[1]
        out += [Hunk(hunk.ps, hunk.pe, hunk.qs, end), Hunk(hunk.pe, hunk.pe, end, hunk.qe)]
    return out


def unit_groups(file: FileSnapshot, after: FileSnapshot, hunks: Sequence[Hunk]) -> list[Group]:
    """Each hunk under its innermost nameable unit (lines appended at a unit's end count as
    inside it); a unit inside another joins the outer."""
    groups: dict[CodeUnit | None, Group] = {}
    loose: list[Group] = []
    for hunk in hunks:
        grown = grown_at_end(file, after, hunk)
        inner = [grown[0]] if grown is not None else []
        unit = next((u for u in [*inner, *holding(file, hunk)] if nameable(file, u)), None)
        if unit is None:
            loose.append(Group(None, [hunk]))
        else:
            groups.setdefault(unit, Group(unit)).hunks.append(hunk)
    merged: list[Group] = []
    for group in sorted(groups.values(), key=lambda g: g.unit.start_line - g.unit.end_line):
        unit = group.unit
        assert unit is not None
        outer = next(
            (
                m
                for m in merged
                if m.unit is not None
                and m.unit.start_line <= unit.start_line
                and unit.end_line <= m.unit.end_line
            ),
            None,
        )
        if outer is not None:
            outer.hunks.extend(group.hunks)
        else:
            merged.append(group)
    return sorted([*merged, *loose], key=lambda g: min(h.ps for h in g.hunks))


def post_range(unit: CodeUnit, hunks: Sequence[Hunk], inside: Sequence[Hunk]) -> tuple[int, int]:
    """Where the unit's lines [start, end) lie after the commit."""
    start, end = unit.start_line - 1, unit.end_line
    mine = set(inside)
    before = sum(h.delta for h in hunks if h not in mine and h.pe <= start)
    within = sum(h.delta for h in mine)
    return start + before, end + before + within


def unit_edit(
    file: FileSnapshot,
    pre: list[str],
    post: list[str],
    hunks: Sequence[Hunk],
    group: Group,
    kinds: frozenset[str],
) -> tuple[EditDict | None, str, tuple[int, int]]:
    """The unit edit that reproduces ``group`` and the old lines it touches, or None and why
    none does."""
    expected = splice(pre, post, group.hunks)
    hunk = group.hunks[0]
    if group.unit is not None and "replace_unit" in kinds:
        unit = group.unit
        span = (unit.start_line - 1, unit.end_line)
        start, end = post_range(unit, hunks, group.hunks)
        if start == end:
            return _deletion(file, pre, unit, expected, kinds)
        candidate = edit("replace_unit", unit_id(file.path, unit.name), "".join(post[start:end]))
        if applies_alone(file, candidate, expected):
            return candidate, "", span
        return None, "replace_unit does not reproduce the unit", span
    if hunk.ps == hunk.pe:
        return insertion(file, pre, post, hunk, expected, kinds)
    if hunk.qs == hunk.qe:
        deleted = [u for u in file.units if hunk.ps <= u.start_line - 1 and u.end_line <= hunk.pe]
        outer = [u for u in deleted if not any(_inside(u, v) for v in deleted if v != u)]
        if len(outer) == 1 and nameable(file, outer[0]):
            return _deletion(file, pre, outer[0], expected, kinds)
    return None, outside_reason(file, pre, hunk), (hunk.ps, hunk.pe)


def _inside(unit: CodeUnit, other: CodeUnit) -> bool:
    return other.start_line <= unit.start_line and unit.end_line <= other.end_line


def _deletion(
    file: FileSnapshot, pre: list[str], unit: CodeUnit, expected: str, kinds: frozenset[str]
) -> tuple[EditDict | None, str, tuple[int, int]]:
    lo, hi = unit.start_line - 1, unit.end_line
    while lo > 0 and not pre[lo - 1].strip():
        lo -= 1
    while hi < len(pre) and not pre[hi].strip():
        hi += 1
    candidate = edit("delete_unit", unit_id(file.path, unit.name))
    if "delete_unit" in kinds and applies_alone(file, candidate, expected):
        return candidate, "", (lo, hi)
    return None, "deletes a unit", (lo, hi)


def insertion(
    file: FileSnapshot,
    pre: list[str],
    post: list[str],
    hunk: Hunk,
    expected: str,
    kinds: frozenset[str],
) -> tuple[EditDict | None, str, tuple[int, int]]:
    """``insert_unit`` after the unit the new lines follow (blank lines between allowed)."""
    point = (hunk.ps, hunk.ps)
    if "insert_unit" not in kinds or not file.units:
        return None, outside_reason(file, pre, hunk), point
    anchors: list[tuple[str, int]] = [
        (unit_id(file.path, u.name), u.end_line) for u in file.units if nameable(file, u)
    ]
    if hunk.ps == len(pre):
        anchors.append((file.path, len(pre)))
    tried = False
    for target, end in anchors:
        if end > hunk.ps or any(line.strip() for line in pre[end : hunk.ps]):
            continue
        # The product puts separator + code right after the unit, before the blank lines
        # already there: those must close the new block.
        gap = pre[end : hunk.ps]
        block = gap + post[hunk.qs : hunk.qe]
        if block[len(block) - len(gap) :] != gap:
            continue
        block = block[: len(block) - len(gap)]
        for separator in (2, 1, 0):
            if len(block) <= separator or any(line.strip() for line in block[:separator]):
                continue
            tried = True
            candidate = edit("insert_unit", target, "".join(block[separator:]))
            if applies_alone(file, candidate, expected):
                return candidate, "", (end, end)
    why = "insert_unit spacing differs" if tried else outside_reason(file, pre, hunk)
    return None, why, point


def outside_reason(file: FileSnapshot, pre: list[str], hunk: Hunk) -> str:
    """Why no unit edit fits a change outside nameable units, in a few words."""
    if not file.units:
        return "file Tandem does not slice"
    low, high = (hunk.ps - 1, hunk.ps + 1) if hunk.ps == hunk.pe else (hunk.ps, hunk.pe)
    near = [u for u in file.units if u.start_line - 1 < high and low < u.end_line]
    if any(u.name.endswith("<import>") for u in near):
        return "import block"
    if hunk.qs == hunk.qe and any(
        hunk.ps <= u.start_line - 1 and u.end_line <= hunk.pe for u in near
    ):
        return "deletes a unit"
    if any(not nameable(file, u) for u in near):
        return "unit name shared by several units"
    if near:
        return "spans several units"
    return "between units (comments, blank lines)"
