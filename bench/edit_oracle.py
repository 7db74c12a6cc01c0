"""The edits a perfect drafter would return for one file of a real commit, in three styles.

Used by ``bench/edit_replay.py``. Given a file before and after a commit and git's hunks
(``git diff -U0``), it derives the oracle reply in Tandem's handoff:

- **units**: one ``replace_unit`` per changed unit (the innermost unit that holds the change and
  that an edit can name), ``insert_unit`` for a unit added between others, ``delete_unit`` for
  units removed outright; whatever no unit edit reproduces falls back to ``patch`` when the
  product has that kind.
- **patch**: one ``patch`` per hunk (hunks two lines apart or closer are merged), ``old`` being
  the changed lines widened by context until it occurs exactly once in its target (the innermost
  nameable unit holding it, else the file); where the hunk only adds text, ``insert_after`` or
  ``insert_before`` next to the shortest unique anchor instead, when that costs less (the
  anchor is written once, not in both ``old`` and ``new``).
- **mixed**: what the draft prompt asks for: per unit, the cheaper of its unit edit and its
  patches (in output tokens).

Every candidate is checked with the product's own edit code before it is kept: a unit edit is
used only if applying it alone to the snapshot gives exactly the file with its hunks applied.
Edits are plain dicts (``kind``, ``target``, ``old``, ``new``, ``reason``): the reply as a model
would write it, counted as compact JSON.
"""

from __future__ import annotations

import difflib
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from tandem.cost.tokens import count_tokens
from tandem.flow.edits import FileSnapshot, Snapshot, apply_edits, snapshot_text
from tandem.flow.handoff import Edit, EditKind, split_unit_id, unit_id
from tandem.slicing.codeunits import CodeUnit

KINDS = frozenset(get_args(EditKind))
"""The edit kinds the product has now."""
BASELINE_KINDS = frozenset({"replace_unit", "insert_unit", "add_test", "new_file"})
"""The kinds before issue 16: the baseline of the replay."""
REASON = "1"
"""Every oracle edit carries this reason (the prompt asks for the plan step's number), so the
styles differ only in their edits."""
MERGE_GAPS = (0, 2, 6)
"""Hunks at most this many unchanged lines apart may become one patch: each is tried, the
cheapest reply kept."""

EditDict = dict[str, Any]


@dataclass(frozen=True)
class Hunk:
    """Lines [ps, pe) of the old file become lines [qs, qe) of the new one (0-based)."""

    ps: int
    pe: int
    qs: int
    qe: int

    @property
    def delta(self) -> int:
        return (self.qe - self.qs) - (self.pe - self.ps)


def split_lines(text: str) -> list[str]:
    """Lines ending in ``\\n`` (a ``\\r\\n`` stays inside its line); the last may lack one."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def splice(pre: list[str], post: list[str], hunks: Sequence[Hunk]) -> str:
    """The old text with only ``hunks`` applied."""
    lines = list(pre)
    for hunk in sorted(hunks, key=lambda h: (h.ps, h.qs), reverse=True):
        lines[hunk.ps : hunk.pe] = post[hunk.qs : hunk.qe]
    return "".join(lines)


def edit(kind: str, target: str, new: str = "", old: str | None = None) -> EditDict:
    return {"kind": kind, "target": target, "old": old, "new": new, "reason": REASON}


def to_edit(data: EditDict) -> Edit:
    """An oracle edit as the product's model (whatever its field names are today)."""
    fields = Edit.model_fields
    value: dict[str, Any] = {"kind": data["kind"], "target": data["target"]}
    value["new" if "new" in fields else "code"] = data["new"]
    if "old" in fields:
        value["old"] = data["old"]
    value["reason"] = data["reason"]
    return Edit.model_validate(value)


def reply_tokens(edits: Sequence[EditDict]) -> int:
    """Output tokens of the reply holding ``edits`` (compact JSON, o200k)."""
    if not edits:
        return 0
    return count_tokens(json.dumps({"edits": list(edits), "notes": []}, separators=(",", ":")))


def written(old: str, new: str) -> str:
    """What of ``new`` is not copied from ``old``: the lines a line diff adds or changes, each
    changed block cut to where it starts and stops differing from the lines it replaces."""
    before, after = split_lines(old), split_lines(new)
    out = []
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        gone, came = "".join(before[i1:i2]), "".join(after[j1:j2])
        prefix = len(_common_prefix(gone, came))
        suffix = len(_common_prefix(gone[prefix:][::-1], came[prefix:][::-1]))
        out.append(came[prefix : len(came) - suffix])
    return "".join(out)


def _common_prefix(first: str, second: str) -> str:
    size = 0
    while size < min(len(first), len(second)) and first[size] == second[size]:
        size += 1
    return first[:size]


def floor_edits(edits: Sequence[EditDict], before: dict[str, str | None]) -> list[EditDict]:
    """``edits`` as if unchanged text were free: a patch keeps no ``old`` and only the new text
    of ``new``, an insertion no anchor, a ``replace_unit`` only what differs from the unit it
    replaces. What is left is what any drafter must write: new code and text, and each edit's
    kind and target."""
    out = []
    for data in edits:
        data = dict(data)
        if data["kind"] == "patch":
            data["new"], data["old"] = written(data["old"] or "", data["new"]), ""
        elif data["kind"] in INSERT_SIDES:
            data["old"] = ""
        elif data["kind"] == "replace_unit":
            path, name = split_unit_id(data["target"])
            file = snapshot_text(path, before.get(path))
            unit = file.unit(name or "")
            if unit is not None and file.text is not None:
                lines = split_lines(file.text)[unit.start_line - 1 : unit.end_line]
                data["new"] = written("".join(lines), data["new"])
        out.append(data)
    return out


def applies_alone(file: FileSnapshot, data: EditDict, expected: str) -> bool:
    """Whether the product turns the snapshot into ``expected`` with this one edit."""
    if data["kind"] not in KINDS:
        return False
    result = apply_edits(Snapshot(files={file.path: file}), [to_edit(data)], None)
    return not result.rejected and result.files.get(file.path) == expected


# ---- units ----------------------------------------------------------------------------------


def nameable(file: FileSnapshot, unit: CodeUnit) -> bool:
    """Whether an edit naming ``unit`` reaches this very unit (the first of its name)."""
    return file.unit(unit.name) == unit


def holding(file: FileSnapshot, hunk: Hunk) -> list[CodeUnit]:
    """The units that hold ``hunk`` (an insertion only when strictly inside), innermost first."""
    found = []
    for unit in file.units:
        start, end = unit.start_line - 1, unit.end_line
        inside = (
            start < hunk.ps < end if hunk.ps == hunk.pe else start <= hunk.ps and hunk.pe <= end
        )
        if inside:
            found.append(unit)
    return sorted(found, key=lambda u: u.end_line - u.start_line)


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


# ---- patches --------------------------------------------------------------------------------


def occurrences(text: str, old: str) -> int:
    """How many times ``old`` occurs in ``text``, overlaps counted, stopping at 2."""
    count, index = 0, text.find(old)
    while index != -1 and count < 2:
        count += 1
        index = text.find(old, index + 1)
    return count


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


INSERT_SIDES = ("insert_after", "insert_before")
"""The insertion kinds the oracle may use (when the product has them)."""


def insertions(region: str, offset: int, old: str, new: str, target: str) -> list[EditDict]:
    """When ``new`` is ``old`` with one run of text added: that run as ``insert_after`` /
    ``insert_before`` next to the shortest anchor of whole lines (or, on a line the insertion
    splits, words) that occurs once in ``region`` (``old`` starts there at ``offset``)."""
    grow = len(new) - len(old)
    if grow <= 0:
        return []
    prefix = len(_common_prefix(old, new))
    suffix = len(_common_prefix(old[::-1], new[::-1]))
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
            anchor = _anchor(region, at, after=kind == "insert_after")
            if anchor:
                out.append(edit(kind, target, added, anchor))
    return out


def _anchor(region: str, at: int, *, after: bool) -> str:
    """The shortest text ending (``after``) or starting at ``at`` that occurs once in
    ``region``: words of the line ``at`` splits, then whole lines."""
    for cut in _back(region, at) if after else _forward(region, at):
        anchor = region[cut:at] if after else region[at:cut]
        if occurrences(region, anchor) == 1:
            return anchor
    return ""


def _back(text: str, at: int) -> Iterator[int]:
    """Cuts left of ``at``, nearest first: word starts on ``at``'s own line (when it splits
    one), then line starts."""
    line = text.rfind("\n", 0, at) + 1
    yield from (i for i in range(at - 1, line, -1) if _word(text[i]) and not _word(text[i - 1]))
    cut = line if line < at else text.rfind("\n", 0, at - 1) + 1 if at else -1
    while cut >= 0:
        yield cut
        cut = text.rfind("\n", 0, cut - 1) + 1 if cut else -1


def _forward(text: str, at: int) -> Iterator[int]:
    """Cuts right of ``at``, nearest first: word ends on ``at``'s own line (when it splits
    one), then line ends."""
    found = text.find("\n", at)
    end = len(text) if found == -1 else found + 1
    if at and text[at - 1] != "\n":
        yield from (i for i in range(at + 1, end) if _word(text[i - 1]) and not _word(text[i]))
    cut = end if end > at else -1
    while cut > at:
        yield cut
        found = text.find("\n", cut)
        nxt = len(text) if found == -1 else found + 1
        cut = nxt if nxt > cut else -1


def _word(char: str) -> bool:
    return char.isalnum() or char == "_"


class _Cuts:
    """Where ``old`` may start or end: at any word boundary inside the lines that change
    (characters [lo, hi)), only at line boundaries in the context around them."""

    def __init__(self, text: str, lo: int, hi: int) -> None:
        self.text, self.lo, self.hi = text, lo, hi

    def _inside(self, at: int) -> bool:
        return self.lo <= at <= self.hi and self.lo < self.hi

    def start(self, a: int) -> int:
        """The last allowed start at or before ``a``."""
        text = self.text
        if not self._inside(a):
            return text.rfind("\n", 0, a) + 1 if a and text[a - 1] != "\n" else a
        while (a > self.lo and _mid_word(text, a)) or text[a - 1 : a] == "\r":
            a -= 1
        return a

    def end(self, b: int) -> int:
        """The first allowed end at or after ``b``."""
        text = self.text
        if not self._inside(b):
            if b == 0 or text[b - 1] == "\n":
                return b
            found = text.find("\n", b)
            return len(text) if found == -1 else found + 1
        while (b < self.hi and _mid_word(text, b)) or text[b - 1 : b] == "\r":
            b += 1
        return b

    def wider_start(self, a: int) -> int:
        """One step left of ``a``: a word, a run of blanks or one other character inside the
        changed lines, a whole line in the context."""
        text = self.text
        if a == 0:
            return 0
        if not self._inside(a - 1):
            return text.rfind("\n", 0, a - 1) + 1
        kind = _kind(text[a - 1])
        a -= 1
        while kind and a > self.lo and _kind(text[a - 1]) == kind:
            a -= 1
        return self.start(a)

    def wider_end(self, b: int) -> int:
        text = self.text
        if b == len(text):
            return b
        if not self._inside(b + 1):
            found = text.find("\n", b)
            return len(text) if found == -1 else found + 1
        kind = _kind(text[b])
        b += 1
        while kind and b < self.hi and _kind(text[b]) == kind:
            b += 1
        return self.end(b)


def _mid_word(text: str, at: int) -> bool:
    return 0 < at < len(text) and _word(text[at - 1]) and _word(text[at])


def _kind(char: str) -> str:
    """Characters that make one step together: a word, a run of blanks (not a line break)."""
    if _word(char):
        return "word"
    return "blank" if char in " \t" else ""


def shortest_old(
    region: str, offset: int, old: str, new: str, changed: tuple[int, int]
) -> tuple[int, int]:
    """The span [a, b) of ``old`` to send: it holds every character that differs from
    ``new``, is not empty, occurs exactly once in ``region`` (where ``old`` starts at
    ``offset``), and cuts only word boundaries of the changed lines (``old``'s characters
    ``changed``) or whole lines of context."""
    prefix, limit = 0, min(len(old), len(new))
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    cuts = _Cuts(old, *changed)
    a, b = cuts.start(prefix), cuts.end(len(old) - suffix)
    left = True
    while b <= a or occurrences(region, old[a:b]) != 1 or region.find(old[a:b]) != offset + a:
        if a == 0 and b == len(old):
            break
        if (left and a > 0) or b == len(old):
            a = cuts.wider_start(a)
        else:
            b = cuts.wider_end(b)
        left = not left
    return a, b


# ---- one file -------------------------------------------------------------------------------


@dataclass
class FileEdits:
    """The oracle's edits of one file in each style; ``miss`` says why a style has none."""

    units: list[EditDict] | None = None
    patch: list[EditDict] | None = None
    mixed: list[EditDict] | None = None
    whole: list[EditDict] = field(default_factory=list)
    miss: dict[str, str] = field(default_factory=dict)
    replaced: list[tuple[int, int]] = field(default_factory=list)
    """(tokens of a replace_unit, tokens of the patches making the same change), per unit
    changed in place."""


def modified_file(
    file: FileSnapshot, post_text: str, hunks: Sequence[Hunk], kinds: frozenset[str]
) -> FileEdits:
    """The three styles for a file changed in place (its hunks from ``git diff -U0``): for
    each, the cheapest reply over the ways of grouping hunks into patches, and with or without
    ``insert_unit`` for lines added between units, that reproduces the file."""
    best: FileEdits | None = None
    for gap in MERGE_GAPS:
        for inserts in (False, True):
            made = _modified_file(file, post_text, hunks, kinds, gap, inserts)
            best = made if best is None else _cheapest(best, made, file, post_text)
    assert best is not None
    return best


def _cheapest(first: FileEdits, second: FileEdits, file: FileSnapshot, post: str) -> FileEdits:
    """Per style, the cheaper of two replies that reproduce ``post`` (the first on a tie)."""
    out = first
    for style in ("units", "patch", "mixed"):
        mine, theirs = getattr(first, style), getattr(second, style)
        if theirs is None or not _reproduces(file, theirs, post):
            continue
        if mine is None or reply_tokens(theirs) < reply_tokens(mine):
            out = _with(out, style, theirs, second)
    return out


def _with(base: FileEdits, style: str, edits: list[EditDict], source: FileEdits) -> FileEdits:
    copy = FileEdits(base.units, base.patch, base.mixed, base.whole, dict(base.miss))
    copy.replaced = source.replaced if style == "mixed" else base.replaced
    setattr(copy, style, edits)
    copy.miss.pop(style, None)
    return copy


def _reproduces(file: FileSnapshot, edits: list[EditDict], post: str) -> bool:
    if any(e["kind"] not in KINDS for e in edits):
        return False
    result = apply_edits(Snapshot(files={file.path: file}), [to_edit(e) for e in edits], None)
    return not result.rejected and result.files.get(file.path) == post


def _modified_file(
    file: FileSnapshot,
    post_text: str,
    hunks: Sequence[Hunk],
    kinds: frozenset[str],
    gap: int,
    inserts: bool,
) -> FileEdits:
    pre = split_lines(file.text or "")
    post = split_lines(post_text)
    out = FileEdits(whole=[edit("new_file", file.path, post_text)])
    after = snapshot_text(file.path, post_text)
    hunks = split_hunks(file, after, hunks)
    made = patches(file, pre, post, hunks, gap)
    usable = made if made is not None and "patch" in kinds else []
    edits = [
        _patch_or_insert(file, pre, post, p, kinds if inserts else frozenset()) for p in usable
    ]
    out.patch = [patch_edit(pre, post, p) for p in made] if made is not None else None
    if made is None:
        out.miss["patch"] = "no unique context"
    groups = unit_groups(file, after, hunks)
    found = [unit_edit(file, pre, post, hunks, group, kinds) for group in groups]
    cover = [{i for i, p in enumerate(usable) if set(p.parts) & set(g.hunks)} for g in groups]
    cheaper = {
        g
        for g, (candidate, _, _) in enumerate(found)
        if candidate is not None
        and cover[g]
        and reply_tokens([edits[i] for i in sorted(cover[g])]) < reply_tokens([candidate])
    }
    for (candidate, _, _), ids in zip(found, cover, strict=True):
        if candidate is not None and candidate["kind"] == "replace_unit" and ids:
            alternative = [edits[i] for i in sorted(ids)]
            out.replaced.append((reply_tokens([candidate]), reply_tokens(alternative)))
    for style, prefer in (("units", set()), ("mixed", cheaper)):
        chosen = _select(found, cover, usable, prefer)
        if isinstance(chosen, str):
            out.miss[style] = chosen
            continue
        unit_edits, patch_ids = chosen
        setattr(out, style, [*unit_edits, *(edits[i] for i in sorted(patch_ids))])
    return out


def _patch_or_insert(
    file: FileSnapshot, pre: list[str], post: list[str], patch: Patch, kinds: frozenset[str]
) -> EditDict:
    """The patch, or an ``insert_unit`` after the unit the added lines follow when that
    reproduces the same lines and costs less (it needs no anchor text)."""
    made = patch_edit(pre, post, patch)
    hunk = patch.hunk
    if hunk.ps != hunk.pe or "insert_unit" not in kinds:
        return made
    candidate, _, _ = insertion(file, pre, post, hunk, splice(pre, post, [hunk]), kinds)
    if candidate is not None and reply_tokens([candidate]) < reply_tokens([made]):
        return candidate
    return made


Found = tuple[EditDict | None, str, tuple[int, int]]


def _select(
    found: Sequence[Found], cover: Sequence[set[int]], usable: Sequence[Patch], prefer: set[int]
) -> tuple[list[EditDict], set[int]] | str:
    """Unit edits for the groups that keep one, patches for the rest: a group whose patches
    also carry another group's hunks, or reach into its unit, takes that group along."""
    use = {g for g, (candidate, _, _) in enumerate(found) if candidate is None} | prefer
    while True:
        patch_ids = set().union(*(cover[g] for g in use)) if use else set()
        more = {
            g
            for g in range(len(found))
            if g not in use
            and (cover[g] & patch_ids or any(_touches(usable[i], found[g][2]) for i in patch_ids))
        }
        if not more:
            break
        use |= more
    for g in sorted(use):
        if not cover[g]:
            return found[g][1] or "patch kind missing"
    return [found[g][0] for g in range(len(found)) if g not in use], patch_ids  # type: ignore[misc]


def _touches(patch: Patch, span: tuple[int, int]) -> bool:
    lo, hi = span
    if lo == hi:
        return patch.lo < lo < patch.hi
    return patch.lo < hi and lo < patch.hi
