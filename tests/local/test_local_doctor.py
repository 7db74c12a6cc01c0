"""``tandem doctor`` against real local servers: the server answers and lists the model (no model
call), and ``--probe`` finds the structured-output mode each server takes."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import httpx2
import pytest

from local_llama import Exchange, LlamaServer, RecordingTransport, free_port, workspace
from tandem.cli import main
from tandem.config import load_settings
from tandem.reports.doctor import Check
from tandem.reports.doctor_servers import server_checks


async def checks_for(repo: Path, probe: bool) -> tuple[list[Check], list[Exchange]]:
    exchanges: list[Exchange] = []
    client = httpx2.AsyncClient(transport=RecordingTransport(exchanges))
    settings = load_settings(workspace=repo).settings
    try:
        return await server_checks(settings, {}, probe=probe, http_client=client), exchanges
    finally:
        await client.aclose()


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_CACHE_DIR", str(tmp_path / "cache"))


async def test_without_probe_the_doctor_lists_models_and_calls_none(
    llama_server: LlamaServer, tmp_path: Path
) -> None:
    checks, exchanges = await checks_for(workspace(tmp_path, llama_server.base_url), False)
    assert [(c.name, c.ok) for c in checks] == [("server strong", True), ("server cheap", True)]
    assert checks[0].detail == f"{llama_server.base_url} answers and serves smollm2"
    assert {e.path for e in exchanges} == {"/v1/models"}


async def test_the_probe_finds_each_servers_mode(any_llama: LlamaServer, tmp_path: Path) -> None:
    checks, exchanges = await checks_for(workspace(tmp_path, any_llama.base_url), True)
    probe = {c.name: c for c in checks}["probe strong"]
    assert probe.ok, probe.detail
    assert probe.detail.startswith(f"structured output {any_llama.structured_mode!r} works")
    counted = "counted by Tandem: the server reports no usage in its stream"
    if any_llama.kind == "llama-cpp-python":
        assert "; json_schema refused" in probe.detail
        assert counted in probe.detail
    else:
        assert counted not in probe.detail
    assert {c.name: c for c in checks}["probe cheap"].detail == "as for strong"
    chats = [e for e in exchanges if e.path.endswith("/chat/completions")]
    assert len(chats) == (1 if any_llama.kind == "llama-server" else 2)


def test_doctor_cli_says_the_probe_is_a_model_call_and_names_fixes(
    llama_server: LlamaServer, tmp_path: Path
) -> None:
    repo = workspace(tmp_path, llama_server.base_url)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["doctor", "--workspace", str(repo), "--probe"]) == 0
    text = out.getvalue()
    assert text.startswith("--probe: sending one small structured request (a model call)")
    assert "ok probe strong: structured output 'json_schema' works" in text

    nowhere = f"http://127.0.0.1:{free_port()}/v1"
    (tmp_path / "elsewhere").mkdir()
    repo = workspace(tmp_path / "elsewhere", nowhere, model="qwen-nowhere")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["doctor", "--workspace", str(repo)]) == 1
    text = out.getvalue()
    assert f"!! server cheap: {nowhere} does not answer (connection refused)" in text
    assert "fix: start the server, or point models.cheap.base_url at the address it" in text


async def test_a_model_the_server_does_not_list_is_named_with_what_it_lists(
    llama_server: LlamaServer, tmp_path: Path
) -> None:
    repo = workspace(tmp_path, llama_server.base_url, model="qwen-nowhere")
    checks, _ = await checks_for(repo, False)
    assert not checks[0].ok
    assert "does not list 'qwen-nowhere' (it lists: smollm2" in checks[0].detail
    assert checks[0].fix == "set models.strong.model to one of the names it lists"
