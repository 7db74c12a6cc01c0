"""Real local model servers for tests: llama.cpp's ``llama-server`` and llama-cpp-python's server.

Both are built by ``tools/install_llama.sh`` into a cache (``$TANDEM_LLAMA_CACHE``, default
``~/.cache/tandem-ci/llama``) and serve SmolLM2-135M-Instruct. :func:`start_server` runs one on
a free loopback port, waits until it answers, and :meth:`LlamaServer.stop` ends it. When the
cache lacks a binary, or the server does not come up, the caller gets a one-line reason to skip.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx2

ServerKind = Literal["llama-server", "llama-cpp-python"]
MODEL_ALIAS = "smollm2"
"""The name both servers list the model under (``--alias`` / ``--model_alias``)."""


def cache_dir() -> Path:
    explicit = os.environ.get("TANDEM_LLAMA_CACHE")
    return Path(explicit) if explicit else Path.home() / ".cache" / "tandem-ci" / "llama"


def model_path() -> Path:
    return cache_dir() / "models" / "smollm2-135m-instruct.gguf"


@dataclass
class LlamaServer:
    """One running server: where it listens, what it serves, and its log."""

    kind: ServerKind
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    context: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def model(self) -> str:
        return MODEL_ALIAS

    @property
    def structured_mode(self) -> str:
        """The strongest structured-output mode the server takes."""
        return "json_schema" if self.kind == "llama-server" else "json_object"

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " | ".join(text[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def missing(kind: ServerKind) -> str | None:
    """Why ``kind`` cannot run from the cache (one line), or None when it can."""
    cache = cache_dir()
    binary = _binary(kind)
    if not binary.exists():
        return (
            f"{binary} is missing: run tools/install_llama.sh {cache} (or set TANDEM_LLAMA_CACHE)"
        )
    if not model_path().exists():
        return f"{model_path()} is missing: run tools/install_llama.sh {cache}"
    return None


def _binary(kind: ServerKind) -> Path:
    if kind == "llama-server":
        return cache_dir() / "bin" / "llama-server"
    return cache_dir() / "pyserver" / "bin" / "python"


def _command(kind: ServerKind, port: int, context: int) -> list[str]:
    model = str(model_path())
    if kind == "llama-server":
        return [
            str(_binary(kind)),
            *("-m", model, "--alias", MODEL_ALIAS, "--host", "127.0.0.1"),
            *("--port", str(port), "-c", str(context), "-np", "1", "-t", "2"),
            "--no-webui",
        ]
    return [
        str(_binary(kind)),
        *("-m", "llama_cpp.server", "--model", model, "--model_alias", MODEL_ALIAS),
        *("--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(context)),
        *("--n_threads", "2", "--verbose", "False"),
    ]


def _ready(kind: ServerKind, port: int) -> bool:
    # llama-server answers /health with 503 while the model loads; llama-cpp-python loads the
    # model before it listens, so its model list answering means ready.
    path = "/health" if kind == "llama-server" else "/v1/models"
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def start_server(
    kind: ServerKind, *, context: int = 8192, wait_s: float = 90.0
) -> LlamaServer | str:
    """A started, ready server, or a one-line reason why there is none."""
    reason = missing(kind)
    if reason is not None:
        return reason
    port = free_port()
    log = Path(tempfile.mkdtemp(prefix=f"tandem-{kind}-")) / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            _command(kind, port, context),
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    server = LlamaServer(kind, port, process, log, context)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if not server.alive():
            return f"{kind} exited with {process.returncode} at start: {server.log_tail()}"
        if _ready(kind, port):
            return server
        time.sleep(0.2)
    server.stop()
    return f"{kind} did not answer within {wait_s:.0f} s: {server.log_tail()}"


class _Tee(httpx2.AsyncByteStream):
    """A response body passed on unchanged, with a copy kept."""

    def __init__(self, inner: httpx2.AsyncByteStream, copy: bytearray) -> None:
        self._inner = inner
        self._copy = copy

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            self._copy.extend(chunk)
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


class RecordingTransport(httpx2.AsyncBaseTransport):
    """The real HTTP transport, keeping a copy of every response body it delivers, so a test
    can read the usage the server reported (from a JSON body or a stream's events)."""

    def __init__(self, exchanges: list[Exchange] | None = None) -> None:
        self._inner = httpx2.AsyncHTTPTransport()
        self.exchanges: list[Exchange] = exchanges if exchanges is not None else []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self._inner.handle_async_request(request)
        copy = bytearray()
        sent = json.loads(request.content) if request.content else {}
        self.exchanges.append(Exchange(request.url.path, sent, response.status_code, copy))
        assert isinstance(response.stream, httpx2.AsyncByteStream)
        return httpx2.Response(
            response.status_code,
            headers=response.headers,
            stream=_Tee(response.stream, copy),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


@dataclass(frozen=True)
class Exchange:
    """One request as sent and the server's answer to it, byte for byte."""

    path: str
    sent: dict[str, Any]
    status: int
    body: bytearray

    @property
    def usage(self) -> dict[str, int] | None:
        """The usage the server reported for a chat completion (JSON body or stream events)."""
        return _usage_in(bytes(self.body).decode("utf-8", "replace"))


def chat_calls(exchanges: list[Exchange]) -> list[Exchange]:
    return [e for e in exchanges if e.path.endswith("/chat/completions")]


def _usage_in(text: str) -> dict[str, int] | None:
    if not text.lstrip().startswith("data:"):
        try:
            usage = json.loads(text).get("usage")
        except ValueError:
            return None
        return usage if isinstance(usage, dict) else None
    last = None
    for line in text.splitlines():
        payload = line.removeprefix("data:").strip()
        if line.startswith("data:") and payload.startswith("{"):
            usage = json.loads(payload).get("usage")
            last = usage if isinstance(usage, dict) else last
    return last
