"""Plan → draft → review over a real ``tandem serve`` session (VS Code and Neovim profiles).

The workspace is a scratch copy of ``examples/projects_api`` whose ``tandem.toml`` points every
model alias at the FAKE provider replaying the example's hand-written ``fake_replies.json``:
no model is called, and nothing touches the network.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

REPO = Path(__file__).resolve().parents[2]
SERVER_ROOT = REPO / "server"
EXAMPLE = REPO / "examples" / "projects_api"
ENV = {**os.environ, "PYTHONPATH": str(SERVER_ROOT)}

FAKE_SETTINGS = """
[models.strong]
provider = "fake"
model = "fake-model"
fake_replies = "fake_replies.json"

[models.cheap]
provider = "fake"
model = "fake-model"
fake_replies = "fake_replies.json"
"""

NEW_GET_PROJECTS = json.loads((EXAMPLE / "fake_replies.json").read_text())["draft"][0]["edits"][1][
    "code"
]


def make_project(root: Path, settings: str = FAKE_SETTINGS) -> Path:
    project = root / "projects_api"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__", ".tandem"))
    (project / "tandem.toml").write_text(settings, encoding="utf-8")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=project, check=True)
    subprocess.run([*git, "add", "."], cwd=project, check=True)
    subprocess.run([*git, "commit", "-qm", "example"], cwd=project, check=True)
    return project


class Session:
    """The client plus what the server sent it, and helpers to drive documents."""

    def __init__(self, client: LanguageClient, project: Path, profile: str) -> None:
        self.client = client
        self.project = project
        self.profile = profile
        self.applied: list[types.ApplyWorkspaceEditParams] = []
        self.versions: dict[str, int] = {}
        self.answer_apply = True

    def uri(self, path: str) -> str:
        return (self.project / path).as_uri()

    def open(self, path: str, text: str | None = None) -> str:
        uri = self.uri(path)
        content = text if text is not None else (self.project / path).read_text()
        self.versions[uri] = 1
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id="python", version=1, text=content
                )
            )
        )
        return uri

    def type_text(self, uri: str, line: int, text: str) -> None:
        self.versions[uri] += 1
        start = types.Position(line=line, character=0)
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=uri, version=self.versions[uri]
                ),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(start=start, end=start), text=text
                    )
                ],
            )
        )

    async def command(self, name: str, argument: dict[str, Any]) -> Any:
        return await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=name, arguments=[argument])
        )

    async def actions(self, uri: str, start: int, end: int, **context: Any) -> list[dict[str, Any]]:
        """Raw code actions (lsprotocol mis-parses a CodeAction with a command client-side)."""
        params = types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(
                start=types.Position(line=start, character=0),
                end=types.Position(line=end, character=0),
            ),
            context=types.CodeActionContext(diagnostics=context.get("diagnostics", [])),
        )
        protocol = self.client.protocol
        typed = protocol.get_result_type
        protocol.get_result_type = lambda method: (  # type: ignore[method-assign]
            None if method == types.TEXT_DOCUMENT_CODE_ACTION else typed(method)
        )
        try:
            result = await protocol.send_request_async(types.TEXT_DOCUMENT_CODE_ACTION, params)
        finally:
            protocol.get_result_type = typed  # type: ignore[method-assign]
        return list(result or [])


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path)


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=[sys.executable, "-m", "tandem", "serve", "--stdio"], server_env=ENV
    ),
    params=["visual-studio-code", "neovim"],
)
async def client(request: pytest.FixtureRequest, lsp_client: LanguageClient, project: Path):  # type: ignore[no-untyped-def]
    state = Session(lsp_client, project, request.param)
    lsp_client.tandem_session = state  # type: ignore[attr-defined]

    @lsp_client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        state.applied.append(params)
        return types.ApplyWorkspaceEditResult(applied=state.answer_apply)

    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities(request.param),
            workspace_folders=[types.WorkspaceFolder(uri=project.as_uri(), name="projects_api")],
            root_uri=project.as_uri(),
        )
    )
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def session(client: LanguageClient) -> Session:
    state: Session = client.tandem_session  # type: ignore[attr-defined]
    return state


def text_edits(params: types.ApplyWorkspaceEditParams, uri: str) -> list[types.TextEdit]:
    edit = params.edit
    if edit.document_changes:
        return [
            e
            for change in edit.document_changes
            if isinstance(change, types.TextDocumentEdit) and change.text_document.uri == uri
            for e in change.edits
        ]
    return list((edit.changes or {}).get(uri, []))


def apply_text_edits(text: str, edits: list[types.TextEdit]) -> str:
    """Apply whole-line edits (all Tandem sends) to ``text``, bottom-up."""
    lines = text.splitlines(keepends=True)
    for edit in sorted(edits, key=lambda e: e.range.start.line, reverse=True):
        assert edit.range.start.character == 0 and edit.range.end.character == 0
        lines[edit.range.start.line : edit.range.end.line] = [edit.new_text]
    return "".join(lines)


HANDLER = "app/handlers.py"
HANDLER_RANGE = {
    "start": {"line": 12, "character": 0},
    "end": {"line": 13, "character": 10},
}
REQUEST = "add an optional archived filter to GET /projects"


async def plan(session: Session) -> dict[str, Any]:
    uri = session.open(HANDLER)
    return await session.command(  # type: ignore[no-any-return]
        "tandem.plan", {"uri": uri, "range": HANDLER_RANGE, "request": REQUEST}
    )


async def test_actions_at_a_cursor_and_a_selection(session: Session) -> None:
    uri = session.open(HANDLER)
    at_cursor = await session.actions(uri, 13, 13)
    titles = [action["title"] for action in at_cursor]
    assert titles == [
        "Plan this change…",
        "Review selection",
        "Review changes since HEAD",
        "Estimate cost",
    ]
    plan_action = at_cursor[0]
    assert plan_action["kind"] == "refactor.rewrite"
    assert plan_action["command"]["command"] == "tandem.plan"
    assert plan_action["command"]["arguments"][0]["uri"] == uri
    kinds = {action["title"]: action["kind"] for action in at_cursor}
    assert kinds["Review selection"] == kinds["Estimate cost"] == "source"
    review_head = next(a for a in at_cursor if a["title"] == "Review changes since HEAD")
    assert review_head["command"]["arguments"] == [{"working_tree": True}]

    planned = await session.command(
        "tandem.plan", {"uri": uri, "range": HANDLER_RANGE, "request": REQUEST}
    )
    selection = await session.actions(uri, 9, 14)
    draft = next(a for a in selection if a["title"] == "Draft from plan")
    assert draft["kind"] == "refactor.rewrite"
    assert draft["command"]["arguments"] == [{"task_id": planned["task_id"]}]
    assert selection[0]["command"]["arguments"][0]["range"]["start"]["line"] == 9


async def test_plan_opens_the_plan_with_progress_and_records_the_step(session: Session) -> None:
    result = await plan(session)
    plan_file = session.project / ".tandem" / "tasks" / result["task_id"] / "plan.md"
    assert result["plan_uri"] == plan_file.as_uri()
    assert plan_file.read_text().startswith("# Plan\n\nAdd an optional `archived` query parameter")
    assert session.client.shown_documents[-1].uri == plan_file.as_uri()
    reports = [r for values in session.client.progress_reports.values() for r in values]
    assert any(isinstance(r, types.WorkDoneProgressBegin) and r.cancellable for r in reports)
    assert isinstance(reports[-1], types.WorkDoneProgressEnd)
    state = json.loads((plan_file.parent / "state.json").read_text())
    assert [(s["step"], s["outcome"], s["fake"]) for s in state["steps"]] == [("plan", "ok", True)]


async def test_plan_draft_review_end_to_end_with_the_exact_edit(session: Session) -> None:
    planned = await plan(session)
    original = (session.project / HANDLER).read_text()
    drafted = await session.command("tandem.draft", {"task_id": planned["task_id"]})
    assert drafted["applied"] is True and drafted["edits"] == 3
    sent = session.applied[-1]
    assert sent.label == "Tandem draft"
    handler_uri = session.uri(HANDLER)
    edits = text_edits(sent, handler_uri)
    old_unit = "".join(original.splitlines(keepends=True)[9:14])
    assert apply_text_edits(original, edits) == original.replace(old_unit, NEW_GET_PROJECTS)
    if session.profile == "visual-studio-code":  # documentChanges + changeAnnotationSupport
        assert sent.edit.document_changes is not None
        versions = {
            c.text_document.uri: c.text_document.version
            for c in sent.edit.document_changes
            if isinstance(c, types.TextDocumentEdit)
        }
        assert versions[handler_uri] == 1  # the open buffer's version
        assert versions[session.uri("app/queries.py")] is None  # not open: the file on disk
        annotations = sent.edit.change_annotations or {}
        assert annotations and all(a.needs_confirmation for a in annotations.values())
        assert all(isinstance(e, types.AnnotatedTextEdit) for e in edits)
    else:  # Neovim does not advertise documentChanges: plain changes, checked just before
        assert sent.edit.changes is not None

    # The client applied it: write the files as an editor would, then review the draft.
    for path in ("app/handlers.py", "app/queries.py", "tests/test_handlers.py"):
        uri = session.uri(path)
        new = apply_text_edits((session.project / path).read_text(), text_edits(sent, uri))
        (session.project / path).write_text(new)
    session.client.text_document_did_close(
        types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=handler_uri)
        )
    )
    reviewed = await session.command("tandem.review", {"task_id": planned["task_id"]})
    assert reviewed["verdict"] == "request_changes" and reviewed["findings"] == 3
    await asyncio.sleep(0.2)
    diagnostics = session.client.diagnostics[handler_uri]
    assert len(diagnostics) == 1
    blocking = diagnostics[0]
    assert blocking.source == "tandem" and blocking.code == "bug"
    assert blocking.severity == types.DiagnosticSeverity.Error
    assert blocking.range.start.line == 13
    plan_uri = planned["plan_uri"]
    assert blocking.related_information[0].location.uri == plan_uri
    nit = session.client.diagnostics[session.uri("app/queries.py")][0]
    assert nit.severity == types.DiagnosticSeverity.Hint and nit.code == "style"
