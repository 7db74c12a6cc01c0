"""An in-process Tandem server fed JSON-RPC bodies, its replies collected from a byte buffer."""

from __future__ import annotations

import json
from typing import Any

from tandem.lsp.server import TandemServer
from tandem.lsp.transport import Frame, FrameDecoder

URI = "file:///tmp/hostile/example.py"


class Wire:
    """A TandemServer (no features unless given one) whose outgoing channel is a byte buffer."""

    def __init__(self, server: TandemServer | None = None) -> None:
        self.server = server if server is not None else TandemServer()
        self.outgoing = FrameDecoder()
        self.received: list[dict[str, Any]] = []
        self.server.protocol.set_writer(self)

    def write(self, data: bytes) -> None:
        self.outgoing.feed(data)
        for event in self.outgoing.events():
            assert isinstance(event, Frame), event
            self.received.append(json.loads(event.body))

    def close(self) -> None:
        pass

    def send(self, message: Any) -> None:
        body = message if isinstance(message, bytes) else json.dumps(message).encode()
        self.server.protocol.handle_body(body)

    def request(self, msg_id: int, method: str, params: Any = None) -> dict[str, Any]:
        self.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        return self.reply(msg_id)

    def notify(self, method: str, params: Any) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def reply(self, msg_id: int | str | None) -> dict[str, Any]:
        replies = [m for m in self.received if "method" not in m and m.get("id") == msg_id]
        assert len(replies) == 1, self.received
        return replies[0]

    def initialize(self) -> None:
        assert "result" in self.request(1, "initialize", {"capabilities": {}})
        self.notify("initialized", {})

    def open(self, text: str) -> None:
        item = {"uri": URI, "languageId": "python", "version": 1, "text": text}
        self.notify("textDocument/didOpen", {"textDocument": item})
