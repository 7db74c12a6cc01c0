"""Fixtures that start the real local model servers (skipped, with the reason, without them)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from local_llama import LlamaServer, ServerKind, start_server


def _serve(kind: ServerKind, context: int = 8192) -> Iterator[LlamaServer]:
    started = start_server(kind, context=context)
    if isinstance(started, str):
        if os.environ.get("TANDEM_LLAMA_REQUIRED") == "1":  # set by .ci/run after a good build
            pytest.fail(started)
        pytest.skip(started)
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="session")
def llama_server() -> Iterator[LlamaServer]:
    """llama.cpp's C++ server (structured output: ``json_schema``)."""
    yield from _serve("llama-server")


@pytest.fixture(scope="session")
def llama_py_server() -> Iterator[LlamaServer]:
    """llama-cpp-python's server (structured output: ``json_object`` with a ``schema``)."""
    yield from _serve("llama-cpp-python")


@pytest.fixture(scope="session", params=["llama-server", "llama-cpp-python"])
def any_llama(request: pytest.FixtureRequest) -> Iterator[LlamaServer]:
    """Each of the two servers in turn."""
    name = "llama_server" if request.param == "llama-server" else "llama_py_server"
    yield request.getfixturevalue(name)
