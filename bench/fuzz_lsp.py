"""Fuzz one real ``tandem serve`` process with hostile LSP traffic and print what it survived.

    PYTHONPATH=server python bench/fuzz_lsp.py [N] [--seed S]

N hostile messages (default 10000), from a seeded generator: mutated versions of every message the
server registers (taken from its initialize result: text sync, hover, code actions,
``workspace/executeCommand`` for each advertised command with junk arguments, ...), bodies that
are not JSON-RPC, and raw framing garbage (no or bad Content-Length, cut-short and oversized
frames, random bytes). Every tenth message is followed by a valid ``tandem/ping`` (and, when the
server offers hover, a valid ``textDocument/hover`` on a document the fuzz never touches) whose
answer is checked. The server's own requests (applyEdit, showDocument, progress) are answered,
sometimes with junk.

The workspace is a scratch copy of ``examples/projects_api`` whose models all use the FAKE
provider (labelled; no model is called). API keys are removed from the server's environment and
proxies point at a closed local port, so nothing can reach the network.

Prints messages sent by kind, crashes (must be 0), valid requests answered correctly,
throughput and the server's peak RSS. A benchmark, never a test.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import queue
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "server"))

from tandem.lsp.transport import Frame, FrameDecoder  # noqa: E402

EXAMPLE = REPO / "examples" / "projects_api"
PROBE_FILE = "app/permissions.py"
PROBE_EVERY = 10
REPLY_TIMEOUT = 60.0
FAKE_SETTINGS = """
[models.strong]
provider = "fake"
model = "fake-model"
fake_replies = "fake_replies.json"

[models.cheap]
provider = "fake"
model = "fake-model"
fake_replies = "fake_replies.json"
"""
CAPABILITIES: dict[str, Any] = {
    "workspace": {
        "applyEdit": True,
        "workspaceEdit": {"documentChanges": True, "changeAnnotationSupport": {}},
        "executeCommand": {},
        "configuration": True,
        "workspaceFolders": True,
    },
    "textDocument": {
        "synchronization": {"didSave": True},
        "hover": {"contentFormat": ["markdown", "plaintext"]},
        "codeAction": {
            "codeActionLiteralSupport": {
                "codeActionKind": {"valueSet": ["quickfix", "refactor", "source"]}
            }
        },
        "publishDiagnostics": {"relatedInformation": True},
    },
    "window": {"workDoneProgress": True, "showDocument": {"support": True}},
    "general": {"positionEncodings": ["utf-16"]},
}
# Methods that take {"textDocument", "position"} or {"textDocument"}, by capability.
POSITION_METHODS = {
    "hoverProvider": "textDocument/hover",
    "definitionProvider": "textDocument/definition",
    "referencesProvider": "textDocument/references",
    "completionProvider": "textDocument/completion",
    "signatureHelpProvider": "textDocument/signatureHelp",
    "documentHighlightProvider": "textDocument/documentHighlight",
}
DOCUMENT_METHODS = {
    "documentSymbolProvider": "textDocument/documentSymbol",
    "codeLensProvider": "textDocument/codeLens",
    "documentFormattingProvider": "textDocument/formatting",
    "inlayHintProvider": "textDocument/inlayHint",
    "diagnosticProvider": "textDocument/diagnostic",
}


def frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def encode(message: Any) -> bytes:
    return json.dumps(message).encode()


# ----- the server process ------------------------------------------------------------------------


class Server:
    def __init__(self, project: Path, stderr_path: Path) -> None:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.endswith("_API_KEY") and "PROXY" not in key.upper()
        }
        closed = "http://127.0.0.1:9"
        env.update(HTTP_PROXY=closed, HTTPS_PROXY=closed, ALL_PROXY=closed, NO_PROXY="")
        env["PYTHONPATH"] = str(REPO / "server")
        self.stderr = stderr_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tandem", "serve", "--stdio"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            env=env,
            cwd=project,
        )
        self.incoming: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.malformed_output = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        decoder = FrameDecoder()
        while chunk := os.read(self.process.stdout.fileno(), 1 << 16):
            decoder.feed(chunk)
            for event in decoder.events():
                try:
                    assert isinstance(event, Frame)
                    self.incoming.put(json.loads(event.body))
                except (AssertionError, ValueError):
                    self.malformed_output += 1
        self.incoming.put(None)

    def alive(self) -> bool:
        return self.process.poll() is None

    def write(self, data: bytes) -> bool:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(data)
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            return False
        return True

    def memory_kib(self, field: str = "VmHWM") -> int | None:
        """The server's peak (VmHWM) or current (VmRSS) resident memory, on Linux."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
        return None

    def stop(self) -> None:
        if self.alive():
            self.write(frame(encode({"jsonrpc": "2.0", "id": "bye", "method": "shutdown"})))
            self.write(frame(encode({"jsonrpc": "2.0", "method": "exit"})))
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.stderr.close()


# ----- hostile messages --------------------------------------------------------------------------


class Generator:
    def __init__(self, rng: random.Random, project: Path, capabilities: dict[str, Any]) -> None:
        self.rng = rng
        self.project = project
        files = sorted(p.relative_to(project).as_posix() for p in project.rglob("*.py"))
        self.files = [f for f in files if f != PROBE_FILE]
        self.texts = {f: (project / f).read_text() for f in self.files}
        self.templates: dict[str, Any] = {
            "textDocument/didOpen": self.did_open,
            "textDocument/didChange": self.did_change,
            "textDocument/didClose": self.did_close,
            "textDocument/didSave": self.did_save,
            "workspace/didChangeConfiguration": self.did_change_configuration,
            "workspace/didChangeWorkspaceFolders": self.did_change_folders,
            "$/cancelRequest": lambda: {"id": self.rng.randrange(1, 10_000)},
            "$/setTrace": lambda: {"value": self.rng.choice(["off", "messages", "verbose"])},
            "window/workDoneProgress/cancel": lambda: {"token": self.rng.randrange(100)},
            "tandem/ping": lambda: None,
            "initialize": lambda: {"processId": None, "capabilities": {}},
        }
        for capability, method in POSITION_METHODS.items():
            if capabilities.get(capability):
                self.templates[method] = self.position_params
        for capability, method in DOCUMENT_METHODS.items():
            if capabilities.get(capability):
                self.templates[method] = lambda: {"textDocument": {"uri": self.uri()}}
        if capabilities.get("codeActionProvider"):
            self.templates["textDocument/codeAction"] = self.code_action
        commands = (capabilities.get("executeCommandProvider") or {}).get("commands") or []
        self.commands = list(commands)
        if self.commands:
            self.templates["workspace/executeCommand"] = self.execute_command
        self.requests = {
            "textDocument/codeAction",
            "workspace/executeCommand",
            "tandem/ping",
            "initialize",
            *POSITION_METHODS.values(),
            *DOCUMENT_METHODS.values(),
        }
        self.versions: collections.Counter[str] = collections.Counter()
        self.ids = 0

    # --- valid-looking parts ---

    def uri(self) -> str:
        if self.rng.random() < 0.9:
            return (self.project / self.rng.choice(self.files)).as_uri()
        return self.rng.choice(
            [
                "file:///dev/zero",
                "file:///etc/passwd",
                "untitled:Untitled-1",
                "file:///does/not/exist.py",
                "file://host/share/x.py",
                "file:///" + "a/" * 500 + "deep.py",
                "file:///tmp/%00nul.py",
                "not a uri",
                "",
                (self.project / "app" / ".." / ".." / "escape.py").as_uri(),
            ]
        )

    def position(self) -> dict[str, int]:
        return {"line": self.rng.randrange(60), "character": self.rng.randrange(40)}

    def range(self) -> dict[str, Any]:
        start, end = sorted(
            [self.position(), self.position()], key=lambda p: (p["line"], p["character"])
        )
        return {"start": start, "end": end}

    def did_open(self) -> dict[str, Any]:
        name = self.rng.choice(self.files)
        uri = (self.project / name).as_uri()
        self.versions[uri] += 1
        return {
            "textDocument": {
                "uri": uri,
                "languageId": "python",
                "version": self.versions[uri],
                "text": self.texts[name],
            }
        }

    def did_change(self) -> dict[str, Any]:
        uri = self.uri()
        self.versions[uri] += 1
        change: dict[str, Any] = {"text": self.junk_text()}
        if self.rng.random() < 0.7:
            change["range"] = self.range()
        return {
            "textDocument": {"uri": uri, "version": self.versions[uri]},
            "contentChanges": [change],
        }

    def did_close(self) -> dict[str, Any]:
        return {"textDocument": {"uri": self.uri()}}

    def did_save(self) -> dict[str, Any]:
        return {"textDocument": {"uri": self.uri()}}

    def did_change_configuration(self) -> dict[str, Any]:
        return {"settings": {"tandem": {self.rng.choice(["budgets", "routes", "x"]): self.junk(2)}}}

    def did_change_folders(self) -> dict[str, Any]:
        # The scratch folder above the project stands for "a folder that is not a project"; the
        # machine's /tmp would make the run depend on whatever else lies there.
        hostile = ["file:///", "file:///dev", "file:///proc", self.project.parent.as_uri()]
        uri = self.rng.choice(hostile) if self.rng.random() < 0.3 else self.uri()
        folder = {"uri": uri, "name": "f"}
        return {"event": {"added": [folder], "removed": []}}

    def position_params(self) -> dict[str, Any]:
        return {"textDocument": {"uri": self.uri()}, "position": self.position()}

    def code_action(self) -> dict[str, Any]:
        return {
            "textDocument": {"uri": self.uri()},
            "range": self.range(),
            "context": {"diagnostics": [], "triggerKind": self.rng.choice([1, 2])},
        }

    def execute_command(self) -> dict[str, Any]:
        command = self.rng.choice(self.commands)
        argument: dict[str, Any] = self.rng.choice(
            [
                {"uri": self.uri(), "range": self.range(), "request": "add input validation"},
                {"uri": self.uri()},
                {"task_id": self.rng.choice(["t1", "../../etc", "", "20260101-000000-abcd"])},
                {"working_tree": True, "base": self.rng.choice(["HEAD", "-rf", "nope"])},
                {},
            ]
        )
        return {"command": command, "arguments": [argument]}

    # --- junk ---

    def junk_text(self) -> str:
        return self.rng.choice(
            [
                "",
                "x = 1\n",
                "def f(:\n",
                "\ud800 lone surrogate",
                "\x00\x01\x02",
                "é" * 1000,
                "\U0001f600" * 50,
                "\r\n" * 100,
                "y" * self.rng.randrange(100_000),
            ]
        )

    def junk(self, depth: int = 3) -> Any:
        rng = self.rng
        kind = rng.randrange(12 if depth > 0 else 9)
        if kind == 0:
            return None
        if kind == 1:
            return rng.choice([True, False])
        if kind == 2:
            return rng.choice([0, -1, 1, 2**31, 2**63, -(2**63), 10**30, 7])
        if kind == 3:
            return rng.choice([0.5, -0.0, 1e308, -1e-308, 3.0])
        if kind in (4, 5):
            return self.junk_text()
        if kind == 6:
            return rng.choice(["", "tandem.plan", "file:///dev/zero", "../../..", "%s%n", "${X}"])
        if kind == 7:
            return "z" * rng.randrange(1, 5000)
        if kind == 8:
            return self.uri()
        if kind in (9, 10):
            return [self.junk(depth - 1) for _ in range(rng.randrange(4))]
        return {self.junk_key(): self.junk(depth - 1) for _ in range(rng.randrange(4))}

    def junk_key(self) -> str:
        return self.rng.choice(
            ["uri", "range", "position", "textDocument", "line", "character", "id", "x", ""]
        )

    # --- messages ---

    def valid(self, method: str) -> dict[str, Any]:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        params = self.templates[method]()
        if params is not None:
            message["params"] = params
        if method in self.requests:
            self.ids += 1
            message["id"] = self.ids
        return message

    def pick_method(self) -> str:
        """Feature methods weigh more than lifecycle ones: they are where handlers can fail."""
        weights = {"workspace/executeCommand": 6, "textDocument/codeAction": 3}
        weights |= {method: 3 for method in POSITION_METHODS.values()}
        methods = list(self.templates)
        return self.rng.choices(methods, [weights.get(m, 1) for m in methods])[0]

    def mutate(self, message: dict[str, Any]) -> dict[str, Any]:
        rng = self.rng
        for _ in range(rng.randrange(1, 4)):
            mutation = rng.randrange(9)
            containers = list(_containers(message))
            if mutation == 0:  # drop a key somewhere
                holders = [c for c in containers if isinstance(c, dict) and c]
                if holders:
                    holder = rng.choice(holders)
                    holder.pop(rng.choice(list(holder)))
            elif mutation in (1, 2, 3):  # replace a value with junk of another type
                holders = [c for c in containers if c]
                if holders:
                    holder = rng.choice(holders)
                    key = (
                        rng.choice(list(holder))
                        if isinstance(holder, dict)
                        else rng.randrange(len(holder))
                    )
                    if holder is not message or key not in ("method",):
                        holder[key] = self.junk()
            elif mutation == 4:  # add a key
                holders = [c for c in containers if isinstance(c, dict)]
                rng.choice(holders)[self.junk_key()] = self.junk()
            elif mutation == 5:  # request <-> notification, or a strange id
                if "id" in message and rng.random() < 0.5:
                    del message["id"]
                else:
                    message["id"] = rng.choice([None, 1.5, True, {"a": 1}, [], "", -1, 2**70])
            elif mutation == 6:  # another method's params
                message["method"] = rng.choice(
                    [*self.templates, "tandem/nope", "$/x", "", "a" * 300]
                )
            elif mutation == 7:  # positions out of range
                for holder in containers:
                    if isinstance(holder, dict):
                        for key in ("line", "character"):
                            if key in holder:
                                holder[key] = rng.choice([-1, 2**31 - 1, 2**31, 10**12, 999])
            else:  # wrong jsonrpc version
                message["jsonrpc"] = rng.choice(["1.0", 2, None, ""])
        if message.get("method") in ("shutdown", "exit"):
            message["method"] = "tandem/ping"
        return message

    def bad_body(self) -> bytes:
        rng = self.rng
        valid = encode(self.valid(rng.choice(list(self.templates))))
        choice = rng.randrange(7)
        if choice == 0:  # not JSON
            return valid[: rng.randrange(len(valid))]
        if choice == 1:  # invalid UTF-8 inside
            at = rng.randrange(len(valid))
            return valid[:at] + bytes([rng.randrange(0x80, 0x100)]) + valid[at:]
        if choice == 2:
            return encode([json.loads(valid)])
        if choice == 3:
            return rng.choice([b"42", b"null", b'"x"', b"true", b"[]", b"{}", b""])
        if choice == 4:
            return b"[" * rng.randrange(1, 100_000)
        if choice == 5:
            return valid.replace(b"{", b"{" * 2, 1)
        return bytes(rng.randrange(256) for _ in range(rng.randrange(200)))

    def deep_request(self) -> bytes:
        """A request nested far deeper than a JSON parser recurses; its id can be read."""
        depth = self.rng.choice([1_000, 10_000, 100_000])
        method = self.rng.choice(list(self.templates))
        self.ids += 1
        opener, closer = self.rng.choice([(b'{"a": ', b"}"), (b"[", b"]")])
        head = b'{"jsonrpc": "2.0", "id": %d, "method": %s, "params": ' % (
            self.ids,
            encode(method),
        )
        return head + opener * depth + b"1" + closer * depth + b"}"

    def oversized_id(self) -> bytes:
        """A request whose id is huge: a long string, a long number, or a float."""
        message = self.valid(self.rng.choice(list(self.templates)))
        message["id"] = self.rng.choice(
            ["i" * self.rng.choice([1_000, 100_000, 1_000_000]), 10**300, 2**64, 1e308, -(2**63)]
        )
        return encode(message)

    def framing(self) -> bytes:
        rng = self.rng
        body = encode(self.mutate(self.valid(rng.choice(list(self.templates)))))
        choice = rng.randrange(10)
        if choice == 0:
            return body  # no header at all
        if choice == 1:
            return b"Content-Type: application/json\r\n\r\n" + body
        if choice == 2:
            value = rng.choice([b"abc", b"-5", b"", b"1e3", b"0x10", b"99999999999999999999999"])
            return b"Content-Length: " + value + b"\r\n\r\n" + body
        if choice == 3:
            return frame(body)[: rng.randrange(1, len(body) + 20)]  # cut short
        if choice == 4:
            return b"Content-Length: %d\r\n\r\n" % (len(body) + rng.randrange(1, 50)) + body
        if choice == 5:
            return b"Content-Length: %d\r\n\r\n" % max(0, len(body) - rng.randrange(1, 50)) + body
        if choice == 6:
            return b"Content-Length: %d\r\n\r\n" % rng.choice([2**40, 10**15, 300_000_000])
        if choice == 7:
            return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 2000)))
        if choice == 8:
            return b"content-length:%d\r\nX-Junk: \x00\xff\r\n\r\n" % len(body) + body
        return rng.choice([b"\r\n\r\n", b"\n\n", b"\r\n", b"Content-Length: 5\r\n"])

    def hostile(self) -> tuple[str, bytes]:
        roll = self.rng.random()
        if roll < 0.2:
            return "framing garbage", self.framing()
        if roll < 0.3:
            return "bodies that are not JSON-RPC", frame(self.bad_body())
        if roll < 0.32:
            return "deeply nested requests", frame(self.deep_request())
        if roll < 0.34:
            return "oversized ids", frame(self.oversized_id())
        message = self.valid(self.pick_method())
        if self.rng.random() < 0.85:  # else as generated: junk URIs, texts and arguments only
            message = self.mutate(message)
        method = message.get("method")
        label = method if isinstance(method, str) and method in self.templates else "other"
        if label == "workspace/executeCommand":
            command = (
                (message.get("params") or {}) if isinstance(message.get("params"), dict) else {}
            )
            name = command.get("command")
            label += f" {name}" if isinstance(name, str) and name in self.commands else " (junk)"
        return label, frame(encode(message))

    def answer(self, request: dict[str, Any]) -> dict[str, Any] | None:
        """A reply to the server's own request: usually sensible, sometimes junk."""
        roll = self.rng.random()
        if roll < 0.03:
            return None  # never answered
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": request.get("id")}
        if roll < 0.15:
            reply["result"] = self.junk()
        elif roll < 0.2:
            reply["error"] = {"code": -32603, "message": "client says no"}
        else:
            method = request.get("method")
            reply["result"] = {
                "workspace/applyEdit": {"applied": False, "failureReason": "fuzz"},
                "window/showDocument": {"success": True},
                "workspace/configuration": [{}],
            }.get(str(method))
        return reply


def _containers(value: Any) -> Any:
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _containers(item)
    elif isinstance(value, list):
        yield value
        for item in value:
            yield from _containers(item)


# ----- the run -----------------------------------------------------------------------------------


class Run:
    def __init__(self, args: argparse.Namespace, project: Path, log: Path) -> None:
        self.args = args
        self.project = project
        self.log = log
        self.rng = random.Random(args.seed)
        self.crashes: list[str] = []
        self.probes: collections.Counter[str] = collections.Counter()
        self.probe_failures: list[str] = []
        self.error_codes: collections.Counter[int] = collections.Counter()
        self.kinds: collections.Counter[str] = collections.Counter()
        self.peak_rss: list[int] = []
        self.rss_samples: list[str] = []
        self.malformed_output = 0
        self.recent: collections.deque[bytes] = collections.deque(maxlen=30)
        self.owed: collections.Counter[str] = collections.Counter()
        """Replies owed to hostile requests, by id (JSON-encoded): each must come back."""
        self.requests_sent = 0
        self.rss_before: int | None = None
        self.rss_after: int | None = None
        self.unanswered = 0
        self.probe_uri = (project / PROBE_FILE).as_uri()
        self.start()

    def start(self) -> None:
        self.server = Server(self.project, self.log)
        self.waiting: dict[str, dict[str, Any] | None] = {}
        self.server.write(
            frame(
                encode(
                    {
                        "jsonrpc": "2.0",
                        "id": "init",
                        "method": "initialize",
                        "params": {
                            "processId": os.getpid(),
                            "rootUri": self.project.as_uri(),
                            "capabilities": CAPABILITIES,
                            "workspaceFolders": [{"uri": self.project.as_uri(), "name": "p"}],
                        },
                    }
                )
            )
        )
        reply = self.wait_for("init")
        if reply is None or "result" not in reply:
            raise SystemExit(f"fuzz_lsp: the server did not initialize: {reply}")
        self.capabilities = reply["result"]["capabilities"]
        self.generator = Generator(self.rng, self.project, self.capabilities)
        self.server.write(frame(encode({"jsonrpc": "2.0", "method": "initialized", "params": {}})))
        text = (self.project / PROBE_FILE).read_text()
        self.probe_functions = [
            n for n, line in enumerate(text.splitlines()) if line.startswith("def ")
        ]
        item = {"uri": self.probe_uri, "languageId": "python", "version": 1, "text": text}
        self.server.write(
            frame(
                encode(
                    {
                        "jsonrpc": "2.0",
                        "method": "textDocument/didOpen",
                        "params": {"textDocument": item},
                    }
                )
            )
        )

    def drain(self, timeout: float) -> bool:
        """Handle one incoming message; False when the server's output ended."""
        try:
            message = self.server.incoming.get(timeout=timeout)
        except queue.Empty:
            return True
        if message is None:
            return False
        if "method" in message and "id" in message:  # the server asks the client something
            answer = self.generator.answer(message) if hasattr(self, "generator") else None
            if answer is not None:
                self.server.write(frame(encode(answer)))
        elif "method" not in message:
            msg_id = message.get("id")
            if isinstance(msg_id, str) and msg_id in self.waiting:
                self.waiting[msg_id] = message
            else:
                key = json.dumps(msg_id)
                if self.owed[key] > 0:
                    self.owed[key] -= 1
                if "error" in message and isinstance(message["error"], dict):
                    self.error_codes[message["error"].get("code")] += 1
        return True

    def wait_for(self, msg_id: str) -> dict[str, Any] | None:
        self.waiting[msg_id] = None
        deadline = time.monotonic() + REPLY_TIMEOUT
        while self.waiting[msg_id] is None and time.monotonic() < deadline:
            if not self.drain(0.5):
                break
        return self.waiting.pop(msg_id)

    def probe(self, number: int) -> bool:
        checks = [("tandem/ping", f"ping-{number}", None)]
        if self.capabilities.get("hoverProvider") and number % 5 == 0:
            line = self.rng.choice(self.probe_functions)  # on a function's name
            position = {"line": line, "character": 5}
            params = {"textDocument": {"uri": self.probe_uri}, "position": position}
            checks.append(("textDocument/hover", f"hover-{number}", params))
        for method, msg_id, params in checks:
            message = {"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params}
            if not self.server.write(frame(encode(message))):
                return False
            reply = self.wait_for(msg_id)
            if reply is None:
                self.probe_failures.append(f"{method}: no answer within {REPLY_TIMEOUT:.0f}s")
                return False
            if method == "tandem/ping":
                correct = reply.get("result") == {"ok": True}
            else:
                result = reply.get("result", "missing")
                correct = result is None or (isinstance(result, dict) and "contents" in result)
            if correct:
                self.probes[method] += 1
                if method == "textDocument/hover" and reply.get("result"):
                    self.probes["hover with content"] += 1
            else:
                self.probe_failures.append(f"{method}: {json.dumps(reply)[:300]}")
        return True

    def crashed(self, why: str) -> None:
        code = self.server.process.poll()
        dump = Path(tempfile.mkstemp(prefix="tandem-fuzz-crash-", suffix=".bin")[1])
        dump.write_bytes(b"\n----\n".join(self.recent))
        self.crashes.append(f"{why} (exit code {code}); last messages in {dump}")
        self.owed.clear()  # a dead server owes nothing more; the crash is what counts
        self.finish_server()
        self.start()

    def finish_server(self) -> None:
        rss = self.server.memory_kib()
        if rss is not None:
            self.peak_rss.append(rss)
        self.server.stop()
        self.malformed_output += self.server.malformed_output

    def expect_reply(self, kind: str, data: bytes) -> None:
        """Count a reply as owed when a request with a readable id was framed intact."""
        if kind == "framing garbage":
            return
        body = data.split(b"\r\n\r\n", 1)[1]
        if kind == "deeply nested requests":
            self.owed[json.dumps(self.generator.ids)] += 1
            self.requests_sent += 1
            return
        try:
            message = json.loads(body)
        except (ValueError, RecursionError):
            return
        if not isinstance(message, dict) or "method" not in message or "id" not in message:
            return
        msg_id = message["id"]
        if isinstance(msg_id, bool) or not isinstance(msg_id, (int, str)):
            return
        if message["method"] == "exit":
            return  # exit never answers
        self.owed[json.dumps(msg_id)] += 1
        self.requests_sent += 1

    def warm_up(self) -> None:
        """One valid use of each feature first, so RSS before the run counts what stays loaded
        (the index, the tokenizer, the flow) and growth after it means memory the fuzz kept."""
        self.probe(0)
        line = self.probe_functions[0]
        plan = {
            "command": "tandem.plan",
            "arguments": [
                {
                    "uri": self.probe_uri,
                    "range": {
                        "start": {"line": line, "character": 0},
                        "end": {"line": line + 3, "character": 0},
                    },
                    "request": "add input validation",
                }
            ],
        }
        estimate = {**plan, "command": "tandem.estimate"}
        for msg_id, method, params in [
            ("warm-estimate", "workspace/executeCommand", estimate),
            ("warm-plan", "workspace/executeCommand", plan),
            ("warm-status", "workspace/executeCommand", {"command": "tandem.status"}),
        ]:
            message = {"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params}
            self.server.write(frame(encode(message)))
            print(msg_id, json.dumps(self.wait_for(msg_id))[:200], self.server.memory_kib("VmRSS"))

    def settle(self) -> int:
        """Wait for the last replies; the number of hostile requests never answered."""
        deadline = time.monotonic() + REPLY_TIMEOUT
        while sum(self.owed.values()) and time.monotonic() < deadline:
            if not self.drain(0.5):
                break
        return sum(self.owed.values())

    def go(self) -> float:
        started = time.monotonic()
        self.warm_up()
        self.rss_before = self.server.memory_kib("VmRSS")
        for number in range(1, self.args.n + 1):
            kind, data = self.generator.hostile()
            self.kinds[kind] += 1
            self.expect_reply(kind, data)
            self.recent.append(data)
            if not self.server.write(data) or not self.server.alive():
                self.crashed(f"the server died after message {number}")
                continue
            while not self.server.incoming.empty():
                self.drain(0)
            if number % PROBE_EVERY == 0 and not self.probe(number):
                self.crashed(f"the server stopped answering after message {number}")
            if number % max(1, self.args.n // 4) == 0:
                rss = self.server.memory_kib("VmRSS")
                self.rss_samples.append(f"{rss / 1024:.0f} MB" if rss is not None else "n/a")
        elapsed = time.monotonic() - started
        self.unanswered = self.settle()
        self.rss_after = self.server.memory_kib("VmRSS")
        self.finish_server()
        return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=10_000, help="hostile messages to send")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--log", type=Path, help="keep the server's stderr in this file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tandem-fuzz-") as scratch:
        project = Path(scratch) / "projects_api"
        shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("__pycache__", ".tandem"))
        (project / "tandem.toml").write_text(FAKE_SETTINGS, encoding="utf-8")
        subprocess.run(["git", "init", "-q"], cwd=project, check=True)
        git = ["git", "-c", "user.name=fuzz", "-c", "user.email=fuzz@example.com"]
        subprocess.run([*git, "add", "."], cwd=project, check=True)
        subprocess.run([*git, "commit", "-qm", "example"], cwd=project, check=True)
        log = Path(scratch) / "server-stderr.log"
        run = Run(args, project, log)
        pid = run.server.process.pid
        print(f"tandem LSP fuzz: {args.n} hostile messages, seed {args.seed}, server pid {pid}")
        offered = sorted(key for key, value in run.capabilities.items() if value)
        print(f"  server advertises: {', '.join(offered)}")
        print(f"  commands: {', '.join(run.generator.commands) or 'none'}")
        elapsed = run.go()
        log_lines = sum(1 for _ in log.open("rb"))
        if args.log is not None:
            shutil.copyfile(log, args.log)
    sent = sum(run.kinds.values())
    print(f"messages sent: {sent}")
    for kind, count in sorted(run.kinds.items(), key=lambda item: -item[1]):
        print(f"  {count:6d}  {kind}")
    print(f"crashes: {len(run.crashes)}")
    for crash in run.crashes:
        print(f"  {crash}")
    print(f"malformed frames from the server: {run.malformed_output}")
    answered = ", ".join(f"{count} {method}" for method, count in sorted(run.probes.items()))
    wrong = len(run.probe_failures)
    print(f"valid requests answered correctly: {answered}; wrong or missing: {wrong}")
    for failure in run.probe_failures[:10]:
        print(f"  {failure}")
    for key, count in [item for item in run.owed.items() if item[1]][:5]:
        print(f"  unanswered: id {key[:80]} x{count}")
    codes = ", ".join(
        f"{code}: {count}" for code, count in sorted(run.error_codes.items(), key=str)
    )
    print(f"error replies to hostile requests, by code: {codes}")
    print(f"throughput: {sent / elapsed:.0f} messages/s ({elapsed:.1f} s, probes included)")
    rss = max(run.peak_rss) / 1024 if run.peak_rss else None
    print(f"server peak RSS: {rss:.0f} MB" if rss is not None else "server peak RSS: unavailable")
    print(f"server RSS after each quarter of the run: {', '.join(run.rss_samples)}")
    print(
        f"hostile requests with a readable id: {run.requests_sent}; "
        f"never answered: {run.unanswered} (must be 0)"
    )
    if run.rss_before and run.rss_after:
        growth = run.rss_after / run.rss_before - 1
        print(
            f"server RSS before the run {run.rss_before / 1024:.0f} MB, after it "
            f"{run.rss_after / 1024:.0f} MB ({growth:+.0%}; target within +20%)"
        )
    print(f"server stderr: {log_lines} log lines")
    failed = run.crashes or run.probe_failures or run.malformed_output or run.unanswered
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
