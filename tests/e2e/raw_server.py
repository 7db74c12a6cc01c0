"""A real ``tandem serve`` process driven with raw bytes, for framing no LSP client can send."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, BinaryIO

from tandem.lsp.transport import Frame, FrameDecoder

SERVER_ROOT = Path(__file__).resolve().parents[2] / "server"
ENV = {**os.environ, "PYTHONPATH": str(SERVER_ROOT)}
SERVE = [sys.executable, "-m", "tandem", "serve", "--stdio"]
REPLY_TIMEOUT = 30.0


def frame(message: Any) -> bytes:
    body = message if isinstance(message, bytes) else json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class RawServer:
    """Writes bytes to the server's stdin; decodes its stdout, which must stay well framed."""

    def __init__(self, stderr: BinaryIO, argv: list[str] | None = None) -> None:
        self.process = subprocess.Popen(
            argv or SERVE, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, env=ENV
        )
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        self.malformed_output: list[object] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        decoder = FrameDecoder()
        while chunk := os.read(self.process.stdout.fileno(), 1 << 16):
            decoder.feed(chunk)
            for event in decoder.events():
                if not isinstance(event, Frame):
                    self.malformed_output.append(event)
                    continue
                try:
                    self.messages.put(json.loads(event.body))
                except ValueError:
                    self.malformed_output.append(event)

    def write(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def send(self, message: Any) -> None:
        self.write(frame(message))

    def notify(self, method: str, params: Any) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def reply(self, msg_id: int | str | None, timeout: float = REPLY_TIMEOUT) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for message in self.seen:
                if "method" not in message and message.get("id") == msg_id:
                    self.seen.remove(message)
                    return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no reply to {msg_id!r}; exit code {self.process.poll()}")
            try:
                self.seen.append(self.messages.get(timeout=remaining))
            except queue.Empty:
                continue

    def request(self, msg_id: int | str, method: str, params: Any = None) -> dict[str, Any]:
        self.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        return self.reply(msg_id)

    def initialize(self, root: Path | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"processId": None, "capabilities": {}}
        if root is not None:
            params["rootUri"] = root.as_uri()
            params["workspaceFolders"] = [{"uri": root.as_uri(), "name": root.name}]
        reply = self.request("init", "initialize", params)
        self.notify("initialized", {})
        return reply

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
