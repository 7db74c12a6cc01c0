"""Cancelling a step while the real llama-server streams its reply: from the editor (the LSP
``$/cancelRequest`` and the progress's cancel button) and from the terminal (Ctrl-C). The stream
is closed, the server stops generating (its ``/slots`` shows the slot idle, having decoded far
fewer tokens than the request allowed), it keeps serving, and the ledger holds a ``cancelled``
step with the usage known at that moment (counted, and marked so)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from local_llama import KEYS, REQUEST, SOURCE, LlamaServer, workspace

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
MAX_OUTPUT = 4096  # far more than the model writes before the test cancels it
HANDLER = "app/handlers.py"


def seconds_until_idle(server: LlamaServer, since: float) -> float:
    deadline = time.monotonic() + 30  # a hang guard, not a timing check
    while server.processing():
        assert time.monotonic() < deadline, "the server kept generating after the cancel"
        time.sleep(0.01)
    return time.monotonic() - since


def answers_quickly(server: LlamaServer) -> None:
    """The server still serves: a new one-token request is answered."""
    body = json.dumps(
        {"model": server.model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1}
    ).encode()
    request = urllib.request.Request(
        f"{server.base_url}/chat/completions", body, {"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert json.load(answer)["usage"]["completion_tokens"] == 1


def cancelled_rows(repo: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(repo / ".tandem" / "ledger.sqlite") as db:
        return list(
            db.execute(
                "SELECT step, outcome, input_tokens, output_tokens, usage_counted FROM steps "
                "ORDER BY id"
            )
        )


def assert_recorded_as_cancelled(repo: Path) -> None:
    ((step, outcome, input_tokens, output_tokens, counted),) = cancelled_rows(repo)
    assert (step, outcome, counted) == ("plan", "cancelled", 1)
    assert input_tokens > 0 and 0 < output_tokens < MAX_OUTPUT


# --- from the terminal: Ctrl-C ----------------------------------------------------------------


def test_ctrl_c_mid_stream_stops_the_server_and_records_a_cancelled_step(
    llama_server: LlamaServer, tmp_path: Path
) -> None:
    repo = workspace(tmp_path, llama_server.base_url, max_output_tokens=MAX_OUTPUT)
    env = {k: v for k, v in os.environ.items() if k not in KEYS}
    env["PYTHONPATH"] = str(ROOT / "server")
    env["TANDEM_CACHE_DIR"] = str(tmp_path / "cache")
    command = [sys.executable, "-m", "tandem", "run", "--repo", str(repo), *SOURCE]
    process = subprocess.Popen(
        [*command, "--request", REQUEST, "--yes"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=repo,
    )
    lines: list[str] = []
    streaming = threading.Event()

    def read_stderr() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line)
            if "tokens received" in line:
                streaming.set()

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    try:
        assert streaming.wait(120), "".join(lines)
        decoded = llama_server.decoded()
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        idle_after = seconds_until_idle(llama_server, sent)
        assert process.wait(60) == 130
    finally:
        if process.poll() is None:
            process.kill()
    reader.join(10)
    err = "".join(lines)
    assert "Traceback" not in err
    assert "interrupted; the step under way is recorded as cancelled" in err
    assert "resume: tandem run --resume " in err
    assert 0 < decoded < MAX_OUTPUT
    print(f"Ctrl-C to idle: {idle_after * 1000:.0f} ms")
    assert_recorded_as_cancelled(repo)
    answers_quickly(llama_server)


# --- from the editor: $/cancelRequest and the progress cancel button ---------------------------


@pytest.fixture
def project(llama_server: LlamaServer, tmp_path: Path) -> Path:
    repo = workspace(tmp_path, llama_server.base_url, max_output_tokens=MAX_OUTPUT)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "."], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "example"], cwd=repo, check=True)
    return repo


SERVER_ENV = {
    **{k: v for k, v in os.environ.items() if k not in KEYS},
    "PYTHONPATH": str(ROOT / "server"),
}


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=[sys.executable, "-m", "tandem", "serve", "--stdio"],
        server_env=SERVER_ENV,
    ),
)
async def client(lsp_client: LanguageClient, project: Path) -> AsyncIterator[None]:
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            workspace_folders=[types.WorkspaceFolder(uri=project.as_uri(), name="projects_api")],
            root_uri=project.as_uri(),
        )
    )
    yield
    await lsp_client.shutdown_session()


async def progress_with_tokens(client: LanguageClient) -> types.ProgressToken:
    """The step's progress token, once a report says how many tokens have arrived."""
    for _ in range(1200):
        for token, values in client.progress_reports.items():
            messages = [
                v.message or "" for v in values if isinstance(v, types.WorkDoneProgressReport)
            ]
            if any("tokens received" in message for message in messages):
                return token
        await asyncio.sleep(0.1)
    raise AssertionError("no progress report of tokens received")


@pytest.mark.parametrize("how", ["$/cancelRequest", "progress cancel"])
async def test_cancel_from_the_editor_mid_stream_stops_the_server(
    client: LanguageClient, project: Path, llama_server: LlamaServer, how: str
) -> None:
    uri = (project / HANDLER).as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text=(project / HANDLER).read_text()
            )
        )
    )
    selection = types.Range(
        start=types.Position(line=9, character=0), end=types.Position(line=14, character=0)
    )
    argument = {"uri": uri, "range": selection, "request": REQUEST}
    params = types.ExecuteCommandParams(command="tandem.plan", arguments=[argument])
    call = asyncio.ensure_future(
        client.protocol.send_request_async(
            types.WORKSPACE_EXECUTE_COMMAND, params, msg_id="plan-to-cancel"
        )
    )
    token = await progress_with_tokens(client)
    report = [
        v for v in client.progress_reports[token] if isinstance(v, types.WorkDoneProgressReport)
    ]
    assert any(
        r.message and r.message.startswith("plan: ") and r.message.endswith(" s") for r in report
    )
    decoded = llama_server.decoded()
    sent = time.monotonic()
    if how == "$/cancelRequest":
        client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="plan-to-cancel"))
    else:
        client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    idle_after = await asyncio.to_thread(seconds_until_idle, llama_server, sent)
    with pytest.raises(JsonRpcException) as raised:
        await asyncio.wait_for(call, 30)
    assert raised.value.code == -32800  # RequestCancelled
    assert 0 < decoded < MAX_OUTPUT
    print(f"{how} to idle: {idle_after * 1000:.0f} ms")
    for _ in range(100):
        if cancelled_rows(project):
            break
        await asyncio.sleep(0.05)
    assert_recorded_as_cancelled(project)
    await asyncio.to_thread(answers_quickly, llama_server)
