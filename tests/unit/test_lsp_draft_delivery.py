"""A draft becomes versioned, annotated line edits, refused when a target changed since."""

from __future__ import annotations

from lsprotocol import types

from tandem.flow.handoff import Edit, Scope
from tandem.lsp.draft_delivery import (
    LABEL,
    DocState,
    EditSupport,
    check_delivery,
    code_units,
    line_edits,
    prepare_delivery,
    workspace_edit,
)

HANDLERS = (
    "import x\n\n\ndef get_projects(params):\n    return 200, []\n\n\ndef other():\n    return 1\n"
)
NEW_UNIT = "def get_projects(params):\n    return 200, params.get('archived')\n"
SCOPE = Scope(units=["app/h.py::get_projects"], files=["app/h.py"], out_of_scope=[])
REPLACE = Edit(kind="replace_unit", target="app/h.py::get_projects", code=NEW_UNIT, reason="step 1")
URI = "file:///repo/app/h.py"


def reader(texts: dict[str, tuple[str | None, int | None]]):  # type: ignore[no-untyped-def]
    def read(path: str) -> DocState:
        text, version = texts.get(path, (None, None))
        return DocState(path, f"file:///repo/{path}", text, version)

    return read


def apply(text: str, edits: list[types.TextEdit]) -> str:
    lines = text.splitlines(keepends=True)
    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character))[::-1]:
        start, end = edit.range.start, edit.range.end
        prefix = "".join(lines[: start.line]) + (
            lines[start.line][: start.character] if start.line < len(lines) else ""
        )
        suffix = (lines[end.line][end.character :] if end.line < len(lines) else "") + "".join(
            lines[end.line + 1 :]
        )
        lines = (prefix + edit.new_text + suffix).splitlines(keepends=True)
    return "".join(lines)


def test_the_draft_is_applied_to_the_text_it_was_prepared_for() -> None:
    delivery = prepare_delivery("t1", 1, [REPLACE], SCOPE, reader({"app/h.py": (HANDLERS, 4)}))
    [change] = delivery.changes
    assert (change.version, change.old_text, change.reasons) == (4, HANDLERS, ("step 1",))
    assert change.new_text == HANDLERS.replace(
        "def get_projects(params):\n    return 200, []\n", NEW_UNIT
    )
    assert delivery.applied_edits == 1 and delivery.refused == ()


def test_a_target_edited_since_is_stale_and_an_unchanged_one_is_fresh() -> None:
    delivery = prepare_delivery("t1", 1, [REPLACE], SCOPE, reader({"app/h.py": (HANDLERS, 4)}))
    _, stale = check_delivery(delivery, reader({"app/h.py": (HANDLERS, 4)}))
    assert stale == []
    _, stale = check_delivery(delivery, reader({"app/h.py": (HANDLERS, 5)}))
    assert stale == ["app/h.py"]  # a new version, even with the same text
    _, stale = check_delivery(delivery, reader({"app/h.py": ("# typed\n" + HANDLERS, 5)}))
    assert stale == ["app/h.py"]


def test_a_file_on_disk_is_stale_when_its_text_changed_and_once_opened_takes_its_version() -> None:
    delivery = prepare_delivery("t1", 1, [REPLACE], SCOPE, reader({"app/h.py": (HANDLERS, None)}))
    fresh, stale = check_delivery(delivery, reader({"app/h.py": (HANDLERS, 7)}))
    assert stale == [] and fresh.changes[0].version == 7
    _, stale = check_delivery(delivery, reader({"app/h.py": (HANDLERS + "x = 1\n", None)}))
    assert stale == ["app/h.py"]


def test_reapplying_rebases_the_unit_edit_onto_the_current_text() -> None:
    typed = "# typed while drafting\n" + HANDLERS
    delivery = prepare_delivery("t1", 1, [REPLACE], SCOPE, reader({"app/h.py": (typed, 2)}))
    new = delivery.changes[0].new_text
    assert new.startswith("# typed while drafting\n") and NEW_UNIT in new


def test_a_second_draft_replaces_the_first_instead_of_stacking_on_it() -> None:
    test_file = "def test_a():\n    pass\n"
    add = Edit(kind="add_test", target="tests/t.py", code="def test_b():\n    pass\n", reason="r")
    scope = Scope(units=SCOPE.units, files=["app/h.py", "tests/t.py"], out_of_scope=[])
    original = {"app/h.py": HANDLERS, "tests/t.py": test_file}
    first = prepare_delivery(
        "t", 1, [REPLACE, add], scope, reader({p: (t, None) for p, t in original.items()})
    )
    first_texts = {c.path: c.new_text for c in first.changes}
    second = prepare_delivery(
        "t",
        2,
        [REPLACE, add],
        scope,
        reader({p: (t, None) for p, t in first_texts.items()}),
        original=original,
        first_draft=first_texts,
    )
    # The same edits again change nothing: the second draft starts from the original.
    assert second.changes == ()


def test_edits_outside_the_scope_are_refused_and_reported() -> None:
    drift = Edit(
        kind="replace_unit",
        target="app/h.py::other",
        code="def other():\n    return 2\n",
        reason="r",
    )
    delivery = prepare_delivery(
        "t", 1, [REPLACE, drift], SCOPE, reader({"app/h.py": (HANDLERS, 1)})
    )
    assert delivery.applied_edits == 1
    assert delivery.refused[0].startswith("app/h.py::other: scope drift")


def test_line_edits_are_whole_lines_and_reproduce_the_new_text() -> None:
    new = HANDLERS.replace("    return 200, []\n", "    a = 1\n    return 200, [a]\n")
    edits = line_edits(HANDLERS, new, "utf-16")
    assert all(e.range.start.character == 0 for e in edits)
    assert apply(HANDLERS, edits) == new


def test_appending_after_a_last_line_without_a_break_ends_it_first() -> None:
    old = "def f():\n    return 'é'"
    new = "def f():\n    return 'é'\n\n\ndef g():\n    pass\n"
    [edit] = line_edits(old, new, "utf-16")
    assert edit.range.start == types.Position(line=1, character=0)
    assert apply(old, [edit]) == new
    [edit8] = line_edits(old, old + "\nx\n", "utf-8")  # the last line's end, in bytes
    assert edit8.range.end == types.Position(line=1, character=15)
    assert apply(old, [edit8]) == old + "\nx\n"
    assert (
        code_units("    return 'é'", "utf-8") == 15 and code_units("    return 'é'", "utf-16") == 14
    )


def test_code_units_per_encoding() -> None:
    assert (
        code_units("a😀", "utf-8"),
        code_units("a😀", "utf-16"),
        code_units("a😀", "utf-32"),
    ) == (5, 3, 2)


FILES = {"create_files": True, "rename_files": True, "delete_files": True}
VSCODE = EditSupport(document_changes=True, annotations=True, **FILES)


def test_the_workspace_edit_is_versioned_and_asks_for_confirmation_when_supported() -> None:
    delivery = prepare_delivery("t1", 1, [REPLACE], SCOPE, reader({"app/h.py": (HANDLERS, 4)}))
    edit, left_out = workspace_edit(delivery, VSCODE, "utf-16")
    assert left_out == []
    [document] = edit.document_changes or []
    assert isinstance(document, types.TextDocumentEdit)
    assert document.text_document == types.OptionalVersionedTextDocumentIdentifier(
        uri=URI, version=4
    )
    assert all(isinstance(e, types.AnnotatedTextEdit) for e in document.edits)
    [(key, annotation)] = (edit.change_annotations or {}).items()
    assert annotation.label == LABEL and annotation.needs_confirmation is True
    assert annotation.description == "app/h.py: step 1"
    assert all(e.annotation_id == key for e in document.edits)  # type: ignore[union-attr]


def test_without_document_changes_the_edit_is_plain_and_new_files_are_left_out() -> None:
    new_file = Edit(kind="new_file", target="app/new.py", code="X = 1\n", reason="r")
    scope = Scope(units=SCOPE.units, files=["app/h.py", "app/new.py"], out_of_scope=[])
    delivery = prepare_delivery(
        "t", 1, [REPLACE, new_file], scope, reader({"app/h.py": (HANDLERS, 1)})
    )
    edit, left_out = workspace_edit(delivery, EditSupport(), "utf-16")
    assert edit.document_changes is None and list(edit.changes or {}) == [URI]
    assert left_out == ["app/new.py"]
    created, _ = workspace_edit(delivery, VSCODE, "utf-16")
    kinds = [type(c).__name__ for c in created.document_changes or []]
    assert kinds == ["TextDocumentEdit", "CreateFile", "TextDocumentEdit"]


def test_edit_support_reads_the_client_capabilities() -> None:
    from pytest_lsp import client_capabilities

    assert EditSupport.of(client_capabilities("visual-studio-code")) == VSCODE
    assert EditSupport.of(client_capabilities("neovim")) == EditSupport(**FILES)
    assert EditSupport.of(types.ClientCapabilities()) == EditSupport()


RENAME = Edit(kind="rename_file", target="app/h.py", old=None, new="app/handlers.py", reason="s2")
PATCH = Edit(kind="patch", target="app/h.py", old="import x\n", new="import y\n", reason="s1")
FILE_SCOPE = Scope(units=[], files=["app/h.py", "app/handlers.py", "old.md"], out_of_scope=[])


def test_a_rename_is_sent_as_its_text_edits_then_a_rename_that_never_overwrites() -> None:
    read = reader({"app/h.py": (HANDLERS, 3)})
    delivery = prepare_delivery("t", 1, [PATCH, RENAME], FILE_SCOPE, read)
    [change] = delivery.changes
    assert (change.path, change.new_path) == ("app/h.py", "app/handlers.py")
    edit, left_out = workspace_edit(delivery, VSCODE, types.PositionEncodingKind.Utf16)
    assert left_out == []
    text_edit, rename = edit.document_changes  # type: ignore[misc]
    assert isinstance(text_edit, types.TextDocumentEdit) and text_edit.text_document.version == 3
    assert apply(HANDLERS, list(text_edit.edits)) == HANDLERS.replace("import x", "import y")
    assert isinstance(rename, types.RenameFile)
    assert (rename.old_uri, rename.new_uri) == (URI, "file:///repo/app/handlers.py")
    assert rename.options is not None and rename.options.overwrite is False
    annotation = edit.change_annotations["tandem-draft:app/h.py"]  # type: ignore[index]
    assert annotation.description == "app/h.py → app/handlers.py: s1; s2"


def test_a_rename_whose_new_name_was_taken_since_is_stale() -> None:
    delivery = prepare_delivery("t", 1, [RENAME], FILE_SCOPE, reader({"app/h.py": (HANDLERS, 3)}))
    taken = reader({"app/h.py": (HANDLERS, 3), "app/handlers.py": ("x = 1\n", None)})
    assert check_delivery(delivery, taken)[1] == ["app/handlers.py"]


def test_a_deletion_is_a_delete_file_and_left_out_where_the_client_cannot_delete() -> None:
    delete = Edit(kind="delete_file", target="old.md", old=None, new="", reason="s3")
    delivery = prepare_delivery("t", 1, [delete], FILE_SCOPE, reader({"old.md": ("# x\n", None)}))
    edit, left_out = workspace_edit(delivery, VSCODE, types.PositionEncodingKind.Utf16)
    [deletion] = edit.document_changes  # type: ignore[misc]
    assert isinstance(deletion, types.DeleteFile) and deletion.uri == "file:///repo/old.md"
    assert left_out == []
    plain = EditSupport(document_changes=True, create_files=True)
    assert workspace_edit(delivery, plain, types.PositionEncodingKind.Utf16)[1] == ["old.md"]


def test_insertions_reach_the_refactor_preview_as_text_edits() -> None:
    edits = [
        Edit(kind="insert_after", target="app/h.py", old="import x\n", new="import y\n", reason=""),
        Edit(kind="insert_before", target="app/h.py::get_projects", old="[]", new="1, ", reason=""),
        Edit(kind="insert_after", target="app/h.py", old="200", new="1", reason="2"),
    ]
    delivery = prepare_delivery("t", 1, edits, SCOPE, reader({"app/h.py": (HANDLERS, 2)}))
    assert delivery.applied_edits == 3 and delivery.refused == ()
    edit, _ = workspace_edit(delivery, VSCODE, types.PositionEncodingKind.Utf16)
    [text_edit] = edit.document_changes  # type: ignore[misc]
    assert isinstance(text_edit, types.TextDocumentEdit)
    expected = HANDLERS.replace("import x\n", "import x\nimport y\n").replace("[]", "1, []")
    expected = expected.replace("200", "2001")
    assert apply(HANDLERS, list(text_edit.edits)) == expected
    annotation = edit.change_annotations["tandem-draft:app/h.py"]  # type: ignore[index]
    assert annotation.description == "app/h.py: step 2"
