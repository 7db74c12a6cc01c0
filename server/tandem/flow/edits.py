"""Apply a draft's edits to a snapshot of the files: cleanly, or rejected with a reason.

An edit targets an exact unit range (from a tree-sitter pass over the snapshot, the same units the
slice names) or a file path. Nothing is patched by fuzzy matching: a unit that does not exist, a
file that already exists for ``new_file``, or two edits that overlap are rejected. Edits outside
the approved plan's scope are refused and reported as scope drift, so a cheap drafter cannot
quietly widen the change. An edit whose code holds a redaction placeholder (``<<REDACTED:...>>``,
put in the prompt where a secret was) is refused: writing it would replace the real secret.
"""

from __future__ import annotations

import difflib
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from tandem.flow.handoff import Edit, Scope, split_unit_id
from tandem.redaction.placeholders import find_placeholders
from tandem.slicing.codeunits import CodeUnit, find_units, language_for


@dataclass(frozen=True)
class FileSnapshot:
    """One file as it was when the task began; ``text`` is None when it does not exist."""

    path: str
    text: str | None
    units: tuple[CodeUnit, ...] = ()

    def unit(self, name: str) -> CodeUnit | None:
        """The unit called ``name``; where two share it (a property's getter and setter), the
        first in the file, which is also the one the drafter is shown."""
        return next((unit for unit in self.units if unit.name == name), None)

    def definitions(self) -> list[CodeUnit]:
        """The functions and classes (statements left out), as named to a model."""
        return [unit for unit in self.units if unit.is_definition]


@dataclass(frozen=True)
class Snapshot:
    files: dict[str, FileSnapshot]

    def get(self, path: str) -> FileSnapshot:
        return self.files.get(path, FileSnapshot(path=path, text=None))


def snapshot_text(path: str, text: str | None) -> FileSnapshot:
    """A file snapshot with its units found by tree-sitter (none for unsupported languages)."""
    language = language_for(path)
    units = tuple(find_units(text, language, path)) if text is not None and language else ()
    return FileSnapshot(path=path, text=text, units=units)


def take_snapshot(repo: Path, paths: Iterable[str]) -> Snapshot:
    """Read each repository-relative path (missing files are recorded as absent)."""
    files: dict[str, FileSnapshot] = {}
    for path in sorted(set(paths)):
        if not is_safe_path(path):
            continue
        file = repo / path
        text = file.read_text(encoding="utf-8") if file.is_file() else None
        files[path] = snapshot_text(path, text)
    return files_snapshot(files)


def files_snapshot(files: dict[str, FileSnapshot]) -> Snapshot:
    return Snapshot(files=dict(files))


def is_safe_path(path: str) -> bool:
    """Repository-relative, forward slashes, never escaping the root."""
    if not path or path.startswith("/") or "\\" in path or ":" in path.split("/")[0]:
        return False
    return ".." not in PurePosixPath(path).parts


@dataclass(frozen=True)
class RejectedEdit:
    edit: Edit
    reason: str
    scope_drift: bool = False


@dataclass
class EditResult:
    """New file texts for the edits that applied, the ones rejected, and the unified diff."""

    applied: list[Edit] = field(default_factory=list)
    rejected: list[RejectedEdit] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    diff: str = ""

    @property
    def scope_drift(self) -> list[RejectedEdit]:
        return [rejected for rejected in self.rejected if rejected.scope_drift]


def scope_refusal(edit: Edit, scope: Scope) -> str | None:
    """Why ``edit`` lies outside the plan's scope, or None when it is inside."""
    path, _ = split_unit_id(edit.target)
    scoped_units = [split_unit_id(unit) for unit in scope.units]
    unit_files = {unit_path for unit_path, _ in scoped_units}
    named_in_file = {unit_name for unit_path, unit_name in scoped_units if unit_path == path}
    if edit.kind == "replace_unit":
        if edit.target in scope.units:
            return None
        if path in scope.files and not named_in_file:
            return None
        return f"{edit.target} is not among the plan's units ({', '.join(scope.units) or 'none'})"
    if path in scope.files or path in unit_files:
        return None
    return f"{path} is not among the plan's files ({', '.join(scope.files) or 'none'})"


@dataclass(frozen=True)
class _Operation:
    """Replace lines [start, end) (0-based) of a file with ``lines``."""

    start: int
    end: int
    lines: list[str]
    order: int
    edit: Edit


def _code_lines(code: str) -> list[str]:
    text = code if code.endswith("\n") else code + "\n"
    return text.splitlines(keepends=True)


def _indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _fit_indent(code: str, indent: str) -> str:
    """Indent ``code`` to ``indent`` when it came back flush left (a common model slip for
    methods): dedent it, then indent every non-blank line. Code already indented is kept."""
    first = next((line for line in code.splitlines() if line.strip()), "")
    if not indent or _indent_of(first) == indent:
        return code
    return textwrap.indent(textwrap.dedent(code), indent)


def _separator(path: str, code: str, *, nested: bool) -> list[str]:
    """Blank lines before an inserted unit: PEP 8's two at Python top level, else one."""
    top_level = not code[:1].isspace()
    count = 2 if language_for(path) == "python" and top_level and not nested else 1
    return ["\n"] * count


def _plan_operation(edit: Edit, file: FileSnapshot, order: int) -> _Operation | str:
    """The line operation an edit stands for, or why it cannot apply to this snapshot."""
    path, name = split_unit_id(edit.target)
    if not edit.code.strip():
        return "the edit has no code"
    if edit.kind == "new_file":
        if name is not None:
            return "new_file must target a path, not a unit"
        if file.text is not None:
            return f"{path} already exists; use replace_unit or insert_unit"
        return _Operation(0, 0, _code_lines(edit.code), order, edit)
    if edit.kind == "add_test" and file.text is None:
        if name is not None:
            return f"{path} does not exist, so it has no unit {name}"
        return _Operation(0, 0, _code_lines(edit.code), order, edit)
    if file.text is None:
        return f"{path} does not exist in the snapshot"
    lines = file.text.splitlines(keepends=True)
    if edit.kind == "replace_unit":
        if name is None:
            return "replace_unit must target a unit id (path::name)"
        unit = file.unit(name)
        if unit is None:
            known = ", ".join(u.name for u in file.definitions()) or "none"
            return f"{path} has no unit {name} (units: {known})"
        original = lines[unit.start_line - 1]
        code = _fit_indent(edit.code, _indent_of(original))
        return _Operation(unit.start_line - 1, unit.end_line, _code_lines(code), order, edit)
    # insert_unit / add_test: after a unit, or at the end of the file.
    if name is not None:
        unit = file.unit(name)
        if unit is None:
            return f"{path} has no unit {name} to insert after"
        position = unit.end_line
        nested = bool(unit.container)
        code = _fit_indent(edit.code, _indent_of(lines[unit.start_line - 1]))
    else:
        position = len(lines)
        nested = False
        code = edit.code
    new = _separator(path, code, nested=nested) + _code_lines(code)
    if position == len(lines) and lines and not lines[-1].endswith("\n"):
        new = ["\n", *new]
    return _Operation(position, position, new, order, edit)


def placeholder_refusal(edit: Edit, file: FileSnapshot) -> str | None:
    """Why an edit would write a redaction placeholder into the code, or None.

    A placeholder already present in the file as it was (say, in a test of redaction itself) is
    not one the model put there."""
    found = [p for p in find_placeholders(edit.code) if p not in (file.text or "")]
    if not found:
        return None
    return (
        f"the edit contains {found[0]}, a placeholder Tandem put in the prompt where a secret "
        "was; writing it would replace the real value. Make this change by hand, or keep the "
        "secret out of the code (e.g. read it from the environment)"
    )


def _overlaps(first: _Operation, second: _Operation) -> bool:
    if first.start == first.end or second.start == second.end:
        return False  # inserts never overlap; they stack in draft order
    return first.start < second.end and second.start < first.end


def apply_edits(snapshot: Snapshot, edits: Sequence[Edit], scope: Scope | None) -> EditResult:
    """Apply ``edits`` to ``snapshot``; ``scope=None`` skips the scope check (no plan)."""
    result = EditResult()
    planned: dict[str, list[_Operation]] = {}
    for order, edit in enumerate(edits):
        path, _ = split_unit_id(edit.target)
        if not is_safe_path(path):
            result.rejected.append(RejectedEdit(edit, f"{path!r} is not a repository path"))
            continue
        refusal = scope_refusal(edit, scope) if scope is not None else None
        if refusal is not None:
            result.rejected.append(RejectedEdit(edit, f"scope drift: {refusal}", scope_drift=True))
            continue
        placeholder = placeholder_refusal(edit, snapshot.get(path))
        if placeholder is not None:
            result.rejected.append(RejectedEdit(edit, placeholder))
            continue
        operation = _plan_operation(edit, snapshot.get(path), order)
        if isinstance(operation, str):
            result.rejected.append(RejectedEdit(edit, operation))
            continue
        clash = next((op for op in planned.get(path, []) if _overlaps(op, operation)), None)
        if clash is not None:
            reason = f"overlaps an earlier edit of {clash.edit.target}"
            result.rejected.append(RejectedEdit(edit, reason))
            continue
        creates = operation.start == operation.end == 0 and snapshot.get(path).text is None
        if creates and any(op.start == op.end == 0 for op in planned.get(path, [])):
            result.rejected.append(RejectedEdit(edit, f"{path} is created by an earlier edit"))
            continue
        planned.setdefault(path, []).append(operation)
        result.applied.append(edit)
    diffs: list[str] = []
    for path in sorted(planned):
        original = snapshot.get(path).text
        lines = (original or "").splitlines(keepends=True)
        # Bottom-up, so earlier line numbers stay valid; same-point inserts keep draft order.
        for op in sorted(planned[path], key=lambda o: (o.start, o.end, o.order), reverse=True):
            lines[op.start : op.end] = op.lines
        text = "".join(lines)
        result.files[path] = text
        diffs.append(unified_diff(path, original, text))
    result.diff = "".join(diffs)
    return result


def unified_diff(path: str, before: str | None, after: str) -> str:
    """A git-style unified diff of one file (``/dev/null`` for a new file)."""
    old_name = f"a/{path}" if before is not None else "/dev/null"
    lines = difflib.unified_diff(
        (before or "").splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=old_name,
        tofile=f"b/{path}",
    )
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def write_files(repo: Path, files: dict[str, str]) -> list[str]:
    """Write edited files under ``repo``; returns the paths written."""
    written: list[str] = []
    for path, text in sorted(files.items()):
        if not is_safe_path(path):
            continue
        target = repo / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        written.append(path)
    return written
