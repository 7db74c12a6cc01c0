"""A draft's edits as a ``WorkspaceEdit``, sent only onto the text they were computed for.

The draft's edits address units by name (``path::name``), so they are applied (with the core's
:func:`~tandem.flow.edits.apply_edits`) to the text each target has when a delivery is prepared: the
buffer of an open document, else the file on disk. A :class:`Delivery` remembers that base text
and the document version, and :func:`check_delivery` refuses it when any target changed since:
text the user typed while the model was drafting is never overwritten. Re-applying a kept draft
prepares a new delivery on the current text.

A second draft replaces the first one entirely: for a target still holding the text the first
draft produced (or the original), the second draft is applied to the original snapshot, so its
edits are not stacked on the first draft's.

Only lsprotocol value types and the task's files here, no server: everything is tested as plain
functions.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

from lsprotocol import types

from tandem.flow.apply import drafted_texts
from tandem.flow.edits import Snapshot, apply_edits, is_safe_path, snapshot_text
from tandem.flow.handoff import Edit, Scope, split_unit_id
from tandem.flow.taskstore import TaskStore

LABEL = "Tandem draft"

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


@dataclass(frozen=True)
class DocState:
    """A target as it is now: ``text`` None when the file does not exist, ``version`` None when
    the document is not open in the editor (its text is then the file on disk)."""

    path: str
    uri: str
    text: str | None
    version: int | None = None


ReadDoc = Callable[[str], DocState]


@dataclass(frozen=True)
class FileChange:
    """One file's change: ``new_text`` None deletes it; ``new_path`` renames it (to
    ``new_uri``), after its text is changed in place."""

    path: str
    uri: str
    version: int | None
    old_text: str | None
    new_text: str | None
    reasons: tuple[str, ...] = ()
    new_path: str | None = None
    new_uri: str | None = None


@dataclass(frozen=True)
class Delivery:
    task_id: str
    round: int
    changes: tuple[FileChange, ...]
    applied_edits: int
    refused: tuple[str, ...] = ()


def prepare_delivery(
    task_id: str,
    round_: int,
    edits: list[Edit],
    scope: Scope,
    read: ReadDoc,
    *,
    original: Mapping[str, str | None] | None = None,
    first_draft: Mapping[str, str | None] | None = None,
) -> Delivery:
    """The edits applied to the targets' current text (see the module docstring for round 2)."""
    targets = {split_unit_id(e.target)[0] for e in edits}
    targets |= {e.new.strip() for e in edits if e.kind == "rename_file"}
    states = {path: read(path) for path in sorted(targets) if is_safe_path(path)}
    sources: dict[str, str | None] = {}
    for path, state in states.items():
        source = state.text
        if original is not None and first_draft is not None and path in original:
            base = original[path]
            source = base if state.text in (base, first_draft.get(path, base)) else state.text
        sources[path] = source
    snapshot = Snapshot(files={path: snapshot_text(path, text) for path, text in sources.items()})
    result = apply_edits(snapshot, edits, scope)
    moved_to = set(result.renamed.values())
    changes = []
    for path in sorted({*result.files, *result.removed} - moved_to):
        state = states[path]
        new_path = result.renamed.get(path)
        new_text = result.files.get(new_path or path)
        if new_text == state.text and new_path is None:
            continue
        reasons = tuple(  # each once; the prompt asks for a step number, or nothing
            dict.fromkeys(
                f"step {reason}" if reason.isdigit() else reason
                for edit in result.applied
                if split_unit_id(edit.target)[0] == path and (reason := edit.reason.strip())
            )
        )
        new_uri = states[new_path].uri if new_path is not None else None
        changes.append(
            FileChange(
                path, state.uri, state.version, state.text, new_text, reasons, new_path, new_uri
            )
        )
    refused = tuple(f"{rejected.edit.target}: {rejected.reason}" for rejected in result.rejected)
    return Delivery(task_id, round_, tuple(changes), len(result.applied), refused)


def check_delivery(delivery: Delivery, read: ReadDoc) -> tuple[Delivery, list[str]]:
    """The delivery with current document versions, and the targets that changed since it was
    prepared (an empty list means it may be sent)."""
    stale: list[str] = []
    fresh: list[FileChange] = []
    for change in delivery.changes:
        now = read(change.path)
        moved = change.version is not None and now.version != change.version
        if moved or now.text != change.old_text:
            stale.append(change.path)
        elif change.new_path is not None and read(change.new_path).text is not None:
            stale.append(change.new_path)  # the rename's new name is taken since
        fresh.append(replace(change, version=now.version))
    return replace(delivery, changes=tuple(fresh)), stale


def first_draft_texts(
    store: TaskStore, task_id: str
) -> tuple[dict[str, str | None], dict[str, str | None]]:
    """The original snapshot and the text the first draft turned it into."""
    return store.load_snapshot(task_id) or {}, drafted_texts(store, task_id, 1)


def _lines(text: str) -> list[str]:
    return _LINE.findall(text)


def code_units(text: str, encoding: str) -> int:
    """Length of ``text`` in the negotiated position encoding's code units."""
    if encoding == types.PositionEncodingKind.Utf8:
        return len(text.encode("utf-8"))
    if encoding == types.PositionEncodingKind.Utf32:
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def _end_position(lines: list[str], index: int, encoding: str) -> types.Position:
    """The start of line ``index``, or the end of the text when that line does not exist and
    the last line has no line break."""
    if index < len(lines) or not lines or lines[-1].endswith(("\n", "\r")):
        return types.Position(line=index, character=0)
    last = lines[-1]
    return types.Position(line=len(lines) - 1, character=code_units(last, encoding))


def line_edits(old: str, new: str, encoding: str) -> list[types.TextEdit]:
    """Whole-line edits turning ``old`` into ``new``: one per differing block, never overlapping."""
    before, after = _lines(old), _lines(new)
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    edits = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        start = _end_position(before, i1, encoding)
        end = _end_position(before, i2, encoding)
        text = "".join(after[j1:j2])
        if i1 == len(before) and before and not before[-1].endswith(("\n", "\r")):
            text = "\n" + text  # appending after a last line that has no line break
        edits.append(types.TextEdit(range=types.Range(start=start, end=end), new_text=text))
    return edits


@dataclass(frozen=True)
class EditSupport:
    """What the client's ``workspace.workspaceEdit`` capabilities allow."""

    document_changes: bool = False
    annotations: bool = False
    create_files: bool = False
    rename_files: bool = False
    delete_files: bool = False

    @classmethod
    def of(cls, capabilities: types.ClientCapabilities) -> EditSupport:
        edit = capabilities.workspace.workspace_edit if capabilities.workspace else None
        if edit is None:
            return cls()
        operations = edit.resource_operations or []
        return cls(
            document_changes=bool(edit.document_changes),
            annotations=edit.change_annotation_support is not None,
            create_files=types.ResourceOperationKind.Create in operations,
            rename_files=types.ResourceOperationKind.Rename in operations,
            delete_files=types.ResourceOperationKind.Delete in operations,
        )


def _annotation_id(path: str) -> str:
    return f"tandem-draft:{path}"


DocumentChange = types.TextDocumentEdit | types.CreateFile | types.RenameFile | types.DeleteFile


def _unsupported(change: FileChange, support: EditSupport) -> bool:
    """Whether this client cannot carry the change (files created, renamed or deleted need
    ``documentChanges`` with that resource operation)."""
    if change.old_text is None:
        needed = support.create_files
    elif change.new_text is None:
        needed = support.delete_files
    elif change.new_path is not None:
        needed = support.rename_files
    else:
        return False
    return not (support.document_changes and needed)


def workspace_edit(
    delivery: Delivery, support: EditSupport, encoding: str
) -> tuple[types.WorkspaceEdit, list[str]]:
    """The edit to send, and the targets it cannot carry for this client."""
    annotate = support.document_changes and support.annotations
    document_changes: list[DocumentChange] = []
    changes: dict[str, list[types.TextEdit]] = {}
    annotations: dict[str, types.ChangeAnnotation] = {}
    left_out: list[str] = []
    for change in delivery.changes:
        if _unsupported(change, support):
            left_out.append(change.path)
            continue
        annotation = _annotation_id(change.path) if annotate else None
        if annotate:
            annotations[_annotation_id(change.path)] = types.ChangeAnnotation(
                label=LABEL,
                needs_confirmation=True,
                description=f"{_what(change)}: " + "; ".join(change.reasons or ("draft edit",)),
            )
        if change.new_text is None:
            document_changes.append(types.DeleteFile(uri=change.uri, annotation_id=annotation))
            continue
        if change.old_text is None:
            document_changes.append(
                types.CreateFile(
                    uri=change.uri,
                    options=types.CreateFileOptions(ignore_if_exists=True),
                    annotation_id=annotation,
                )
            )
            edits = [types.TextEdit(range=_origin(), new_text=change.new_text)]
        else:
            edits = line_edits(change.old_text, change.new_text, encoding)
        if not support.document_changes:
            changes[change.uri] = edits
            continue
        if edits:
            document_changes.append(
                types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(
                        uri=change.uri, version=change.version
                    ),
                    edits=list(_annotated(edits, change.path) if annotate else edits),
                )
            )
        if change.new_uri is not None:
            document_changes.append(
                types.RenameFile(
                    old_uri=change.uri,
                    new_uri=change.new_uri,
                    options=types.RenameFileOptions(overwrite=False, ignore_if_exists=False),
                    annotation_id=annotation,
                )
            )
    if support.document_changes:
        edit = types.WorkspaceEdit(
            document_changes=document_changes, change_annotations=annotations or None
        )
    else:
        edit = types.WorkspaceEdit(changes=changes)
    return edit, left_out


def _what(change: FileChange) -> str:
    if change.new_text is None:
        return f"{change.path} (deleted)"
    if change.new_path is not None:
        return f"{change.path} → {change.new_path}"
    return change.path


def _origin() -> types.Range:
    zero = types.Position(line=0, character=0)
    return types.Range(start=zero, end=zero)


def _annotated(edits: Iterable[types.TextEdit], path: str) -> Iterable[types.AnnotatedTextEdit]:
    for edit in edits:
        yield types.AnnotatedTextEdit(
            range=edit.range, new_text=edit.new_text, annotation_id=_annotation_id(path)
        )
