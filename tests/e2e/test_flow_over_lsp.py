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
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException
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
def project(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """The example; ``@pytest.mark.fake_delay(seconds)`` makes every fake reply wait (TEST-ONLY
    setting) so a test can act while a call is in flight."""
    marker = request.node.get_closest_marker("fake_delay")
    settings = FAKE_SETTINGS
    if marker is not None:
        settings = settings.replace(
            'fake_replies = "fake_replies.json"',
            f'fake_replies = "fake_replies.json"\nfake_delay_seconds = {marker.args[0]}',
        )
    return make_project(tmp_path, settings)


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

    plan_path = f".tandem/tasks/{planned['task_id']}/plan.md"
    in_plan = await session.actions(session.open(plan_path), 0, 0)
    assert [(a["title"], a["command"]["arguments"]) for a in in_plan] == [
        ("Draft from plan", [{"task_id": planned["task_id"]}])
    ]


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
    plan_file = session.project / ".tandem" / "tasks" / planned["task_id"] / "plan.md"
    edited = plan_file.read_text().replace(
        "- values are compared exactly",
        "- only lower-case values are accepted; values are compared exactly",
    )
    session.open(str(plan_file.relative_to(session.project)), edited)  # unsaved edits
    drafted = await session.command("tandem.draft", {"task_id": planned["task_id"]})
    approved = json.loads((plan_file.parent / "plan.json").read_text())
    assert approved["approved"] is True and approved["edited_by_user"] is True
    assert approved["reply"]["assumptions"][1].startswith("only lower-case values are accepted")
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


async def wait_for_progress_begin(session: Session, count: int = 1) -> types.ProgressToken:
    """The token of the ``count``-th model step whose progress began (the call is then in
    flight). Steps' progress is cancellable; the workspace index's is not."""
    for _ in range(200):
        begun = [
            token
            for token, values in session.client.progress_reports.items()
            if any(isinstance(v, types.WorkDoneProgressBegin) and v.cancellable for v in values)
        ]
        if len(begun) >= count:
            return begun[count - 1]
        await asyncio.sleep(0.05)
    raise AssertionError("no progress began")


async def until(condition: Any) -> None:
    for _ in range(100):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in 5 s")


def ledger_outcomes(project: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(project / ".tandem" / "ledger.sqlite") as db:
        return list(db.execute("SELECT step, outcome FROM steps ORDER BY id"))


@pytest.mark.fake_delay(1.5)
async def test_a_document_edited_during_the_draft_is_not_clobbered_and_the_draft_reapplies(
    session: Session,
) -> None:
    planned = await plan(session)
    handler_uri = session.uri(HANDLER)
    original = (session.project / HANDLER).read_text()
    drafting = asyncio.ensure_future(
        session.command("tandem.draft", {"task_id": planned["task_id"]})
    )
    await wait_for_progress_begin(session, 2)
    session.type_text(handler_uri, 0, "# typed while drafting\n")
    drafted = await drafting
    assert drafted["applied"] is False and "app/handlers.py" in drafted["reason"]
    assert session.applied == []  # nothing was sent
    assert session.client.messages[-1].type == types.MessageType.Warning
    assert "tandem.reapplyDraft" in session.client.messages[-1].message

    actions = await session.actions(handler_uri, 14, 14)
    reapply = next(a for a in actions if a["title"] == "Re-apply Tandem draft")
    assert reapply["command"]["arguments"] == [{"task_id": planned["task_id"]}]

    again = await session.command("tandem.reapplyDraft", {"task_id": planned["task_id"]})
    assert again["applied"] is True
    sent = session.applied[-1]
    current = "# typed while drafting\n" + original
    old_unit = "".join(original.splitlines(keepends=True)[9:14])
    expected = current.replace(old_unit, NEW_GET_PROJECTS)
    assert apply_text_edits(current, text_edits(sent, handler_uri)) == expected
    if sent.edit.document_changes is not None:
        versions = [
            c.text_document.version
            for c in sent.edit.document_changes
            if isinstance(c, types.TextDocumentEdit) and c.text_document.uri == handler_uri
        ]
        assert versions == [2]  # the version holding the typed line


@pytest.mark.fake_delay(30)
@pytest.mark.parametrize("how", ["$/cancelRequest", "progress cancel"])
async def test_cancelling_a_plan_in_the_middle_of_the_call_records_a_cancelled_step(
    session: Session, how: str
) -> None:
    uri = session.open(HANDLER)
    argument = {"uri": uri, "range": HANDLER_RANGE, "request": REQUEST}
    params = types.ExecuteCommandParams(command="tandem.plan", arguments=[argument])
    call = asyncio.ensure_future(
        session.client.protocol.send_request_async(
            types.WORKSPACE_EXECUTE_COMMAND, params, msg_id="plan-to-cancel"
        )
    )
    token = await wait_for_progress_begin(session)
    await asyncio.sleep(0.2)
    if how == "$/cancelRequest":
        session.client.protocol.notify(
            types.CANCEL_REQUEST, types.CancelParams(id="plan-to-cancel")
        )
    else:
        session.client.window_work_done_progress_cancel(
            types.WorkDoneProgressCancelParams(token=token)
        )
    with pytest.raises(JsonRpcException) as raised:
        await asyncio.wait_for(call, 10)
    assert raised.value.code == -32800  # RequestCancelled
    await until(lambda: ("plan", "cancelled") in ledger_outcomes(session.project))
    assert ledger_outcomes(session.project) == [("plan", "cancelled")]
    await until(
        lambda: isinstance(session.client.progress_reports[token][-1], types.WorkDoneProgressEnd)
    )
    assert session.client.progress_reports[token][-1].message == "cancelled"
    # The server is alive and answers the next request.
    assert await session.actions(uri, 13, 13)


async def draft_and_review(session: Session) -> dict[str, Any]:
    """Plan, draft (the client applies it to disk), review: blocking findings on handlers.py."""
    planned = await plan(session)
    await session.command("tandem.draft", {"task_id": planned["task_id"]})
    sent = session.applied[-1]
    for path in ("app/handlers.py", "app/queries.py", "tests/test_handlers.py"):
        uri = session.uri(path)
        new = apply_text_edits((session.project / path).read_text(), text_edits(sent, uri))
        (session.project / path).write_text(new)
    session.client.text_document_did_close(
        types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=session.uri(HANDLER))
        )
    )
    await session.command("tandem.review", {"task_id": planned["task_id"]})
    return planned


async def diagnostics_of(session: Session, uri: str, count: int) -> list[types.Diagnostic]:
    for _ in range(100):
        found = list(session.client.diagnostics.get(uri, []))
        if len(found) == count:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"expected {count} diagnostics, got {session.client.diagnostics.get(uri)}")


async def test_findings_move_with_the_code_and_clear_when_their_line_is_edited(
    session: Session,
) -> None:
    await draft_and_review(session)
    uri = session.open(HANDLER)
    [finding] = await diagnostics_of(session, uri, 1)
    assert finding.range.start.line == 13
    session.type_text(uri, 0, "# one\n# two\n")
    await asyncio.sleep(0.3)
    [moved] = await diagnostics_of(session, uri, 1)
    assert moved.range.start.line == 15 and moved.message == finding.message
    session.type_text(uri, 15, "    ")  # the finding's own line is edited: it is dropped
    await diagnostics_of(session, uri, 0)


async def test_quick_fixes_for_a_finding_with_a_suggested_change(session: Session) -> None:
    planned = await draft_and_review(session)
    uri = session.open(HANDLER)
    [finding] = await diagnostics_of(session, uri, 1)
    actions = await session.actions(uri, 13, 13, diagnostics=[finding])
    fixes = [a for a in actions if a["kind"] == "quickfix"]
    todo = next(a for a in fixes if a["title"].startswith("Add TODO:"))
    [edit] = todo["edit"]["changes"][uri]
    assert edit["range"]["start"] == {"line": 13, "character": 0}
    assert edit["newText"] == (
        "    # TODO(tandem): Accept exactly `true` and `false`; return 400 with an error for "
        "anything else, before querying.\n"
    )
    redraft = next(a for a in fixes if a["title"] == "Redraft with findings")
    assert redraft["command"]["arguments"] == [{"task_id": planned["task_id"]}]
    titles = [a["title"] for a in actions]
    assert "Redraft with findings" in titles and "Draft from plan" not in titles


async def test_redraft_replaces_the_first_draft_then_the_stop_rule_ends_the_task(
    session: Session,
) -> None:
    planned = await draft_and_review(session)
    task_id = planned["task_id"]
    before = {p: (session.project / p).read_text() for p in (HANDLER, "tests/test_handlers.py")}
    second = json.loads((EXAMPLE / "fake_replies.json").read_text())["draft"][1]["edits"]
    redrafted = await session.command("tandem.redraft", {"task_id": task_id})
    assert redrafted["applied"] is True
    sent = session.applied[-1]
    handler = apply_text_edits(before[HANDLER], text_edits(sent, session.uri(HANDLER)))
    assert second[1]["code"] in handler and NEW_GET_PROJECTS not in handler
    tests = apply_text_edits(
        before["tests/test_handlers.py"], text_edits(sent, session.uri("tests/test_handlers.py"))
    )
    # Applied to the original, not stacked on the first draft: each new test appears once.
    assert tests.count("def test_get_projects_archived_true_returns_only_archived_projects") == 1
    for path, text in ((HANDLER, handler), ("tests/test_handlers.py", tests)):
        (session.project / path).write_text(text)
    reviewed = await session.command("tandem.review", {"task_id": task_id})
    assert reviewed["verdict"] == "approve"
    await diagnostics_of(session, session.uri(HANDLER), 0)  # the blocking finding is gone
    with pytest.raises(JsonRpcException) as refused:
        await session.command("tandem.redraft", {"task_id": task_id})
    assert "no blocking issues" in str(refused.value)


async def test_the_change_request_comes_from_a_selected_todo_without_a_plugin(
    session: Session,
) -> None:
    text = (
        (session.project / HANDLER)
        .read_text()
        .replace(
            '    """GET /projects: the caller\'s active projects."""\n',
            '    """GET /projects: the caller\'s active projects."""\n'
            "    # TODO: accept ?archived=true to list archived projects\n",
        )
    )
    uri = session.open(HANDLER, text)  # unsaved: only the buffer holds the TODO
    todo_line = {"start": {"line": 13, "character": 4}, "end": {"line": 13, "character": 60}}
    result = await session.command("tandem.plan", {"uri": uri, "range": todo_line})
    task = json.loads(
        (session.project / ".tandem" / "tasks" / result["task_id"] / "task.json").read_text()
    )
    assert task["request"] == "accept ?archived=true to list archived projects"


async def test_the_change_request_comes_from_request_md_else_the_command_fails(
    session: Session,
) -> None:
    uri = session.open(HANDLER)
    argument = {"uri": uri, "range": HANDLER_RANGE}
    with pytest.raises(JsonRpcException) as missing:
        await session.command("tandem.plan", argument)
    assert missing.value.code == -32602 and ".tandem/request.md" in str(missing.value)
    (session.project / ".tandem").mkdir(exist_ok=True)
    (session.project / ".tandem" / "request.md").write_text("filter by archived\n")
    result = await session.command("tandem.plan", argument)
    task = json.loads(
        (session.project / ".tandem" / "tasks" / result["task_id"] / "task.json").read_text()
    )
    assert task["request"] == "filter by archived"


BAD_REQUESTS: list[tuple[str, list[Any], str]] = [
    ("tandem.plan", [], "uri: Field required"),  # no argument is the empty object
    ("tandem.plan", [{"range": HANDLER_RANGE}], "uri"),
    ("tandem.plan", [{"uri": "file:///nowhere/x.py", "request": "x"}], "unknown document"),
    ("tandem.plan", [{"uri": "untitled:1", "request": "x"}], "not a file"),
    ("tandem.plan", [{"uri": 3}], "uri"),
    ("tandem.draft", [{"task_id": "../../etc"}], "not a task id"),
    ("tandem.draft", [{"task_id": "20990101-000000-abcdef"}], "no task"),
    ("tandem.draft", [{}], "no task has a plan yet"),
    ("tandem.reapplyDraft", [{}], "task_id"),
    ("tandem.review", [{"working_tree": True, "task_id": "x"}], "exactly one of"),
    ("tandem.review", [{"uri": "file:///nowhere/x.py"}], "unknown document"),
    ("tandem.review", [{"working_tree": True}], "no changes since HEAD"),
    ("tandem.redraft", ["not an object"], "JSON object"),
]


async def test_bad_requests_are_answered_with_errors_and_the_server_lives_on(
    session: Session,
) -> None:
    for command, arguments, says in BAD_REQUESTS:
        with pytest.raises(JsonRpcException) as answered:
            await session.client.workspace_execute_command_async(
                types.ExecuteCommandParams(command=command, arguments=arguments)
            )
        assert says in str(answered.value), (command, arguments, str(answered.value))
    unknown = await session.actions("file:///nowhere/x.py", 0, 0)
    assert unknown == []
    assert await session.actions(session.open(HANDLER), 13, 13)


async def test_review_selection_then_changes_since_head_replaces_the_findings(
    session: Session,
) -> None:
    uri = session.open(HANDLER)
    selected = await session.command("tandem.review", {"uri": uri, "range": HANDLER_RANGE})
    assert selected["verdict"] == "request_changes" and selected["findings"] == 3
    [blocking] = await diagnostics_of(session, uri, 1)
    assert blocking.code == "bug"
    task = json.loads(
        (session.project / ".tandem" / "tasks" / selected["task_id"] / "task.json").read_text()
    )
    assert task["request"].startswith("Review the selected code (app/handlers.py lines 13-14)")

    handler = session.project / HANDLER
    handler.write_text(handler.read_text().replace("active projects.", "active projects only."))
    since_head = await session.command("tandem.review", {"working_tree": True})
    assert since_head["verdict"] == "approve" and since_head["findings"] == 1
    await diagnostics_of(session, uri, 0)  # the new review covers handlers.py: cleared
    [minor] = await diagnostics_of(session, session.uri("tests/test_handlers.py"), 1)
    assert minor.severity == types.DiagnosticSeverity.Information and minor.code == "test-gap"


async def test_the_plan_title_carries_the_estimate_once_a_hover_computed_it(
    session: Session,
) -> None:
    uri = session.open(HANDLER)
    [before, *_] = await session.actions(uri, 13, 13)
    assert before["title"] == "Plan this change…"
    await until(  # the workspace index is built (a fresh index drops cached previews)
        lambda: any(
            isinstance(values[-1], types.WorkDoneProgressEnd)
            for values in session.client.progress_reports.values()
            if values
        )
    )
    hover = await session.client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=13, character=8),
        )
    )
    assert hover is not None
    [after, *_] = await session.actions(uri, 12, 12)  # same function, another line
    assert after["title"].startswith("Plan this change… · fake-model")
    assert after["command"]["command"] == "tandem.plan"


async def test_once_indexed_a_plan_slices_other_open_buffers_as_edited(session: Session) -> None:
    """The plan slices through the folder's live index, as hovers do: the unsaved text of an
    open buffer wins for every file the slice reads, not only the anchor's."""
    tests_uri = session.open("tests/test_handlers.py")
    unsaved = (
        "\n\ndef test_unsaved_buffer_lists_projects():\n"
        "    status, _ = get_projects(make_db(), User(id=1), {})\n"
        "    assert status == 200\n"
    )
    session.type_text(tests_uri, 30, unsaved)
    await until(
        lambda: any(
            isinstance(values[-1], types.WorkDoneProgressEnd)
            for values in session.client.progress_reports.values()
            if values
        )
    )
    planned = await plan(session)
    task_dir = session.project / ".tandem" / "tasks" / planned["task_id"]
    context = json.loads((task_dir / "slice.json").read_text())
    tests = [(test["path"], test["name"]) for test in context["tests"]]
    assert ("tests/test_handlers.py", "test_unsaved_buffer_lists_projects") in tests
    assert "test_unsaved_buffer_lists_projects" in context["text"]
    assert "unsaved" not in (session.project / "tests" / "test_handlers.py").read_text()
