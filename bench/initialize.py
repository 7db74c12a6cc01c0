"""Time from spawning ``tandem serve`` to its answer to ``initialize``, and ``tandem --help``.

Prints medians over N runs. Run: ``python bench/initialize.py [N]``. Not part of the test run.
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


def time_initialize() -> float:
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "tandem", "serve"],
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


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    python_start = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        python_start.append(time.perf_counter() - start)
    init = [time_initialize() for _ in range(runs)]
    helps = [time_help() for _ in range(runs)]
    print(f"runs: {runs}")
    print(f"bare python start     median {statistics.median(python_start) * 1000:7.1f} ms")
    print(f"tandem --help         median {statistics.median(helps) * 1000:7.1f} ms")
    print(f"serve -> initialize   median {statistics.median(init) * 1000:7.1f} ms")
    ratio = statistics.median(init) / statistics.median(python_start)
    print(f"initialize / bare python start: {ratio:.1f}x")


if __name__ == "__main__":
    main()
