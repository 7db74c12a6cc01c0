"""Real local model servers for tests: llama.cpp's ``llama-server`` and llama-cpp-python's server.

Both are built by ``tools/install_llama.sh`` into a cache (``$TANDEM_LLAMA_CACHE``, default
``~/.cache/tandem-ci/llama``) and serve SmolLM2-135M-Instruct. :func:`start_server` runs one on
a free loopback port, waits until it answers, and :meth:`LlamaServer.stop` ends it. When the
cache lacks a binary, or the server does not come up, the caller gets a one-line reason to skip.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
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
    model: str = MODEL_ALIAS

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

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

    def processing(self) -> bool:
        """Whether llama-server is generating now (its ``/slots`` report)."""
        url = f"http://127.0.0.1:{self.port}/slots"
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                return any(slot.get("is_processing") for slot in json.load(answer))
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def decoded(self) -> int:
        """Tokens llama-server's busy slot has generated so far for its request (0 when idle)."""
        url = f"http://127.0.0.1:{self.port}/slots"
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                slots = json.load(answer)
        except (urllib.error.URLError, OSError, ValueError):
            return 0
        return sum(
            int(task.get("n_decoded", 0))
            for slot in slots
            if slot.get("is_processing")
            for task in slot.get("next_token") or []
        )

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


def _command(kind: ServerKind, port: int, context: int, router: bool) -> list[str]:
    model = str(model_path())
    if kind == "llama-server":
        # router mode serves every model of a folder by name and refuses unknown names
        serves = ("--models-dir", str(model_path().parent)) if router else ("-m", model)
        return [
            str(_binary(kind)),
            *serves,
            *(() if router else ("--alias", MODEL_ALIAS)),
            *("--host", "127.0.0.1", "--port", str(port)),
            *("-c", str(context), "-np", "1", "-t", "2", "--no-webui"),
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
    kind: ServerKind, *, context: int = 8192, router: bool = False, wait_s: float = 90.0
) -> LlamaServer | str:
    """A started, ready server, or a one-line reason why there is none; a ``router``
    llama-server serves the model under its file's name and refuses any other name."""
    reason = missing(kind)
    if reason is not None:
        return reason
    port = free_port()
    log = Path(tempfile.mkdtemp(prefix=f"tandem-{kind}-")) / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            _command(kind, port, context, router),
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    server = LlamaServer(kind, port, process, log, context)
    if router:
        server.model = model_path().stem
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

    @property
    def streamed_text(self) -> str:
        """The reply text a streamed chat completion delivered (content and tool arguments)."""
        parts: list[str] = []
        for line in bytes(self.body).decode("utf-8", "replace").splitlines():
            payload = line.removeprefix("data:").strip()
            if not (line.startswith("data:") and payload.startswith("{")):
                continue
            for choice in json.loads(payload).get("choices") or []:
                delta = choice.get("delta") or {}
                parts.append(delta.get("content") or "")
                for call in delta.get("tool_calls") or []:
                    parts.append((call.get("function") or {}).get("arguments") or "")
        return "".join(parts)


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


def serve(kind: ServerKind, *, context: int = 8192, router: bool = False) -> Iterator[LlamaServer]:
    """A fixture body: the started server, stopped afterwards; the test skips, saying why,
    when it cannot start (and fails instead when ``.ci/run`` built the servers:
    ``TANDEM_LLAMA_REQUIRED=1``)."""
    import pytest

    started = start_server(kind, context=context, router=router)
    if isinstance(started, str):
        if os.environ.get("TANDEM_LLAMA_REQUIRED") == "1":
            pytest.fail(started)
        pytest.skip(started)
    try:
        yield started
    finally:
        started.stop()


def workspace(
    tmp_path: Path, base_url: str, model: str = MODEL_ALIAS, max_output_tokens: int = 320
) -> Path:
    """A copy of the bundled example with both aliases on one local server and no key variable
    (:func:`point_at` moves them)."""
    repo = tmp_path / "projects_api"
    example = Path(__file__).resolve().parents[1] / "examples" / "projects_api"
    shutil.copytree(example, repo, ignore=shutil.ignore_patterns("__pycache__", ".tandem"))
    point_at(repo, base_url, model, max_output_tokens)
    return repo


def point_at(repo: Path, base_url: str, model: str = MODEL_ALIAS, max_output: int = 320) -> None:
    alias = (
        f'provider = "openai-compatible"\nmodel = "{model}"\nbase_url = "{base_url}"\n'
        f"max_output_tokens = {max_output}\n"
    )
    (repo / "tandem.toml").write_text(
        f"[models.strong]\n{alias}\n[models.cheap]\n{alias}\n"
        '[ledger]\npath = ".tandem/ledger.sqlite"\n'
    )


REQUEST = "add an optional archived filter to GET /projects, with tests"
SOURCE = ("--file", "app/handlers.py", "--lines", "10-14")
KEYS = ("ANTHROPIC_API_KEY", "OPENAI_API_KEY")


def run_flow(repo: Path, *options: str) -> tuple[int, dict[str, Any], str]:
    """``tandem run --json`` in this process (a new task on the example, or ``--resume ID``):
    the exit code, the JSON document and what went to stderr. Without ``--yes`` the run stops
    once the plan is written."""
    from tandem.cli import main

    start = list(options) if "--resume" in options else [*SOURCE, "--request", REQUEST, *options]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["run", "--repo", str(repo), *start, "--json"])
    assert "Traceback" not in err.getvalue()
    assert out.getvalue(), err.getvalue()
    document: dict[str, Any] = json.loads(out.getvalue())
    return code, document, err.getvalue()
