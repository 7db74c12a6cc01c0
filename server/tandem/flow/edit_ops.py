"""What one content edit does to one file: a character range replaced, or why it cannot apply.

Unit edits (``replace_unit``, ``insert_unit``, ``add_test``, ``delete_unit``) work on the exact
line range of a unit; ``patch`` replaces the exact text ``old`` with ``new`` inside a unit or a
whole file, and only when ``old`` occurs there exactly once: nothing is matched loosely.
``insert_after`` and ``insert_before`` find ``old`` the same way but keep it, adding ``new`` right
after or right before it (so an insertion costs its anchor once, not twice). When ``old`` does
not match, the refusal says how many times it occurs and, when the only difference is
whitespace, line endings or the file's missing final newline, says so.

Line endings follow the file: in a file whose every line ends in ``\\r\\n`` the edit's text is
written with ``\\r\\n`` (and ``old`` is looked for with them); other files get the text as given.
A file without a final newline keeps lacking one when its last unit is replaced or deleted.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

from tandem.flow.edit_files import FileSnapshot, split_lines
from tandem.flow.handoff import ANCHORED_KINDS, Edit, split_unit_id
from tandem.redaction.placeholders import find_placeholders
from tandem.slicing.codeunits import CodeUnit, language_for


@dataclass(frozen=True)
class Operation:
    """Replace characters [start, end) of the file's text with ``text`` (start == end: insert)."""

    start: int
    end: int
    text: str
    order: int
    edit: Edit

    @property
    def is_insert(self) -> bool:
        return self.start == self.end


def overlaps(first: Operation, second: Operation) -> bool:
    """Two replaced ranges that share a character, or an insert strictly inside a replaced range
    (inserts at one point stack in draft order)."""
    if first.is_insert and second.is_insert:
        return False
    if first.is_insert:
        return second.start < first.start < second.end
    if second.is_insert:
        return first.start < second.start < first.end
    return first.start < second.end and second.start < first.end


def file_eol(text: str) -> str:
    """``\\r\\n`` when every line of ``text`` ends with it, else ``\\n``."""
    breaks = text.count("\n")
    return "\r\n" if breaks and text.count("\r\n") == breaks else "\n"


def with_eol(code: str, eol: str) -> str:
    return code if eol == "\n" else code.replace("\r\n", "\n").replace("\n", eol)


def _indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _fit_indent(code: str, indent: str) -> str:
    """Indent ``code`` to ``indent`` when it came back flush left (a common model slip for
    methods): dedent it, then indent every non-blank line. Code already indented is kept."""
    first = next((line for line in code.splitlines() if line.strip()), "")
    if not indent or _indent_of(first) == indent:
        return code
    return textwrap.indent(textwrap.dedent(code), indent)


def _with_newline(code: str) -> str:
    return code if code.endswith("\n") else code + "\n"


def _separator(path: str, code: str, *, nested: bool) -> str:
    """Blank lines before an inserted unit: PEP 8's two at Python top level, else one."""
    top_level = not code[:1].isspace()
    return "\n\n" if language_for(path) == "python" and top_level and not nested else "\n"


class _Lines:
    """A file's lines and the character offset where each starts."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = split_lines(text)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))
        self.eol = file_eol(text)

    def unit_span(self, unit: CodeUnit) -> tuple[int, int]:
        return self.starts[unit.start_line - 1], self.starts[min(unit.end_line, len(self.lines))]

    def ends_without_newline(self) -> bool:
        return bool(self.text) and not self.text.endswith("\n")


def plan_operation(edit: Edit, file: FileSnapshot, order: int) -> Operation | str:
    """The character operation a content edit stands for, or why it cannot apply."""
    path, name = split_unit_id(edit.target)
    if file.unreadable is not None:
        return f"{path} is {file.unreadable}; Tandem edits only UTF-8 text files: change it by hand"
    if edit.kind == "new_file":
        if name is not None:
            return "new_file must target a path, not a unit"
        if file.text is not None:
            return f"{path} already exists; use patch or replace_unit to change it"
        return Operation(0, 0, edit.new, order, edit)
    if edit.kind in ("replace_unit", "insert_unit", "add_test") and not edit.new.strip():
        hint = "; to remove a unit use delete_unit" if edit.kind == "replace_unit" else ""
        return f"the edit has no code{hint}"
    if edit.kind == "add_test" and file.text is None:
        if name is not None:
            return f"{path} does not exist, so it has no unit {name}"
        return Operation(0, 0, _with_newline(edit.new), order, edit)
    if file.text is None:
        new = "; use new_file to create it" if edit.kind == "patch" and name is None else ""
        return f"{path} does not exist in the snapshot{new}"
    lines = _Lines(file.text)
    if edit.kind in ANCHORED_KINDS:
        return _patch(edit, file, lines, order)
    if name is None and edit.kind in ("replace_unit", "delete_unit"):
        return f"{edit.kind} must target a unit id (path::name)"
    unit = file.unit(name) if name is not None else None
    if name is not None and unit is None:
        known = ", ".join(u.name for u in file.definitions()) or "none"
        return f"{path} has no unit {name} (units: {known})"
    if edit.kind == "replace_unit":
        assert unit is not None
        return _replace(edit, unit, lines, order)
    if edit.kind == "delete_unit":
        assert unit is not None
        return _delete(edit, unit, lines, order)
    return _insert(edit, unit, lines, order)


def _replace(edit: Edit, unit: CodeUnit, lines: _Lines, order: int) -> Operation:
    start, end = lines.unit_span(unit)
    code = _fit_indent(edit.new, _indent_of(lines.lines[unit.start_line - 1]))
    code = with_eol(_with_newline(code), lines.eol)
    if end == len(lines.text) and lines.ends_without_newline():
        code = code.removesuffix(lines.eol)
    return Operation(start, end, code, order, edit)


def _insert(edit: Edit, unit: CodeUnit | None, lines: _Lines, order: int) -> Operation:
    """insert_unit / add_test: after a unit, or at the end of the file."""
    path = split_unit_id(edit.target)[0]
    if unit is not None:
        position = lines.starts[min(unit.end_line, len(lines.lines))]
        nested = bool(unit.container)
        code = _fit_indent(edit.new, _indent_of(lines.lines[unit.start_line - 1]))
    else:
        position, nested, code = len(lines.text), False, edit.new
    text = _separator(path, code, nested=nested) + _with_newline(code)
    if position == len(lines.text) and lines.ends_without_newline():
        text = "\n" + text
    return Operation(position, position, with_eol(text, lines.eol), order, edit)


_CLOSING = ("}", ")", "]")


def _delete(edit: Edit, unit: CodeUnit, lines: _Lines, order: int) -> Operation:
    """The unit's lines and one run of blank lines beside it: the run after it when a sibling
    follows, else (last in its block or file) the run before it."""
    rows = lines.lines
    first, last = unit.start_line - 1, min(unit.end_line, len(rows))
    after = last
    while after < len(rows) and not rows[after].strip():
        after += 1
    before = first
    while before > 0 and not rows[before - 1].strip():
        before -= 1
    indent = len(_indent_of(rows[first]))
    sibling = (
        after < len(rows)
        and len(_indent_of(rows[after])) >= indent
        and not rows[after].strip().startswith(_CLOSING)
    )
    start, end = (first, after) if sibling else (before, last)
    return Operation(lines.starts[start], lines.starts[end], "", order, edit)


def count_occurrences(text: str, old: str) -> int:
    """Occurrences of ``old`` in ``text``, overlapping ones included."""
    count, index = 0, text.find(old)
    while index != -1:
        count += 1
        index = text.find(old, index + 1)
    return count


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _patch(edit: Edit, file: FileSnapshot, lines: _Lines, order: int) -> Operation | str:
    path, name = split_unit_id(edit.target)
    old = edit.old or ""
    if not old:
        if edit.kind != "patch":
            return f"{edit.kind} needs the exact current text to add next to in old"
        return (
            "patch needs the exact current text to replace in old (to add a unit use "
            "insert_unit, to add a file new_file)"
        )
    if edit.kind != "patch" and not edit.new:
        return f"{edit.kind} has nothing to add in new"
    start, end = 0, len(lines.text)
    if name is not None:
        unit = file.unit(name)
        if unit is None:
            known = ", ".join(u.name for u in file.definitions()) or "none"
            return f"{path} has no unit {name} (units: {known})"
        start, end = lines.unit_span(unit)
    region = lines.text[start:end]
    wanted = with_eol(old, lines.eol)
    found = count_occurrences(region, wanted)
    if found == 1:
        index = start + region.index(wanted)
        end = index + len(wanted)
        text = with_eol(edit.new, lines.eol)
        if edit.kind == "insert_after":
            index = end
        elif edit.kind == "insert_before":
            end = index
        return Operation(index, end, text, order, edit)
    where = edit.target
    if found > 1:
        return (
            f"old occurs {found} times in {where}; include more of the surrounding lines so it "
            "occurs exactly once"
        )
    return f"old does not occur in {where} (0 occurrences){_miss_hint(old, wanted, region, lines)}"


def _miss_hint(old: str, wanted: str, region: str, lines: _Lines) -> str:
    """Why an exact text was not found, when a plain reason is visible."""
    if find_placeholders(old):
        return (
            "; old holds a redaction placeholder, but the file holds the real value there: "
            "make this change by hand"
        )
    if wanted.endswith("\n") and region.endswith(wanted.removesuffix(lines.eol)):
        return "; the file has no newline at its end: leave it out of old"
    if _squeezed(wanted) and _squeezed(wanted) in _squeezed(region):
        return (
            "; it matches only if whitespace is ignored (tabs, spaces or line endings differ): "
            "copy the text exactly as shown"
        )
    if count_occurrences(lines.text, wanted) and region != lines.text:
        return "; it occurs elsewhere in the file: target the file path or the unit that holds it"
    return ""
