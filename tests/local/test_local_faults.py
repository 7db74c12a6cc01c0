"""Faults against real local servers: each ends in one message naming the fix, and the task
resumes once the cause is fixed (a refused connection, a server killed mid-reply, an unknown
model name, a prompt longer than the server's context window)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from local_llama import (
    Exchange,
    LlamaServer,
    chat_calls,
    free_port,
    point_at,
    run_flow,
    serve,
    workspace,
)

pytestmark = pytest.mark.slow


def resumes_on(repo: Path, server: LlamaServer, task_id: str, calls: list[Exchange]) -> None:
    """Pointed at a working server, the task picks up at its plan step and sends it."""
    point_at(repo, server.base_url, server.model, max_output=64)  # short: only the sending matters
    before = len(chat_calls(calls))
    _, document, _ = run_flow(repo, "--resume", task_id)
    assert document["task_id"] == task_id
    assert len(chat_calls(calls)) > before
    assert document["status"] in ("planned", "failed"), document["message"]
    if document["status"] == "failed":  # a 135M model may well miss the schema: that is fine
        assert "could not connect" not in document["message"]
        assert "not found" not in document["message"]
        assert "too large" not in document["message"]


def test_connection_refused_names_the_fix_and_the_task_resumes(
    llama_server: LlamaServer, recorded: list[Exchange], tmp_path: Path
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/v1"
    repo = workspace(tmp_path, nowhere)
    code, document, _ = run_flow(repo)
    assert code == 1 and document["status"] == "failed"
    message = document["message"]
    assert f"could not connect to {nowhere}: is the local server at {nowhere} running?" in message
    assert "Start it, or point models.cheap.base_url at the address it listens on" in message
    assert "the task resumes here" in message
    assert [s["outcome"] for s in document["steps"]] == ["failed"]
    resumes_on(repo, llama_server, document["task_id"], recorded)


@pytest.fixture
def doomed_server() -> Iterator[LlamaServer]:
    yield from serve("llama-server")


def test_a_server_killed_mid_reply_names_the_fix_and_the_task_resumes(
    doomed_server: LlamaServer,
    llama_server: LlamaServer,
    recorded: list[Exchange],
    tmp_path: Path,
) -> None:
    repo = workspace(tmp_path, doomed_server.base_url, max_output_tokens=4096)
    killed = threading.Event()

    def kill_once_generating() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and doomed_server.decoded() < 5:
            time.sleep(0.05)  # until the reply is streaming
        doomed_server.process.kill()
        killed.set()

    killer = threading.Thread(target=kill_once_generating, daemon=True)
    killer.start()
    code, document, _ = run_flow(repo)
    killer.join(timeout=60)
    assert killed.is_set()
    assert code == 1 and document["status"] == "failed"
    message = document["message"]
    assert "connection to openai-compatible was lost" in message
    assert f"then could not connect to {doomed_server.base_url}" in message
    assert "Start it, or point models.cheap.base_url" in message
    (step,) = document["steps"]  # the cut reply's prompt and any text it had sent, counted
    assert step["outcome"] == "failed" and step["tokens_counted"] and step["input_tokens"] > 0
    resumes_on(repo, llama_server, document["task_id"], recorded)


@pytest.fixture(scope="module")
def router_server() -> Iterator[LlamaServer]:
    """llama-server in router mode: it serves models by name and refuses names it lacks."""
    yield from serve("llama-server", router=True)


def test_an_unknown_model_name_names_the_fix_and_the_task_resumes(
    router_server: LlamaServer, recorded: list[Exchange], tmp_path: Path
) -> None:
    repo = workspace(tmp_path, router_server.base_url, model="qwen-nowhere")
    code, document, _ = run_flow(repo)
    assert code == 1 and document["status"] == "failed"
    message = document["message"]
    assert f"model 'qwen-nowhere' was not found at {router_server.base_url}" in message
    assert "check models.cheap.model" in message and "tandem doctor" in message
    assert len(chat_calls(recorded)) == 1  # not mistaken for a structured-output refusal
    resumes_on(repo, router_server, document["task_id"], recorded)


@pytest.fixture(params=["llama-server", "llama-cpp-python"])
def small_window(request: pytest.FixtureRequest) -> Iterator[LlamaServer]:
    """A server whose context window (512 tokens) is shorter than the example's plan prompt."""
    yield from serve(request.param, context=512)


def test_a_prompt_longer_than_the_window_names_the_fix_and_the_task_resumes(
    small_window: LlamaServer,
    llama_server: LlamaServer,
    recorded: list[Exchange],
    tmp_path: Path,
) -> None:
    repo = workspace(tmp_path, small_window.base_url)
    code, document, _ = run_flow(repo)
    assert code == 1 and document["status"] == "failed"
    message = document["message"]
    assert "the request is too large for smollm2" in message
    assert "lower context.budget_tokens or models.cheap.max_output_tokens" in message
    assert "start the server with a larger context window" in message
    forms = [
        (c.sent.get("response_format", {}).get("type"), c.sent.get("stream") is True)
        for c in chat_calls(recorded)
    ]
    assert forms[-1][0] == small_window.structured_mode  # after llama-cpp-python's one refusal
    assert len(set(forms)) == len(forms)  # never sent twice in one form
    if small_window.kind == "llama-cpp-python":  # its stream ends empty: asked once unstreamed
        assert forms[-2:] == [("json_object", True), ("json_object", False)]
        assert "ended its streamed reply without a word, then the request is too large" in message
    else:  # llama-server refuses before streaming, with the reason
        assert all(streamed for _, streamed in forms)
    resumes_on(repo, llama_server, document["task_id"], recorded)
