"""Editor latency right after edits, over a real stdio session, beside a do-nothing pygls server.

Targets from issue 18, for ``tandem serve --stdio`` and ``bench/null_server.py`` (a pygls server
that does no work, started the same way) in the same run:

1. Edits: a generated 5,000-line Python file in a copy of the example project; an incremental
   ``didChange`` before every fifth request, cycling insert a line, delete a line, type a
   character, delete a character, anywhere in the file (an inserted line shifts every unit below
   it; every other character typed is a "=", a syntax error until it is deleted). Requests
   alternate hover and code action; code actions cycle a cursor, a whole line and a 3-30 line
   span. Reported apart: the first request of each kind after an edit, so work deferred past
   the first request is still counted (targets: code action p95 <= 5 ms, hover p95 <= 10 ms),
   and the steady ones (target: hover <= 3 ms). Not typed: a lone "(", after which
   tree-sitter-python wraps the whole rest of the file in one ERROR node, so that every parse
   until it is closed costs about a fresh parse (15 ms on this file); editors close brackets
   as they are typed.
2. Too large: a document over ``context.max_file_bytes`` (20 MB) opened, edited a character at a
   time, and asked for hovers and code actions (target: every answer <= 50 ms), each followed by
   a hover on the small file (never blocked by the large one).

Run: ``python bench/lsp_edit_latency.py [REQUESTS] [edits|large]`` (default 600 requests, both
parts). Prints medians and p95.
"""

from __future__ import annotations

import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lsp_latency import BIG_LINES, EXAMPLE, Session, big_module, summary

NULL_SERVER = [sys.executable, str(Path(__file__).resolve().parent / "null_server.py")]
INSERTED = "    total += 1"
TYPED = "x="
EDITS = ("insert a line", "delete a line", "type a character", "delete a character")
HUGE_BYTES = 20 * 1024 * 1024


def _range(start: tuple[int, int], end: tuple[int, int]) -> dict[str, Any]:
    return {
        "start": {"line": start[0], "character": start[1]},
        "end": {"line": end[0], "character": end[1]},
    }


class Buffer:
    """The client's copy of the document, edited the way a user edits it (ASCII only, so
    UTF-16 columns are character columns)."""

    def __init__(self, text: str, rng: random.Random) -> None:
        self.lines = text.splitlines()
        self.rng = rng
        self.version = 1
        self.typed = 0

    def _pick(self, wanted: str) -> int | None:
        found = [i for i, line in enumerate(self.lines) if line.startswith(wanted)]
        return self.rng.choice(found) if found else None

    def edit(self, kind: str) -> dict[str, Any]:
        """One ``contentChanges`` entry of ``kind``, applied to the copy."""
        if kind == "delete a line":
            at = self._pick(INSERTED)
            if at is not None:
                del self.lines[at]
                return {"range": _range((at, 0), (at + 1, 0)), "text": ""}
            kind = "insert a line"
        if kind == "insert a line":
            at = self._pick("    total = 0")
            assert at is not None
            self.lines.insert(at + 1, INSERTED)
            return {"range": _range((at + 1, 0), (at + 1, 0)), "text": INSERTED + "\n"}
        if kind == "delete a character":
            typed = [i for i, line in enumerate(self.lines) if line[9:10] in TYPED and line[9:]]
            if typed:
                at = self.rng.choice(typed)
                self.lines[at] = self.lines[at][:9] + self.lines[at][10:]
                return {"range": _range((at, 9), (at, 10)), "text": ""}
        at = self._pick("    total")
        assert at is not None
        # Every other character typed leaves a syntax error until it is deleted, as typing does.
        char = TYPED[self.typed % len(TYPED)]
        self.typed += 1
        self.lines[at] = self.lines[at][:9] + char + self.lines[at][9:]
        return {"range": _range((at, 9), (at, 9)), "text": char}

    def body_line(self) -> int:
        found = self._pick("    total")
        assert found is not None
        return found


def _hover(uri: str, line: int) -> dict[str, Any]:
    return {"textDocument": {"uri": uri}, "position": {"line": line, "character": 6}}


def _code_action(uri: str, start: tuple[int, int], end: tuple[int, int]) -> dict[str, Any]:
    return {
        "textDocument": {"uri": uri},
        "range": _range(start, end),
        "context": {"diagnostics": []},
    }


def bench_edits(command: list[str] | None, requests: int, scratch: Path) -> dict[str, list[float]]:
    """Seconds per request, keyed by method and whether it came right after an edit."""
    project = Path(shutil.copytree(EXAMPLE, scratch / "edits"))
    big = project / "app" / "big.py"
    text = big_module(BIG_LINES)
    big.write_text(text, encoding="utf-8")
    session = Session(project, command)
    session.initialize()
    if command is None:
        session.wait_indexed()
    uri = big.as_uri()
    session.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}},
    )
    rng = random.Random(18)
    buffer = Buffer(text, rng)
    timings: dict[str, list[float]] = {}
    warm_up = 20
    edits = 0
    fresh: set[str] = set()  # the kinds of request not yet sent since the last edit
    for number in range(warm_up + requests):
        if number % 5 == 0:
            fresh = {"hover", "codeAction"}
            buffer.version += 1
            change = buffer.edit(EDITS[edits % len(EDITS)])
            edits += 1
            session.notify(
                "textDocument/didChange",
                {
                    "textDocument": {"uri": uri, "version": buffer.version},
                    "contentChanges": [change],
                },
            )
        line = buffer.body_line()
        if number % 2 == 0:
            method, params = "hover", _hover(uri, line)
        else:
            shape = (number // 2) % 3
            if shape == 0:
                params = _code_action(uri, (line, 4), (line, 4))
            elif shape == 1:
                params = _code_action(uri, (line, 0), (line + 1, 0))
            else:
                end = min(line + rng.randint(3, 30), len(buffer.lines) - 1)
                params = _code_action(uri, (line, 0), (end, 0))
            method = "codeAction"
        seconds, answer = session.request(f"textDocument/{method}", params)
        if "error" in answer:
            raise RuntimeError(f"{method} failed: {answer['error']}")
        after_edit = method in fresh
        fresh.discard(method)
        if number >= warm_up:
            key = f"{method} {'after an edit' if after_edit else 'steady'}"
            timings.setdefault(key, []).append(seconds)
    session.close()
    return timings


def bench_too_large(command: list[str] | None, rounds: int, scratch: Path) -> dict[str, Any]:
    """Seconds per request about a 20 MB document, and of a hover on a small file after each."""
    project = Path(shutil.copytree(EXAMPLE, scratch / "large"))
    small = project / "app" / "handlers.py"
    huge = project / "app" / "huge.py"
    chunk = "def filler(value):\n    return value + 1\n\n\n"
    text = chunk * (HUGE_BYTES // len(chunk))
    huge.write_text(text, encoding="utf-8")
    session = Session(project, command)
    session.initialize()
    if command is None:
        session.wait_indexed()
    small_uri, uri = small.as_uri(), huge.as_uri()
    session.notify(
        "textDocument/didOpen",
        {
            "textDocument": {
                "uri": small_uri,
                "languageId": "python",
                "version": 1,
                "text": small.read_text(encoding="utf-8"),
            }
        },
    )
    session.request("textDocument/hover", _hover(small_uri, 20))
    opened = time.perf_counter()
    session.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}},
    )
    session.request("textDocument/hover", _hover(uri, 1))
    first = time.perf_counter() - opened
    timings: dict[str, Any] = {"first hover (from didOpen)": first, "requests": [], "small": []}
    rng = random.Random(20)
    lines = text.count("\n")
    for number in range(rounds):
        line = rng.randrange(0, lines - 2, 4)
        session.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": number + 2},
                "contentChanges": [{"range": _range((line, 4), (line, 4)), "text": "x"}],
            },
        )
        params = (
            _hover(uri, line + 1) if number % 2 else _code_action(uri, (line + 1, 0), (line + 2, 0))
        )
        method = "hover" if number % 2 else "codeAction"
        seconds, _ = session.request(f"textDocument/{method}", params)
        timings["requests"].append(seconds)
        seconds, _ = session.request("textDocument/hover", _hover(small_uri, 20))
        timings["small"].append(seconds)
    session.close()
    return timings


def report(name: str, found: dict[str, Any]) -> None:
    width = 44
    print(f"{name}: first hover {found['first hover (from didOpen)'] * 1000:.1f} ms")
    summary(f"{name}: edit + request".ljust(width), found["requests"])
    summary(f"{name}: small-file hover".ljust(width), found["small"])
    print(f"{name}: slowest {max(found['requests'] + found['small']) * 1000:.1f} ms")


def main() -> None:
    requests = int(sys.argv[1]) if len(sys.argv) > 1 else 600
    parts = sys.argv[2:] or ["edits", "large"]
    servers = (("do-nothing pygls", NULL_SERVER), ("tandem", None))
    with tempfile.TemporaryDirectory(prefix="tandem-edit-bench-") as scratch:
        if "edits" in parts:
            print(
                f"{BIG_LINES}-line app/big.py; an edit ({', '.join(EDITS)}) before every fifth "
                f"request; {requests} requests after 20 warm-up ones"
            )
            for name, command in servers:
                timings = bench_edits(command, requests, Path(scratch) / name.replace(" ", "-"))
                for key in sorted(timings):
                    summary(f"{name}: {key}".ljust(44), timings[key])
        if "large" in parts:
            print(f"a {HUGE_BYTES // 2**20} MB document (over context.max_file_bytes)")
            for name, command in servers:
                large = Path(scratch) / f"large-{name.replace(' ', '-')}"
                report(name, bench_too_large(command, 40, large))


if __name__ == "__main__":
    main()
