"""The oracle's common ground: edit kinds, git hunks, edits as a model writes them, their cost."""

from __future__ import annotations

import difflib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from edit_quotes import common_prefix
from tandem.cost.tokens import count_tokens
from tandem.flow.edits import FileSnapshot, Snapshot, apply_edits, snapshot_text
from tandem.flow.handoff import Edit, EditKind, split_unit_id
from tandem.slicing.codeunits import CodeUnit

KINDS = frozenset(get_args(EditKind))
"""The edit kinds the product has now."""
BASELINE_KINDS = frozenset({"replace_unit", "insert_unit", "add_test", "new_file"})
"""The kinds before issue 16: the baseline of the replay."""
REASON = "1"
"""Every oracle edit carries this reason (the prompt asks for the plan step's number), so the
styles differ only in their edits."""
INSERT_SIDES = ("insert_after", "insert_before")
"""The insertion kinds the oracle may use (when the product has them)."""
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
        prefix = len(common_prefix(gone, came))
        suffix = len(common_prefix(gone[prefix:][::-1], came[prefix:][::-1]))
        out.append(came[prefix : len(came) - suffix])
    return "".join(out)


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
