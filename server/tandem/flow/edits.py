"""Apply a draft's edits to a snapshot of the files: cleanly, or rejected with a reason.

An edit targets an exact unit range (from a tree-sitter pass over the snapshot, the same units the
slice names), an exact text that occurs once (``patch``) or a file path. Nothing is matched
loosely: a unit that does not exist, a ``patch`` whose ``old`` text is absent or ambiguous, a file
that already exists for ``new_file`` or a rename, and two edits that overlap or conflict (a
patch and a ``replace_unit`` of one unit, an edit of a file another edit deletes) are rejected,
and a rejected edit changes nothing. Edits outside the approved plan's scope are refused and
reported as scope drift, so a cheap drafter cannot quietly widen the change. An edit whose new
text holds a redaction placeholder (``<<REDACTED:...>>``, put in the prompt where a secret was) is
refused: writing it would replace the real secret. Binary and non-UTF-8 files are never edited.

Content edits of a file that is renamed target its old path (the one the drafter was shown); the
rename moves the result.
"""

from __future__ import annotations

import difflib
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import accumulate

from tandem.flow.edit_files import (
    FileSnapshot,
    Snapshot,
    files_snapshot,
    is_safe_path,
    read_repo_file,
    read_snapshot,
    snapshot_text,
    split_lines,
    take_snapshot,
    write_files,
)
from tandem.flow.edit_ops import Operation, overlaps, plan_operation
from tandem.flow.handoff import ANCHORED_KINDS, Edit, Scope, split_unit_id
from tandem.redaction.placeholders import find_placeholders
from tandem.slicing.render import elision_marker

__all__ = [
    "EditResult",
    "FileSnapshot",
    "RejectedEdit",
    "Snapshot",
    "apply_edits",
    "files_snapshot",
    "is_safe_path",
    "read_repo_file",
    "read_snapshot",
    "snapshot_text",
    "take_snapshot",
    "unified_diff",
    "write_files",
]

FILE_KINDS = ("rename_file", "delete_file")


@dataclass(frozen=True)
class RejectedEdit:
    edit: Edit
    reason: str
    scope_drift: bool = False


@dataclass
class EditResult:
    """What the edits that applied make of the files, the ones rejected, and the unified diff.

    ``files`` holds the new text of every file written (a renamed file under its new path);
    ``removed`` the files deleted or renamed away; ``renamed`` old path -> new path."""

    applied: list[Edit] = field(default_factory=list)
    rejected: list[RejectedEdit] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)
    diff: str = ""

    @property
    def scope_drift(self) -> list[RejectedEdit]:
        return [rejected for rejected in self.rejected if rejected.scope_drift]

    @property
    def touched(self) -> list[str]:
        """Every path the result writes or removes."""
        return sorted({*self.files, *self.removed})


def _units_scoped(scope: Scope, path: str) -> set[str]:
    named = (split_unit_id(unit) for unit in scope.units)
    return {name for unit_path, name in named if unit_path == path and name}


def scope_refusal(edit: Edit, scope: Scope) -> str | None:
    """Why ``edit`` lies outside the plan's scope, or None when it is inside (a patch of a path
    whose file has units in scope is checked again where it lands)."""
    path, name = split_unit_id(edit.target)
    unit_files = {split_unit_id(unit)[0] for unit in scope.units}
    files = ", ".join(scope.files) or "none"
    if edit.kind in FILE_KINDS:
        paths = [path, edit.new.strip()] if edit.kind == "rename_file" else [path]
        missing = [p for p in paths if p not in scope.files]
        return f"{', '.join(missing)} not among the plan's files ({files})" if missing else None
    if name is not None and edit.kind in ("replace_unit", "delete_unit", *ANCHORED_KINDS):
        if edit.target in scope.units:
            return None
        if path in scope.files and not _units_scoped(scope, path):
            return None
        return f"{edit.target} is not among the plan's units ({', '.join(scope.units) or 'none'})"
    if path in scope.files or path in unit_files:
        return None
    return f"{path} is not among the plan's files ({files})"


def landing_refusal(operation: Operation, file: FileSnapshot, scope: Scope) -> str | None:
    """For a patch (or insertion) of a whole file whose plan names some of its units: it must
    land inside one of them, or outside every function and class (imports, constants, other
    statements). Lines inserted between two lines may also sit right before or after a named
    unit."""
    path, name = split_unit_id(operation.edit.target)
    if operation.edit.kind not in ANCHORED_KINDS or name is not None or file.text is None:
        return None
    scoped = _units_scoped(scope, path)
    if not scoped:
        return None
    named = [unit for n in scoped if (unit := file.unit(n)) is not None]
    starts = list(accumulate(len(line) for line in split_lines(file.text)))
    first = bisect_right(starts, operation.start) + 1
    last = bisect_right(starts, max(operation.end - 1, operation.start)) + 1
    if operation.is_insert and file.text[operation.start - 1 : operation.start] in ("", "\n"):
        # Between lines first - 1 and first: inside a unit only when strictly within it.
        if any(u.start_line <= first <= u.end_line + 1 for u in named):
            return None
        hits = [u for u in file.definitions() if u.start_line < first <= u.end_line]
    elif any(u.start_line <= first and last <= u.end_line for u in named):
        return None
    else:
        hits = [u for u in file.definitions() if u.start_line <= last and first <= u.end_line]
    if not hits:
        return None
    return f"the {operation.edit.kind} changes {path}::{hits[0].name}, not among the plan's units"


def placeholder_refusal(edit: Edit, file: FileSnapshot) -> str | None:
    """Why an edit would write a redaction placeholder into the code, or None.

    A placeholder already present in the file as it was (say, in a test of redaction itself) is
    not one the model put there."""
    found = [p for p in find_placeholders(edit.new) if p not in (file.text or "")]
    if not found:
        return None
    return (
        f"the edit contains {found[0]}, a placeholder Tandem put in the prompt where a secret "
        "was; writing it would replace the real value. Make this change by hand, or keep the "
        "secret out of the code (e.g. read it from the environment)"
    )


def elision_refusal(edit: Edit, file: FileSnapshot) -> str | None:
    """Why an edit would write the slice's marker for elided lines in place of those lines."""
    marker = elision_marker(edit.new)
    if marker is None or marker in (file.text or ""):
        return None
    return (
        f"the edit contains {marker!r}, the marker the slice puts where unchanged lines were "
        "left out; writing it would erase those lines. Give the code in full"
    )


@dataclass
class _Plan:
    """The operations and file moves accepted so far."""

    operations: dict[str, list[Operation]] = field(default_factory=dict)
    created: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    moves: dict[str, str] = field(default_factory=dict)

    def claimed(self, path: str) -> str | None:
        """Why a new edit of ``path`` would conflict with a file operation already accepted."""
        if path in self.deleted:
            return f"{path} is deleted by an earlier edit"
        if path in self.moves.values():
            return f"{path} is the new name given by an earlier rename"
        return None


def _file_operation(edit: Edit, snapshot: Snapshot, plan: _Plan) -> str | None:
    """Check and record a rename or delete; the reason when refused."""
    path, name = split_unit_id(edit.target)
    file = snapshot.get(path)
    if name is not None:
        return f"{edit.kind} must target a file path, not a unit"
    if file.unreadable is not None:
        return f"{path} is {file.unreadable}; Tandem edits only UTF-8 text files: change it by hand"
    if file.text is None:
        return f"{path} does not exist in the snapshot"
    conflict = plan.claimed(path) or (
        f"{path} is renamed by an earlier edit" if path in plan.moves else None
    )
    if conflict is None and edit.kind == "delete_file" and path in plan.operations:
        conflict = f"{path} is changed by an earlier edit"
    if conflict is not None:
        return conflict
    if edit.kind == "delete_file":
        plan.deleted.add(path)
        return None
    new_path = edit.new.strip()
    if not is_safe_path(new_path):
        return f"{new_path!r} is not a repository path"
    if new_path == path:
        return "rename_file needs a new path different from the old one"
    if snapshot.get(new_path).exists:
        return f"{new_path} already exists; a rename never overwrites a file"
    if new_path in plan.created or new_path in plan.moves.values():
        return f"{new_path} is created by an earlier edit"
    plan.moves[path] = new_path
    return None


def _content_operation(edit: Edit, snapshot: Snapshot, plan: _Plan, order: int) -> str | Operation:
    path, _ = split_unit_id(edit.target)
    file = snapshot.get(path)
    conflict = plan.claimed(path)
    if conflict is not None:
        return conflict
    operation = plan_operation(edit, file, order)
    if isinstance(operation, str):
        return operation
    clash = next((op for op in plan.operations.get(path, []) if overlaps(op, operation)), None)
    if clash is not None:
        return f"overlaps an earlier edit of {clash.edit.target}"
    if not file.exists and (path in plan.created or path in plan.moves.values()):
        return f"{path} is created by an earlier edit"
    return operation


def _check(edit: Edit, snapshot: Snapshot, scope: Scope | None) -> RejectedEdit | None:
    path, _ = split_unit_id(edit.target)
    if not is_safe_path(path):
        return RejectedEdit(edit, f"{path!r} is not a repository path")
    if edit.kind == "rename_file" and not is_safe_path(edit.new.strip()):
        return RejectedEdit(edit, f"{edit.new.strip()!r} is not a repository path")
    refusal = scope_refusal(edit, scope) if scope is not None else None
    if refusal is not None:
        return RejectedEdit(edit, f"scope drift: {refusal}", scope_drift=True)
    file = snapshot.get(path)
    refusal = placeholder_refusal(edit, file) or elision_refusal(edit, file)
    return RejectedEdit(edit, refusal) if refusal is not None else None


def apply_edits(snapshot: Snapshot, edits: Sequence[Edit], scope: Scope | None) -> EditResult:
    """Apply ``edits`` to ``snapshot``; ``scope=None`` skips the scope check (no plan)."""
    result = EditResult()
    plan = _Plan()
    for order, edit in enumerate(edits):
        rejected = _check(edit, snapshot, scope)
        if rejected is not None:
            result.rejected.append(rejected)
            continue
        if edit.kind in FILE_KINDS:
            refusal = _file_operation(edit, snapshot, plan)
            if refusal is not None:
                result.rejected.append(RejectedEdit(edit, refusal))
            else:
                result.applied.append(edit)
            continue
        path, _ = split_unit_id(edit.target)
        operation = _content_operation(edit, snapshot, plan, order)
        if isinstance(operation, str):
            result.rejected.append(RejectedEdit(edit, operation))
            continue
        landing = landing_refusal(operation, snapshot.get(path), scope) if scope else None
        if landing is not None:
            result.rejected.append(RejectedEdit(edit, f"scope drift: {landing}", True))
            continue
        if not snapshot.get(path).exists:
            plan.created.add(path)
        plan.operations.setdefault(path, []).append(operation)
        result.applied.append(edit)
    _build(snapshot, plan, result)
    return result


def _build(snapshot: Snapshot, plan: _Plan, result: EditResult) -> None:
    diffs: list[str] = []
    for path in sorted({*plan.operations, *plan.moves, *plan.deleted}):
        original = snapshot.get(path).text
        text = original or ""
        # Back to front, so earlier offsets stay valid; inserts at one point keep draft order.
        ops = sorted(plan.operations.get(path, []), key=lambda o: (o.start, o.end, o.order))
        for op in reversed(ops):
            text = text[: op.start] + op.text + text[op.end :]
        if path in plan.deleted:
            result.removed.append(path)
            diffs.append(unified_diff(path, original, None))
            continue
        new_path = plan.moves.get(path, path)
        if new_path != path:
            result.removed.append(path)
            result.renamed[path] = new_path
        result.files[new_path] = text
        diffs.append(unified_diff(path, original, text, new_path=new_path))
    result.diff = "".join(diffs)


def unified_diff(path: str, before: str | None, after: str | None, new_path: str = "") -> str:
    """A git-style unified diff of one file (``/dev/null`` for a new or deleted file; a rename
    carries git's ``rename from``/``rename to`` lines)."""
    new_path = new_path or path
    head = ""
    if new_path != path:
        head = f"diff --git a/{path} b/{new_path}\nrename from {path}\nrename to {new_path}\n"
    old_name = f"a/{path}" if before is not None else "/dev/null"
    lines = difflib.unified_diff(
        split_lines(before or ""),
        split_lines(after or ""),
        fromfile=old_name,
        tofile=f"b/{new_path}" if after is not None else "/dev/null",
    )
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return head + "".join(out)
