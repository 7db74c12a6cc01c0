"""Fixtures that start the real local model servers (skipped, with the reason, without them)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from local_llama import KEYS, Exchange, LlamaServer, RecordingTransport, serve
from tandem.config import ModelSettings
from tandem.providers.base import Provider
from tandem.providers.registry import build_provider


@pytest.fixture(scope="session")
def llama_server() -> Iterator[LlamaServer]:
    """llama.cpp's C++ server (structured output: ``json_schema``)."""
    yield from serve("llama-server")


@pytest.fixture(scope="session")
def llama_py_server() -> Iterator[LlamaServer]:
    """llama-cpp-python's server (structured output: ``json_object`` with a ``schema``)."""
    yield from serve("llama-cpp-python")


@pytest.fixture(scope="session", params=["llama-server", "llama-cpp-python"])
def any_llama(request: pytest.FixtureRequest) -> Iterator[LlamaServer]:
    """Each of the two servers in turn."""
    name = "llama_server" if request.param == "llama-server" else "llama_py_server"
    yield request.getfixturevalue(name)


@pytest.fixture
def recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Exchange]]:
    """Every provider the CLI builds talks through a recording transport; no key is set and the
    structured-output memory starts empty."""
    for key in KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("TANDEM_CACHE_DIR", str(tmp_path / "cache"))
    exchanges: list[Exchange] = []

    def registry_providers(environ: Any, *, workspace: Any = None, fake_replies: Any = None) -> Any:
        def build(alias: str, model: ModelSettings) -> Provider:
            client = httpx2.AsyncClient(transport=RecordingTransport(exchanges))
            return build_provider(alias, model, environ, http_client=client)

        return build

    monkeypatch.setattr("tandem.flow.env.registry_providers", registry_providers)
    yield exchanges
