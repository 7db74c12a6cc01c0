"""The code units a change touches: the unit around each changed or removed line."""

from __future__ import annotations

from tandem.slicing.changes import Change
from tandem.slicing.diff import Deletion
from tandem.slicing.records import FileRecord
from tandem.slicing.units import Unit, is_test_file

# A line inside a function is the function's, not its class's or the module statement's.
_KIND_RANK = {"function": 0, "class": 1, "statement": 2}


def touched_units(changes: list[Change], records: dict[str, FileRecord]) -> list[tuple[str, Unit]]:
    """The units holding changed lines; inline test code only when nothing else changed."""
    primary: list[tuple[str, Unit]] = []
    fallback: list[tuple[str, Unit]] = []
    for change in changes:
        rec = records.get(change.path)
        if rec is None:
            continue
        chosen: dict[int, Unit] = {}
        for line in sorted(change.lines):
            unit = _best_unit(rec.units_around(line, line), [line])
            if unit is not None:
                chosen[id(unit)] = unit
        for deletion in sorted(change.deletions, key=lambda d: d.point):
            around = rec.units_around(deletion.point - 1, deletion.point)
            unit = _best_unit(around, [deletion.point - 1, deletion.point])
            if unit is None:
                unit = _unit_that_lost(rec, deletion)
            if unit is not None:
                chosen[id(unit)] = unit
        test_file = is_test_file(rec.path, rec.language)
        for unit in sorted(chosen.values(), key=lambda u: (u.start_line, u.name)):
            in_test = not test_file and _is_inline_test_code(unit, rec)
            (fallback if in_test else primary).append((change.path, unit))
    return primary or fallback


def _is_inline_test_code(unit: Unit, rec: FileRecord) -> bool:
    """A test, or code of a test module; not a ``#[cfg(test)]`` method of a production type,
    which is part of that type (compiled for its tests, but changed with it)."""
    if not unit.in_test_region:
        return False
    if unit.is_test or not unit.container:
        return True
    test_modules = [u.name for u in rec.units if u.kind == "class" and u.in_test_region]
    return any(
        unit.name.startswith(f"{module}::") or unit.name == module for module in test_modules
    )


def _unit_that_lost(rec: FileRecord, deletion: Deletion) -> Unit | None:
    """The unit that held removed lines where the new side no longer shows a unit around them.

    A run removed from the end of an indented body (Python's trailing ``return None``) sits after
    the unit's last line; removed decorators or attributes sit just before its first line. The
    removed text's own shape tells which: deeper indentation than the unit's first line, or a
    leading ``@`` / ``#[``.
    """
    removed = [line for line in deletion.lines if line.strip()]
    if not removed:
        return None
    lines = rec.lines()
    before = deletion.point - 1
    while before >= 1 and before <= len(lines) and not lines[before - 1].strip():
        before -= 1
    first = removed[0]
    depth = len(first) - len(first.lstrip())
    decorated = (
        _next_code_line(lines, deletion.point)
        if removed[-1].lstrip().startswith(("@", "#["))
        else None
    )
    for unit in sorted(rec.units, key=lambda u: (_KIND_RANK.get(u.kind, 3), -u.start_line)):
        header = lines[unit.start_line - 1] if unit.start_line <= len(lines) else ""
        header_depth = len(header) - len(header.lstrip())
        # A class unit is its header only: lines under it were members, units of their own.
        if unit.kind != "class" and unit.end_line == before and depth > header_depth:
            return unit
        if unit.start_line == decorated:
            return unit
    return None


def _next_code_line(lines: list[str], line: int) -> int:
    while line <= len(lines) and not lines[line - 1].strip():
        line += 1
    return line


def _best_unit(units: list[Unit], lines: list[int]) -> Unit | None:
    best: Unit | None = None
    for unit in units:
        if all(unit.contains(line) for line in lines) and (
            best is None or _KIND_RANK.get(unit.kind, 3) < _KIND_RANK.get(best.kind, 3)
        ):
            best = unit
    return best
