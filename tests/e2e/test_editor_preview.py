"""A real ``tandem serve`` over stdio, under the VS Code and Neovim capability profiles: the
workspace index (progress, edits, watched files, multi-root, live settings), hover previews,
``tandem.estimate``, ``tandem.status``, ``tandem.showReport`` and bad positions."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "projects_api"
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "server")}
HANDLERS = "app/handlers.py"
GET_PROJECT_LINE = 18  # 0-based: the body of get_project in the example's handlers.py


class Session:
    """The client plus what the fixture set up: two workspace folders and the encoding."""

    def __init__(self, client: LanguageClient, first: Path, second: Path, encoding: str) -> None:
        self.client = client
        self.first = first
        self.second = second
        self.encoding = encoding
        self.capabilities = types.ServerCapabilities()

    def uri(self, path: Path) -> str:
        return path.as_uri()

    async def hover(self, path: Path, line: int, character: int = 4) -> types.Hover | None:
        return await self.client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=self.uri(path)),
                position=types.Position(line=line, character=character),
            )
        )

    async def command(self, name: str, argument: dict[str, Any] | None = None) -> Any:
        return await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=name, arguments=[argument or {}])
        )

    def open(self, path: Path, text: str | None = None, version: int = 1) -> None:
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=self.uri(path),
                    language_id="python",
                    version=version,
                    text=text if text is not None else path.read_text(encoding="utf-8"),
                )
            )
        )

    def replace_all(self, path: Path, text: str, version: int) -> None:
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=self.uri(path), version=version
                ),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )


def _copy_example(target: Path) -> Path:
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns(".tandem", "__pycache__"))
    return target


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=[sys.executable, "-m", "tandem", "serve", "--stdio"], server_env=ENV
    ),
    params=["visual-studio-code", "neovim"],
)
async def client(  # type: ignore[no-untyped-def]
    request: pytest.FixtureRequest, lsp_client: LanguageClient, tmp_path: Path
):
    first = _copy_example(tmp_path / "first")
    second = _copy_example(tmp_path / "second")
    # The second folder routes every step to the cheap model: its own settings file.
    (second / "tandem.toml").write_text('[routes]\nsingle_model = "cheap"\n', encoding="utf-8")
    holder = Session(lsp_client, first, second, "utf-16")

    result = await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities(request.param),
            root_uri=first.as_uri(),
            workspace_folders=[
                types.WorkspaceFolder(uri=first.as_uri(), name="first"),
                types.WorkspaceFolder(uri=second.as_uri(), name="second"),
            ],
        )
    )
    holder.encoding = str(result.capabilities.position_encoding or "utf-16")
    holder.capabilities = result.capabilities
    lsp_client.tandem_session = holder  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def session(client: LanguageClient) -> Session:
    found: Session = client.tandem_session  # type: ignore[attr-defined]
    return found


async def _until(condition: Any, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting for the server")
        await asyncio.sleep(0.05)


def _indexing_reports(client: LanguageClient) -> list[list[Any]]:
    return [
        reports
        for reports in client.progress_reports.values()
        if reports
        and isinstance(reports[0], types.WorkDoneProgressBegin)
        and "indexing" in reports[0].title
    ]


async def _indexed(session: Session) -> None:
    def both_ended() -> bool:
        done = [r for r in _indexing_reports(session.client) if r[-1].kind == "end"]
        return len(done) == 2

    await _until(both_ended)


def _markdown(hover: types.Hover | None) -> str:
    assert hover is not None
    assert isinstance(hover.contents, types.MarkupContent)
    assert hover.contents.kind == types.MarkupKind.Markdown
    return hover.contents.value


async def test_each_folder_is_indexed_in_the_background_with_progress(session: Session) -> None:
    await _indexed(session)
    reports = _indexing_reports(session.client)
    titles = sorted(r[0].title for r in reports)
    assert titles == ["Tandem: indexing first", "Tandem: indexing second"]
    assert all(r[-1].message and "files" in r[-1].message for r in reports)


async def test_the_server_lists_its_commands(session: Session) -> None:
    provider = session.capabilities.execute_command_provider
    assert provider is not None
    assert {"tandem.estimate", "tandem.status", "tandem.showReport"} <= set(provider.commands)


async def test_hover_previews_the_function_at_the_cursor(session: Session) -> None:
    text = _markdown(await session.hover(session.first / HANDLERS, GET_PROJECT_LINE))
    assert "`get_project`" in text
    assert "risk **" in text and "nothing is sent" in text
    assert "related test" in text and "0 related tests" not in text
    for step in ("| plan |", "| draft |", "| review |", "**total**"):
        assert step in text
    assert "All-strong baseline:" in text and "Budget (" in text and "Today:" in text


async def test_hover_range_is_the_unit_in_the_clients_position_units(session: Session) -> None:
    path = session.first / "app" / "accents.py"
    line = '    return "café 😀 naïve"'
    path.write_text(f"def greet() -> str:\n{line}\n", encoding="utf-8")
    session.open(path)
    hover = await session.hover(path, 1, 6)
    _markdown(hover)
    assert hover is not None and hover.range is not None
    expected = {"utf-8": len(line.encode("utf-8")), "utf-16": len(line.encode("utf-16-le")) // 2}
    assert hover.range.start == types.Position(line=0, character=0)
    assert hover.range.end == types.Position(line=1, character=expected[session.encoding])


async def test_hover_follows_unsaved_edits(session: Session) -> None:
    path = session.first / HANDLERS
    original = path.read_text(encoding="utf-8")
    session.open(path, original)
    before = _markdown(await session.hover(path, GET_PROJECT_LINE))
    assert "runs code or commands" not in before
    edited = original.replace(
        "    project = queries.get_project(connection, project_id)\n",
        "    project = queries.get_project(connection, project_id)\n"
        '    os.system("echo looked up")\n',
    )
    session.replace_all(path, edited, 2)
    after = _markdown(await session.hover(path, GET_PROJECT_LINE))
    assert "runs code or commands (os.system)" in after
    assert "risk **high**" in after
    assert path.read_text(encoding="utf-8") == original  # nothing was written


async def test_estimate_returns_the_hover_content_and_the_structured_estimate(
    session: Session,
) -> None:
    path = session.first / HANDLERS
    hover = _markdown(await session.hover(path, GET_PROJECT_LINE))
    result = await session.command(
        "tandem.estimate",
        {
            "uri": session.uri(path),
            "range": {
                "start": {"line": GET_PROJECT_LINE, "character": 0},
                "end": {"line": GET_PROJECT_LINE, "character": 8},
            },
        },
    )
    assert result["markdown"] == hover
    estimate = result["estimate"]
    assert estimate["slice"]["units"] == ["app/handlers.py::get_project"]
    assert [step["step"] for step in estimate["steps"]] == ["plan", "draft", "review"]
    assert estimate["total"]["usd_max"] >= estimate["total"]["usd_typical"] > 0
    assert estimate["baseline"]["usd_typical"] > 0
    assert estimate["budget_left"]["max_usd"] > 0


async def test_estimate_takes_the_users_request(session: Session) -> None:
    path = session.first / HANDLERS
    argument = {
        "uri": session.uri(path),
        "range": {
            "start": {"line": GET_PROJECT_LINE, "character": 0},
            "end": {"line": GET_PROJECT_LINE + 1, "character": 0},
        },
        "request": "fix the crash when the project is missing",
    }
    result = await session.command("tandem.estimate", argument)
    assert result["estimate"]["request"] == argument["request"]


async def test_each_folder_uses_its_own_settings(session: Session) -> None:
    first = _markdown(await session.hover(session.first / HANDLERS, GET_PROJECT_LINE))
    second = _markdown(await session.hover(session.second / HANDLERS, GET_PROJECT_LINE))
    assert "single-model mode" not in first
    assert "single-model mode: every step runs on cheap" in second


async def test_a_settings_change_applies_without_a_restart(session: Session) -> None:
    path = session.first / HANDLERS
    assert "single-model mode" not in _markdown(await session.hover(path, GET_PROJECT_LINE))
    session.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"tandem": {"routes": {"single_model": "strong"}}}
        )
    )
    text = _markdown(await session.hover(path, GET_PROJECT_LINE))
    assert "single-model mode: every step runs on strong" in text


async def test_a_new_file_on_disk_is_sliced_after_its_watched_event(session: Session) -> None:
    await _indexed(session)
    path = session.first / "app" / "exports.py"
    path.write_text("def export_projects(rows):\n    return list(rows)\n", encoding="utf-8")
    session.client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=session.uri(path), type=types.FileChangeType.Created)]
        )
    )
    assert "`export_projects`" in _markdown(await session.hover(path, 1))


async def test_the_file_watcher_is_registered_when_the_client_allows(session: Session) -> None:
    await _indexed(session)
    methods = [r.method for r in getattr(session.client, "registrations", [])]
    if session.encoding == "utf-16":  # the VS Code profile allows dynamic registration
        assert types.WORKSPACE_DID_CHANGE_WATCHED_FILES in methods
        registration = session.client.registrations[0]  # type: ignore[attr-defined]
        globs = [w["globPattern"] for w in registration.register_options["watchers"]]
        assert any(".py" in g or ",py" in g or "{py" in g for g in globs)
        assert "**/.gitignore" in globs and "**/tandem.toml" in globs
    else:  # Neovim's profile does not
        assert methods == []


async def test_unknown_documents_and_positions_out_of_range_get_empty_answers(
    session: Session,
) -> None:
    missing = session.first / "app" / "missing.py"
    assert await session.hover(missing, 0) is None
    assert await session.hover(session.first / HANDLERS, 9999) is None
    assert await session.hover(Path("/elsewhere/outside.py"), 0) is None
    assert await session.hover(session.first / "README.md", 0) is None
    with pytest.raises(JsonRpcException, match="past the end"):
        await session.command(
            "tandem.estimate",
            {
                "uri": session.uri(session.first / HANDLERS),
                "range": {
                    "start": {"line": 9999, "character": 0},
                    "end": {"line": 9999, "character": 3},
                },
            },
        )
    with pytest.raises(JsonRpcException, match="no such document"):
        await session.command("tandem.estimate", {"uri": session.uri(missing)})
    with pytest.raises(JsonRpcException, match="not in a workspace folder"):
        await session.command("tandem.estimate", {"uri": "file:///elsewhere/outside.py"})
    with pytest.raises(JsonRpcException, match="one argument"):
        await session.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="tandem.estimate", arguments=["x", "y"])
        )
    # The server is still there.
    assert _markdown(await session.hover(session.first / HANDLERS, GET_PROJECT_LINE))


def _record_spend(workspace: Path, task_id: str, dollars: str) -> None:
    from factories import spend_record
    from tandem.ledger.sqlite import SqliteLedger
    from tandem.values import Usage

    with SqliteLedger(workspace / ".tandem" / "ledger.sqlite") as ledger:
        usage = Usage(input_tokens=1000, output_tokens=200)
        now = datetime.now(UTC)
        ledger.record_step(spend_record(task_id, dollars, started_at=now, usage=usage))


def _save_task(workspace: Path, task_id: str, spent: str) -> None:
    from tandem.flow.handoff import Task
    from tandem.flow.taskstore import StepSummary, TaskState, TaskStore
    from tandem.slicing.result import FileRangeAnchor

    store = TaskStore(workspace)
    store.save_task(
        Task(
            task_id=task_id,
            request="add an archived filter",
            anchor=FileRangeAnchor(path=HANDLERS, start_line=10, end_line=14),
            task_type="small",
            repo=str(workspace),
        )
    )
    state = TaskState(
        status="planned",
        steps=[StepSummary(step="plan", outcome="ok", cost_usd=Decimal(spent))],
    )
    store.save_state(task_id, state)


async def test_status_reports_todays_spend_and_the_current_task(session: Session) -> None:
    assert await session.command("tandem.status") == {"today_usd": 0.0, "task": None, "advice": []}
    _record_spend(session.first, "20261130-101010-aaaaaa", "0.0125")
    _record_spend(session.second, "20261130-111111-bbbbbb", "0.0300")
    _save_task(session.first, "20261130-101010-aaaaaa", "0.0125")
    status = await session.command("tandem.status")
    assert status["today_usd"] == pytest.approx(0.0425)
    # Routing advice rides along, never as an interruption: too few runs to suggest anything.
    assert status["advice"] and all("not enough evidence yet" in line for line in status["advice"])
    assert status["task"] == {
        "task_id": "20261130-101010-aaaaaa",
        "spent_usd": 0.0125,
        "budget_usd": 0.10,
        "stage": "planned",
    }


async def test_show_report_writes_the_scorecard_and_opens_it(session: Session) -> None:
    _record_spend(session.first, "20261130-101010-aaaaaa", "0.0125")
    result = await session.command("tandem.showReport")
    report = session.first / ".tandem" / "report.md"
    assert result == {"uri": report.as_uri()}
    text = report.read_text(encoding="utf-8")
    assert text.startswith("# ") and "20261130-101010-aaaaaa" in text
    shown = session.client.shown_documents[-1]
    assert shown.uri == report.as_uri() and shown.take_focus is True


async def test_a_folder_added_later_is_indexed_and_served(session: Session, tmp_path: Path) -> None:
    await _indexed(session)
    third = _copy_example(tmp_path / "third")
    session.client.workspace_did_change_workspace_folders(
        types.DidChangeWorkspaceFoldersParams(
            event=types.WorkspaceFoldersChangeEvent(
                added=[types.WorkspaceFolder(uri=third.as_uri(), name="third")],
                removed=[types.WorkspaceFolder(uri=session.second.as_uri(), name="second")],
            )
        )
    )
    await _until(lambda: len(_indexing_reports(session.client)) == 3)
    assert "`get_project`" in _markdown(await session.hover(third / HANDLERS, GET_PROJECT_LINE))
    assert await session.hover(session.second / HANDLERS, GET_PROJECT_LINE) is None


async def test_closing_a_buffer_goes_back_to_the_file_on_disk(session: Session) -> None:
    path = session.first / HANDLERS
    original = path.read_text(encoding="utf-8")
    edited = original.replace("def get_project(", "def fetch_project(")
    session.open(path, edited)
    assert "`fetch_project`" in _markdown(await session.hover(path, GET_PROJECT_LINE))
    session.client.text_document_did_close(
        types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=session.uri(path))
        )
    )
    assert "`get_project`" in _markdown(await session.hover(path, GET_PROJECT_LINE))


async def test_a_buffer_over_max_file_bytes_is_refused_at_once_and_its_text_kept_exact(
    session: Session,
) -> None:
    session.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"tandem": {"context": {"max_file_bytes": 4000}}}
        )
    )
    path = session.first / HANDLERS
    original = path.read_text(encoding="utf-8")
    padding = "# padding to go over the limit\n" * 200
    session.open(path, original + padding)
    where = types.Position(line=GET_PROJECT_LINE, character=4)
    hover = _markdown(await session.hover(path, GET_PROJECT_LINE))
    assert "too large to slice" in hover and "context.max_file_bytes" in hover
    actions = await session.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=session.uri(path)),
            range=types.Range(start=where, end=where),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    assert actions is not None and len(actions) == 1
    refused = actions[0]
    assert isinstance(refused, types.CodeAction) and refused.disabled is not None
    assert "too large to slice" in refused.disabled.reason
    with pytest.raises(JsonRpcException, match="too large to slice"):
        await session.command(
            "tandem.estimate",
            {
                "uri": session.uri(path),
                "range": {
                    "start": {"line": GET_PROJECT_LINE, "character": 4},
                    "end": {"line": GET_PROJECT_LINE, "character": 4},
                },
            },
        )
    # Deleting the padding with an incremental edit brings the buffer under the limit: the
    # server kept the text exactly, so the preview is the file's own again.
    lines = original.count("\n")
    session.client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=session.uri(path), version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(
                        start=types.Position(line=lines, character=0),
                        end=types.Position(line=lines + 200, character=0),
                    ),
                    text="",
                )
            ],
        )
    )
    assert "`get_project`" in _markdown(await session.hover(path, GET_PROJECT_LINE))
    assert path.read_text(encoding="utf-8") == original  # nothing was written
