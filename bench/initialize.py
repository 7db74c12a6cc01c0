"""Time from spawning ``tandem serve`` to its answer to ``initialize``, and ``tandem --help``.

Beside, in the same run: a bare ``python -c pass`` and ``bench/null_server.py``, a pygls server
that does no work, started the same way (target from issue 18: Tandem within 1.2x of it).
Prints medians and p95 over N runs, interleaved so that load on the machine hits both alike.
Run: ``python bench/initialize.py [N]`` (default 20). Not part of the test run.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from lsp_wire import frame, read_message

SERVER_ROOT = Path(__file__).resolve().parents[1] / "server"
ENV = {**os.environ, "PYTHONPATH": str(SERVER_ROOT)}
TANDEM = [sys.executable, "-m", "tandem", "serve"]
NULL_SERVER = [sys.executable, str(Path(__file__).resolve().parent / "null_server.py")]


def time_initialize(command: list[str]) -> float:
    start = time.perf_counter()
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=ENV,
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(
        frame(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {"processId": None, "rootUri": None, "capabilities": {}},
            }
        )
    )
    process.stdin.flush()
    while True:
        message = read_message(process.stdout)
        if message is None:
            raise RuntimeError("tandem serve closed its output before answering initialize")
        if message.get("id") == 1:
            break
    elapsed = time.perf_counter() - start
    process.kill()
    process.wait()
    return elapsed


def time_help() -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "tandem", "--help"], env=ENV, check=True, capture_output=True
    )
    return time.perf_counter() - start


def time_python() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - start


def show(name: str, seconds: list[float]) -> None:
    ordered = sorted(seconds)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    median = statistics.median(seconds)
    print(f"{name:<32} median {median * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms")


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    python_start: list[float] = []
    null: list[float] = []
    init: list[float] = []
    helps: list[float] = []
    for _ in range(runs):
        python_start.append(time_python())
        null.append(time_initialize(NULL_SERVER))
        init.append(time_initialize(TANDEM))
        helps.append(time_help())
    print(f"runs: {runs}")
    show("bare python start", python_start)
    show("tandem --help", helps)
    show("do-nothing pygls -> initialize", null)
    show("tandem serve -> initialize", init)
    ratio = statistics.median(init) / statistics.median(null)
    print(f"initialize: tandem / do-nothing pygls server {ratio:.2f}x (target <= 1.2x)")


if __name__ == "__main__":
    main()
