"""Editor latency of ``tandem serve`` over a real stdio session (targets from issue 6).

1. Ready: time from spawning the server to its answer to ``initialize`` (target <= 1 s), beside
   a bare ``python -c pass`` measured in the same run.
2. ``textDocument/hover`` (target p95 <= 50 ms) and ``textDocument/codeAction`` (target p95 <=
   20 ms) on a generated 5,000-line Python file in a copy of the example project, with a
   ``didChange`` edit (an incremental one-line change in a random function) sent before every
   request, so no answer comes from a cache of an unchanged document. The first request of each
   kind is reported separately (cold).
3. RSS of the server after it has indexed a generated 2,000-file repository (target <= 200 MB),
   and the time the background index took.

Run: ``python bench/lsp_latency.py [REQUESTS]`` (default 200). Prints medians and p95; the
machine is shared, so compare with the bare-python baseline of the same run.
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from lsp_wire import frame, read_message

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "projects_api"
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "server")}
BIG_LINES = 5_000
REPO_FILES = 2_000
CAPABILITIES: dict[str, Any] = {
    "general": {"positionEncodings": ["utf-16"]},
    "window": {"workDoneProgress": True},
    "workspace": {"didChangeWatchedFiles": {"dynamicRegistration": True}},
    "textDocument": {
        "hover": {"contentFormat": ["markdown", "plaintext"]},
        "codeAction": {
            "codeActionLiteralSupport": {
                "codeActionKind": {"valueSet": ["", "quickfix", "refactor", "source"]}
            }
        },
    },
}


class Session:
    """A JSON-RPC client on the server's stdio that answers the server's own requests."""

    def __init__(self, root: Path | None, command: list[str] | None = None) -> None:
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            command or [sys.executable, "-m", "tandem", "serve", "--stdio"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=ENV,
            cwd=root or ROOT,
        )
        self.root = root
        self.next_id = 0
        self.responses: dict[int, tuple[float, dict[str, Any]]] = {}
        self.progress_ended = 0
        self.condition = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _send(self, payload: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(frame({"jsonrpc": "2.0", **payload}))
        self.process.stdin.flush()

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while (message := read_message(stream)) is not None:
            arrived = time.perf_counter()
            if "method" in message and "id" in message:  # a request from the server
                self._send({"id": message["id"], "result": None})
                continue
            if message.get("method") == "$/progress":
                if message["params"]["value"].get("kind") == "end":
                    with self.condition:
                        self.progress_ended += 1
                        self.condition.notify_all()
                continue
            if "id" in message and "method" not in message:
                with self.condition:
                    self.responses[int(message["id"])] = (arrived, message)
                    self.condition.notify_all()

    def request(self, method: str, params: Any) -> tuple[float, dict[str, Any]]:
        """Send a request; return (seconds until the answer, the answer)."""
        self.next_id += 1
        ident = self.next_id
        sent = time.perf_counter()
        self._send({"id": ident, "method": method, "params": params})
        with self.condition:
            self.condition.wait_for(lambda: ident in self.responses, timeout=120)
        arrived, message = self.responses.pop(ident)
        return arrived - sent, message

    def notify(self, method: str, params: Any) -> None:
        self._send({"method": method, "params": params})

    def initialize(self) -> float:
        """Initialize; the seconds from process start to the answer."""
        root_uri = self.root.as_uri() if self.root else None
        params = {"processId": None, "rootUri": root_uri, "capabilities": CAPABILITIES}
        self.request("initialize", params)
        ready = time.perf_counter() - self.started
        self.notify("initialized", {})
        return ready

    def wait_indexed(self, folders: int = 1, timeout: float = 600) -> float:
        start = time.perf_counter()
        with self.condition:
            self.condition.wait_for(lambda: self.progress_ended >= folders, timeout=timeout)
        return time.perf_counter() - start

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def close(self) -> None:
        try:
            self.request("shutdown", None)
            self.notify("exit", None)
            self.process.wait(timeout=10)
        except Exception:
            self.process.kill()
            self.process.wait()


def big_module(lines: int) -> str:
    out = ['"""Generated for the latency benchmark."""', "", "from app import queries", ""]
    index = 0
    while len(out) < lines:
        out += [
            f"def handler_{index}(connection, user, limit=10):",
            f'    """Handle request {index}."""',
            "    total = 0",
            "    for row in queries.list_projects(connection, user.id)[:limit]:",
            f"        total += row['id'] * {index}",
            "    return total",
            "",
            "",
        ]
        index += 1
    return "\n".join(out[:lines]) + "\n"


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def summary(name: str, seconds: list[float], target_ms: float | None = None) -> None:
    ms = [s * 1000 for s in seconds]
    target = f"   (target p95 <= {target_ms:.0f} ms)" if target_ms else ""
    print(
        f"{name:<28} median {statistics.median(ms):7.1f} ms   p95 {p95(ms):7.1f} ms   "
        f"max {max(ms):7.1f} ms   n={len(ms)}{target}"
    )


def bench_ready(runs: int) -> None:
    bare = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        bare.append(time.perf_counter() - start)
    ready = []
    for _ in range(runs):
        session = Session(None)
        ready.append(session.initialize())
        session.close()
    summary("bare python start", bare)
    summary("start -> initialize answered", ready, 1000)


def bench_latency(requests: int, scratch: Path) -> None:
    project = Path(shutil.copytree(EXAMPLE, scratch / "latency"))
    big = project / "app" / "big.py"
    text = big_module(BIG_LINES)
    big.write_text(text, encoding="utf-8")
    session = Session(project)
    session.initialize()
    indexed = session.wait_indexed()
    uri = big.as_uri()
    session.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}},
    )
    lines = text.splitlines()
    bodies = [i for i, line in enumerate(lines) if line.startswith("    total = 0")]
    rng = random.Random(5)
    version = 1
    timings: dict[str, list[float]] = {"textDocument/hover": [], "textDocument/codeAction": []}
    cold: dict[str, float] = {}
    failures: dict[str, str] = {}
    for round_ in range(requests):
        for method in timings:
            edited = rng.choice(bodies)
            version += 1
            session.notify(
                "textDocument/didChange",
                {
                    "textDocument": {"uri": uri, "version": version},
                    "contentChanges": [
                        {
                            "range": {
                                "start": {"line": edited, "character": 12},
                                "end": {"line": edited, "character": 13},
                            },
                            "text": str(version % 10),
                        }
                    ],
                },
            )
            line = rng.choice(bodies)
            position = {"line": line, "character": 6}
            document = {"uri": uri}
            if method == "textDocument/hover":
                params: dict[str, Any] = {"textDocument": document, "position": position}
            else:
                params = {
                    "textDocument": document,
                    "range": {"start": position, "end": position},
                    "context": {"diagnostics": []},
                }
            seconds, answer = session.request(method, params)
            if "error" in answer:
                failures[method] = answer["error"].get("message", "error")
                continue
            if round_ == 0:
                cold[method] = seconds
            else:
                timings[method].append(seconds)
    print(
        f"latency project: example + {BIG_LINES}-line app/big.py, indexed in {indexed:.2f}s; "
        f"a didChange before every request"
    )
    for method, target in (("textDocument/codeAction", 20), ("textDocument/hover", 50)):
        if timings[method]:
            print(f"{method:<28} cold {cold[method] * 1000:7.1f} ms")
            summary(method, timings[method], target)
        else:
            print(f"{method:<28} not available: {failures.get(method, 'no answers')}")
    session.close()


def bench_rss(scratch: Path) -> None:
    repo = scratch / "many"
    for index in range(REPO_FILES):
        package = repo / f"pkg{index // 50}"
        package.mkdir(parents=True, exist_ok=True)
        functions = "\n\n".join(
            f"def function_{index}_{k}(value):\n    return helper_{k}(value) + {k}\n"
            for k in range(6)
        )
        name = f"test_module_{index}.py" if index % 10 == 0 else f"module_{index}.py"
        (package / name).write_text(f'"""Module {index}."""\n\n{functions}', encoding="utf-8")
    session = Session(repo)
    session.initialize()
    before = session.rss_mb()
    indexed = session.wait_indexed()
    time.sleep(0.5)
    after = session.rss_mb()
    print(
        f"{REPO_FILES}-file repository: indexed in {indexed:.1f}s; RSS {before:.0f} MB after "
        f"initialize, {after:.0f} MB after indexing   (target <= 200 MB)"
    )
    session.close()


def main() -> None:
    requests = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    bench_ready(5)
    with tempfile.TemporaryDirectory(prefix="tandem-lsp-bench-") as scratch:
        bench_latency(requests, Path(scratch))
        bench_rss(Path(scratch))


if __name__ == "__main__":
    main()
