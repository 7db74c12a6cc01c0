"""A real ``tandem serve`` survives hostile input and keeps answering valid requests correctly.

Framing cases are raw bytes written to one server process in sequence (each must leave it able to
answer ``tandem/ping``); protocol cases go through pytest-lsp under the VS Code and Neovim client
capability profiles; lifecycle cases get a fresh process each.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from raw_server import ENV, SERVE, RawServer, frame

from tandem.lsp.transport import Frame, FrameDecoder

PING = {"jsonrpc": "2.0", "method": "tandem/ping", "params": None}
URI = "file:///tmp/tandem-hostile/example.py"
ids = itertools.count(100)


def ping_answered(server: RawServer) -> None:
    msg_id = next(ids)
    assert server.request(msg_id, "tandem/ping") == {
        "jsonrpc": "2.0",
        "id": msg_id,
        "result": {"ok": True},
    }


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RawServer]:
    folder = tmp_path_factory.mktemp("raw")
    (folder / "workspace").mkdir()
    (folder / "workspace" / "small.py").write_text("def small():\n    return 1\n")
    with (folder / "stderr.log").open("wb") as stderr:
        server = RawServer(stderr)
        assert "result" in server.initialize(folder / "workspace")
        server.workspace = folder / "workspace"
        yield server
        assert server.malformed_output == []
        assert server.process.poll() is None, "the server died"
        server.close()


garbage = bytes(random.Random(8).randrange(256) for _ in range(5000)).replace(b"\r\n", b"..")

# (case, bytes, the error code of the null-id reply it must get, or None for no reply)
FRAMING_CASES: list[tuple[str, bytes, int | None]] = [
    ("bad JSON", frame(b"{not json"), -32700),
    ("empty body", frame(b""), -32700),
    ("deeply nested JSON", frame(b"[" * 200_000), -32700),
    ("missing Content-Length", b"Content-Type: application/json\r\n\r\n{}", None),
    ("non-numeric Content-Length", b"Content-Length: twelve\r\n\r\n{}", None),
    ("negative Content-Length", b"Content-Length: -4\r\n\r\n{}", None),
    ("header with no body", b"Content-Length: 60\r\n\r\n", None),
    ("truncated body", frame({"jsonrpc": "2.0", "id": "lost", "method": "tandem/ping"})[:-9], None),
    ("huge Content-Length", b"Content-Length: 99999999999999999\r\n\r\n", None),
    ("large Content-Length, small body", b"Content-Length: 200000000\r\n\r\n{", None),
    ("binary garbage", garbage, None),
    ("blank lines", b"\r\n\r\n\r\n\n\n", None),
    ("batch", frame([{"jsonrpc": "2.0", "id": "in-batch", "method": "tandem/ping"}]), -32600),
    ("number", frame(b"42"), -32600),
    ("null", frame(b"null"), -32600),
    ("string", frame(b'"initialize"'), -32600),
    ("object without method or id", frame({"jsonrpc": "2.0"}), -32600),
]


@pytest.mark.parametrize(
    ("data", "error"), [(d, e) for _, d, e in FRAMING_CASES], ids=[n for n, _, _ in FRAMING_CASES]
)
def test_bad_framing_is_survived_and_the_next_request_answered(
    raw: RawServer, data: bytes, error: int | None
) -> None:
    raw.write(data)
    ping_answered(raw)
    if error is not None:
        assert raw.reply(None)["error"]["code"] == error


def test_invalid_utf8_in_a_body_is_replaced_and_the_request_answered(raw: RawServer) -> None:
    raw.write(frame(b'{"jsonrpc":"2.0","id":"utf8","method":"tandem/ping","params":"\xff\xc3"}'))
    assert raw.reply("utf8")["result"] == {"ok": True}


def test_a_twenty_megabyte_document_is_accepted_edited_and_hovered(raw: RawServer) -> None:
    lines = [f"def function_{n}():  # {'x' * 60}\n    return {n}\n" for n in range(200_000)]
    text = "".join(lines)
    assert len(text) > 20_000_000
    uri = (raw.workspace / "big.py").as_uri()  # in the workspace folder: features process it
    item = {"uri": uri, "languageId": "python", "version": 1, "text": text}
    raw.notify("textDocument/didOpen", {"textDocument": item})
    ping_answered(raw)
    end = {"line": 2 * len(lines), "character": 0}
    change = {"range": {"start": end, "end": end}, "text": "tail = 1\n"}
    raw.notify(
        "textDocument/didChange",
        {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [change]},
    )
    hover = raw.request(
        "big-hover",
        "textDocument/hover",
        {"textDocument": {"uri": uri}, "position": {"line": 2 * 199_999, "character": 6}},
    )
    assert "result" in hover or hover["error"]["code"] == -32601, hover  # -32601: no hover yet
    ping_answered(raw)
    raw.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    ping_answered(raw)


def test_folders_that_are_not_projects_are_not_indexed_and_the_user_is_told_once(
    raw: RawServer, tmp_path: Path
) -> None:
    documents = tmp_path / "documents"
    documents.mkdir()
    for n in range(10_001):  # over the walk's bound, and nothing to slice among them
        (documents / f"note{n}.txt").touch()
    small = raw.workspace / "small.py"
    refused = {"file:///": "root of the filesystem", documents.as_uri(): "no file to slice"}
    refused[small.as_uri()] = "not a folder"
    for _ in range(2):  # the same folders again: no second message
        added = [{"uri": uri, "name": "f"} for uri in refused]
        raw.notify(
            "workspace/didChangeWorkspaceFolders", {"event": {"added": added, "removed": []}}
        )
        ping_answered(raw)
    deadline = time.monotonic() + 30
    told: list[str] = []
    while len(told) < len(refused) and time.monotonic() < deadline:
        ping_answered(raw)  # collects the server's notifications in raw.seen
        told = [m["params"]["message"] for m in raw.seen if m.get("method") == "window/showMessage"]
    for uri, reason in refused.items():
        path = uri.removeprefix("file://")
        lines = [line for line in told if f"not indexing {path.rstrip('/') or '/'}:" in line]
        assert len(lines) == 1 and reason in lines[0] and "\n" not in lines[0], told
    # The file is still served by its own folder, as a file.
    hover = raw.request(
        "small-hover",
        "textDocument/hover",
        {"textDocument": {"uri": small.as_uri()}, "position": {"line": 0, "character": 5}},
    )
    assert "small" in hover["result"]["contents"]["value"], hover
    raw.seen[:] = [m for m in raw.seen if m.get("method") != "window/showMessage"]
    removed = [{"uri": uri, "name": "f"} for uri in refused]  # the fixture's workspace again
    raw.notify("workspace/didChangeWorkspaceFolders", {"event": {"added": [], "removed": removed}})
    ping_answered(raw)


def test_a_workspace_folder_whose_path_holds_a_nul_is_left_out(raw: RawServer) -> None:
    folder = {"uri": "file:///tmp/a%00b", "name": "nul"}
    raw.notify("workspace/didChangeWorkspaceFolders", {"event": {"added": [folder], "removed": []}})
    answer = raw.request("nul-draft", "workspace/executeCommand", {"command": "tandem.draft"})
    assert answer["error"]["code"] == -32803, answer  # RequestFailed: no plan yet, no crash
    assert "no task has a plan yet" in answer["error"]["message"]
    raw.notify("workspace/didChangeWorkspaceFolders", {"event": {"added": [], "removed": [folder]}})


# (case, command, argument, the argument the error message must name)
BAD_COMMAND_ARGUMENTS: list[tuple[str, str, Any, str]] = [
    ("NUL in a draft's task id", "tandem.draft", {"task_id": "20261130-a\u0000b"}, "task_id"),
    ("NUL in a redraft's task id", "tandem.redraft", {"task_id": "a\u0000"}, "task_id"),
    ("NUL in a reapply's task id", "tandem.reapplyDraft", {"task_id": "a\u0000"}, "task_id"),
    ("NUL in a review's task id", "tandem.review", {"task_id": "a\u0000"}, "task_id"),
    ("NUL in a git base", "tandem.review", {"working_tree": True, "base": "HEAD\u0000"}, "base"),
    ("NUL in a plan's uri", "tandem.plan", {"uri": "WORKSPACE/small.py\u0000"}, "uri"),
    ("%00 in an estimate's uri", "tandem.estimate", {"uri": "file:///a%00b.py"}, "uri"),
    ("%00 in a report's uri", "tandem.showReport", {"uri": "file:///a%00b"}, "uri"),
    (
        "NUL in a request",
        "tandem.plan",
        {"uri": "WORKSPACE/small.py", "request": "a\u0000"},
        "request",
    ),
    ("a number for a task id", "tandem.draft", {"task_id": 5}, "task_id"),
    ("a path for a task id", "tandem.redraft", {"task_id": "../../etc/passwd"}, "task_id"),
    ("a string for a boolean", "tandem.review", {"working_tree": "yes"}, "working_tree"),
    (
        "a number for a request",
        "tandem.estimate",
        {"uri": "WORKSPACE/small.py", "request": 5},
        "request",
    ),
    ("a huge task id", "tandem.reapplyDraft", {"task_id": "t" * 200_000}, "task_id"),
    ("a huge uri", "tandem.plan", {"uri": "file:///" + "u" * 200_000}, "uri"),
    (
        "a huge request",
        "tandem.plan",
        {"uri": "WORKSPACE/small.py", "request": "r" * 200_000},
        "request",
    ),
    (
        "a line beyond LSP's integers",
        "tandem.plan",
        {
            "uri": "WORKSPACE/small.py",
            "range": {
                "start": {"line": 0, "character": 0},
                "end": {"line": 10**30, "character": 0},
            },
        },
        "range.end.line",
    ),
    ("a file outside the workspace", "tandem.plan", {"uri": "file:///etc/passwd"}, "outside"),
    ("a review outside the workspace", "tandem.review", {"uri": "file:///etc/hosts"}, "outside"),
    (
        "an estimate outside the workspace",
        "tandem.estimate",
        {"uri": "file:///etc/hosts"},
        "not in",
    ),
]


def with_workspace(value: Any, workspace: Path) -> Any:
    if isinstance(value, str):
        return value.replace("WORKSPACE", workspace.as_uri())
    if isinstance(value, dict):
        return {key: with_workspace(item, workspace) for key, item in value.items()}
    return value


@pytest.mark.parametrize(
    ("command", "argument", "named"),
    [case[1:] for case in BAD_COMMAND_ARGUMENTS],
    ids=[case[0] for case in BAD_COMMAND_ARGUMENTS],
)
def test_bad_command_arguments_get_invalid_params_naming_them(
    raw: RawServer, command: str, argument: Any, named: str
) -> None:
    msg_id = f"command-{next(ids)}"
    params = {"command": command, "arguments": [with_workspace(argument, raw.workspace)]}
    error = raw.request(msg_id, "workspace/executeCommand", params)["error"]
    assert error["code"] == -32602, error
    assert error["message"].startswith(command) and named in error["message"], error
    assert len(error["message"]) < 1000  # a huge value is never echoed back
    ping_answered(raw)


def test_show_report_answers_a_client_that_cannot_show_documents(raw: RawServer) -> None:
    # The raw client declares no window.showDocument: the report is written and its uri
    # returned, instead of waiting forever for an answer that never comes.
    params = {"command": "tandem.showReport", "arguments": [{}]}
    reply = raw.request(f"report-{next(ids)}", "workspace/executeCommand", params)
    assert reply["result"]["uri"] == (raw.workspace / ".tandem" / "report.md").as_uri()
    ping_answered(raw)


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[RawServer]:
    with (tmp_path / "stderr.log").open("wb") as stderr:
        server = RawServer(stderr)
        yield server
        server.close()


def test_requests_before_initialize_get_server_not_initialized(fresh: RawServer) -> None:
    assert fresh.request(1, "tandem/ping")["error"]["code"] == -32002
    assert fresh.request(2, "textDocument/hover", {})["error"]["code"] == -32002
    assert "result" in fresh.initialize()
    ping_answered(fresh)


def test_exit_without_shutdown_ends_the_process_with_code_1(fresh: RawServer) -> None:
    fresh.initialize()
    fresh.notify("exit", None)
    assert fresh.process.wait(timeout=30) == 1


def test_exit_after_shutdown_ends_the_process_with_code_0(fresh: RawServer) -> None:
    fresh.initialize()
    assert fresh.request(2, "shutdown")["result"] is None
    assert fresh.request(3, "tandem/ping")["error"]["code"] == -32600
    fresh.notify("exit", None)
    assert fresh.process.wait(timeout=30) == 0


PRINTING_SERVER = textwrap.dedent(
    """
    import os, sys
    from tandem.lsp.app import create_server
    from tandem.lsp.transport import run_stdio

    server = create_server()

    @server.feature("test/print")
    def noisy(ls, params):
        print("stray print from a handler")
        sys.stdout.flush()
        os.write(1, b"raw write to descriptor 1\\n")
        return {"printed": True}

    sys.exit(run_stdio(server))
    """
)


def test_nothing_a_handler_writes_to_stdout_reaches_the_channel(tmp_path: Path) -> None:
    log = tmp_path / "stderr.log"
    with log.open("wb") as stderr:
        server = RawServer(stderr, [sys.executable, "-c", PRINTING_SERVER])
        try:
            server.initialize()
            assert server.request(2, "test/print")["result"] == {"printed": True}
            ping_answered(server)
            assert server.malformed_output == []
        finally:
            server.close()
    logged = log.read_text()
    assert "stray print from a handler" in logged and "raw write to descriptor 1" in logged


# --- protocol-level cases through a real LSP client ----------------------------------------------


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVE, server_env=ENV),
    params=["visual-studio-code", "neovim"],
)
async def client(request: pytest.FixtureRequest, lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    params = types.InitializeParams(capabilities=client_capabilities(request.param))
    await lsp_client.initialize_session(params)
    yield
    await lsp_client.shutdown_session()


async def ping(client: LanguageClient) -> None:
    reply = await raw_request(client, "tandem/ping", None)  # the client turns objects into tuples
    assert reply._asdict() == {"ok": True}


async def raw_request(client: LanguageClient, method: str, params: Any) -> Any:
    """Send params as given: the client's own send_request would type-check them first."""
    msg_id = f"raw-{next(ids)}"
    future: Future[Any] = Future()
    client.protocol._request_futures[msg_id] = future
    client.protocol._send_data({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
    return await asyncio.wait_for(asyncio.wrap_future(future), timeout=30)


def raw_notify(client: LanguageClient, method: str, params: Any) -> None:
    client.protocol._send_data({"jsonrpc": "2.0", "method": method, "params": params})


async def error_of(client: LanguageClient, method: str, params: Any) -> int:
    with pytest.raises(JsonRpcException) as raised:
        await raw_request(client, method, params)
    code: int = raised.value.code
    return code


async def test_wrong_parameter_types_get_invalid_params(client: LanguageClient) -> None:
    for method, params in [
        ("textDocument/hover", {"textDocument": 5, "position": "here"}),
        ("textDocument/codeAction", {"textDocument": {"uri": 1}, "range": [], "context": None}),
        ("workspace/executeCommand", {"command": ["tandem.plan"], "arguments": "x"}),
        ("textDocument/hover", [1, 2, 3]),
    ]:
        assert await error_of(client, method, params) == -32602, method
        await ping(client)


async def test_unknown_methods_get_method_not_found_and_unknown_notifications_nothing(
    client: LanguageClient,
) -> None:
    assert await error_of(client, "tandem/noSuchMethod", {"x": 1}) == -32601
    raw_notify(client, "tandem/noSuchNotification", {"x": 1})
    await ping(client)
    assert not [m for m in client.messages if m.type == types.MessageType.Error]


def open_document(client: LanguageClient, text: str) -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=URI, language_id="python", version=1, text=text
            )
        )
    )


async def test_positions_out_of_range_are_answered(client: LanguageClient) -> None:
    open_document(client, "def f(x):\n    return x\n")
    far = {"line": 10**6, "character": 10**6}
    document = {"uri": URI}
    for method, params in [
        ("textDocument/hover", {"textDocument": document, "position": far}),
        (
            "textDocument/hover",
            {"textDocument": document, "position": {"line": 1, "character": 999}},
        ),
        (
            "textDocument/codeAction",
            {
                "textDocument": document,
                "range": {"start": far, "end": {"line": 0, "character": 0}},
                "context": {"diagnostics": []},
            },
        ),
    ]:
        try:
            await raw_request(client, method, params)
        except JsonRpcException as error:
            assert error.code in (-32601, -32602, -32603)
        await ping(client)
    raw_notify(
        client,
        "textDocument/didChange",
        {
            "textDocument": {"uri": URI, "version": 2},
            "contentChanges": [{"range": {"start": far, "end": far}, "text": "x"}],
        },
    )
    await ping(client)


async def test_lone_surrogates_in_text_are_survived(client: LanguageClient) -> None:
    open_document(client, "name = '\ud800'\nother = '\udfff'\n")
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=URI, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text="\udc00 = 1\n")],
        )
    )
    await ping(client)


async def test_did_change_for_a_document_never_opened_is_ignored(client: LanguageClient) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(
                uri="file:///never/opened.py", version=3
            ),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text="x = 1\n")],
        )
    )
    await ping(client)
    assert not [m for m in client.messages if m.type == types.MessageType.Error]


async def test_a_second_initialize_is_refused(client: LanguageClient) -> None:
    params = {"processId": None, "capabilities": {}}
    assert await error_of(client, "initialize", params) == -32600
    await ping(client)


# --- the TCP transport is the same hardened reader -----------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_tcp_mode_survives_garbage_and_answers(tmp_path: Path) -> None:
    port = free_port()
    command = [*SERVE[:-1], "--tcp", f"127.0.0.1:{port}"]
    with (tmp_path / "stderr.log").open("wb") as stderr:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stderr=stderr, env=ENV)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    connection = socket.create_connection(("127.0.0.1", port), timeout=30)
                    break
                except OSError:
                    assert time.monotonic() < deadline, "the TCP server never listened"
                    time.sleep(0.1)
            with connection:
                init = {"jsonrpc": "2.0", "id": 1, "method": "initialize"}
                connection.sendall(
                    b"Content-Length: 9999999999999\r\n\r\n"
                    + frame(b"{not json")
                    + frame({**init, "params": {"capabilities": {}}})
                    + frame({"jsonrpc": "2.0", "id": 2, "method": "tandem/ping"})
                    + frame({"jsonrpc": "2.0", "id": 3, "method": "shutdown"})
                    + frame({"jsonrpc": "2.0", "method": "exit"})
                )
                decoder = FrameDecoder()
                replies: dict[Any, Any] = {}
                while 3 not in replies and (chunk := connection.recv(1 << 16)):
                    decoder.feed(chunk)
                    for event in decoder.events():
                        assert isinstance(event, Frame)
                        message = json.loads(event.body)
                        if "method" not in message:  # not a log notification
                            replies[message.get("id")] = message
            assert replies[None]["error"]["code"] == -32700
            assert replies[2]["result"] == {"ok": True}
            assert process.wait(timeout=30) == 0
        finally:
            if process.poll() is None:
                process.kill()
