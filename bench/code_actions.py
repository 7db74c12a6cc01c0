"""Latency of ``textDocument/codeAction`` over a real stdio session, with edits between requests.

Opens a generated 5,000-line Python file in a scratch workspace (with a planned task touching it,
so "Draft from plan" is offered), then N times: one ``didChange`` (a line typed somewhere),
then a code action request at a random line, timed from writing the request to reading its
answer; then once more with no edit in between (what the server's own didChange handling
costs shows as the difference). The same is done on a 10-line file in the same session as the
baseline.
Prints median and p95 (ms) and the ratio to the baseline. Run:
``python bench/code_actions.py [N]`` (default 200). Not part of the test run.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lsp_wire import frame, read_message

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "server")}


class Session:
    def __init__(self, workspace: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tandem", "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=ENV,
        )
        self.next_id = 0
        self.versions: dict[str, int] = {}
        self.request(
            "initialize",
            {
                "processId": None,
                "rootUri": workspace.as_uri(),
                "workspaceFolders": [{"uri": workspace.as_uri(), "name": "bench"}],
                "capabilities": {"window": {"workDoneProgress": True}},
            },
        )
        self.notify("initialized", {})

    def send(self, payload: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(frame(payload))
        self.process.stdin.flush()

    def read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        message = read_message(self.process.stdout)
        if message is None:
            raise RuntimeError("tandem serve closed its output")
        return message

    def notify(self, method: str, params: dict[str, Any]) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method: str, params: dict[str, Any]) -> Any:
        self.next_id += 1
        ident = self.next_id
        self.send({"jsonrpc": "2.0", "id": ident, "method": method, "params": params})
        while True:
            message = self.read()
            if message.get("id") == ident and "method" not in message:
                return message.get("result")
            if "method" in message and "id" in message:  # a server request: answer it
                self.send({"jsonrpc": "2.0", "id": message["id"], "result": None})

    def open(self, file: Path) -> str:
        uri = file.as_uri()
        self.versions[uri] = 1
        document = {"uri": uri, "languageId": "python", "version": 1, "text": file.read_text()}
        self.notify("textDocument/didOpen", {"textDocument": document})
        return uri

    def type_line(self, uri: str, line: int) -> None:
        self.versions[uri] += 1
        at = {"line": line, "character": 0}
        self.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": self.versions[uri]},
                "contentChanges": [{"range": {"start": at, "end": at}, "text": "# typed\n"}],
            },
        )

    def code_actions(self, uri: str, line: int) -> tuple[float, int]:
        at = {"line": line, "character": 4}
        start = time.perf_counter()
        result = self.request(
            "textDocument/codeAction",
            {
                "textDocument": {"uri": uri},
                "range": {"start": at, "end": at},
                "context": {"diagnostics": []},
            },
        )
        return (time.perf_counter() - start) * 1000, len(result or [])

    def close(self) -> None:
        self.request("shutdown", {})
        self.notify("exit", {})
        self.process.wait(timeout=10)


def big_file(lines: int) -> str:
    functions = []
    for index in range(lines // 5):
        functions.append(f"def function_{index}(value):\n    total = value + {index}\n")
        functions.append("    return total * 2\n\n\n")
    return "".join(functions)


def planned_task(workspace: Path, path: str) -> None:
    """A task with a plan touching ``path``, written as the flow writes it."""
    sys.path.insert(0, str(ROOT / "server"))
    from tandem.flow.handoff import Plan, PlanReply, Scope, Task
    from tandem.flow.taskstore import TaskState, TaskStore
    from tandem.slicing.result import FileRangeAnchor

    store = TaskStore(workspace)
    anchor = FileRangeAnchor(path=path, start_line=1, end_line=3)
    task = Task(
        task_id="bench-task",
        request="bench",
        anchor=anchor,
        task_type="small",
        repo=str(workspace),
    )
    store.save_task(task)
    store.save_state(task.task_id, TaskState(status="planned"))
    reply = PlanReply(
        summary="bench",
        scope=Scope(units=[f"{path}::function_0"], files=[path], out_of_scope=[]),
        assumptions=[],
        steps=["x"],
        risks=[],
        test_cases=[],
        acceptance_checks=[],
        open_questions=[],
    )
    store.save_plan(task.task_id, Plan(reply=reply))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    random.seed(7)
    with tempfile.TemporaryDirectory(prefix="tandem-bench-") as scratch:
        workspace = Path(scratch)
        (workspace / "big.py").write_text(big_file(5000))
        (workspace / "small.py").write_text(big_file(10))
        planned_task(workspace, "big.py")
        session = Session(workspace)
        big, small = session.open(workspace / "big.py"), session.open(workspace / "small.py")
        results: dict[str, list[float]] = {
            "5,000 lines": [],
            "5,000 lines, no edit": [],
            "10 lines (baseline)": [],
        }
        counts: set[int] = set()
        for _ in range(10):  # warm up
            session.code_actions(big, 1)
            session.code_actions(small, 1)
        for _ in range(runs):
            session.type_line(big, random.randrange(0, 5000))
            elapsed, count = session.code_actions(big, random.randrange(0, 5000))
            results["5,000 lines"].append(elapsed)
            counts.add(count)
            elapsed, _ = session.code_actions(big, random.randrange(0, 5000))
            results["5,000 lines, no edit"].append(elapsed)
            session.type_line(small, random.randrange(0, 10))
            elapsed, _ = session.code_actions(small, random.randrange(0, 10))
            results["10 lines (baseline)"].append(elapsed)
        session.close()
    base = statistics.median(results["10 lines (baseline)"])
    print(f"textDocument/codeAction, {runs} requests each, an edit before each (actions: {counts})")
    for name, values in results.items():
        median, p95 = statistics.median(values), percentile(values, 0.95)
        print(f"  {name:>20}: median {median:.2f} ms, p95 {p95:.2f} ms, x{median / base:.2f}")


if __name__ == "__main__":
    main()
