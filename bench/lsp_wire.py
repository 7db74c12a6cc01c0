"""LSP base-protocol framing for the benchmark clients: one frame out, one message in.

The benchmarks talk to a real ``tandem serve --stdio`` through blocking pipes; this is the
whole of what they need from the wire, kept in one place. (``bench/fuzz_lsp.py`` sends broken
frames on purpose and reads with the server's own ``FrameDecoder``.)
"""

from __future__ import annotations

import json
from typing import IO, Any


def frame(payload: dict[str, Any]) -> bytes:
    """``payload`` as one Content-Length frame."""
    body = json.dumps(payload).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def read_message(stream: IO[bytes]) -> dict[str, Any] | None:
    """The next message on ``stream``; None when the stream ends before one starts."""
    length = 0
    while True:
        line = stream.readline()
        if not line:
            return None
        if line in (b"\r\n", b"\n"):
            break
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    message: dict[str, Any] = json.loads(stream.read(length))
    return message
