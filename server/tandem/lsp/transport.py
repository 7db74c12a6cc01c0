"""The wire under the language server: a framing decoder that survives garbage, and the loops that
feed it from stdio or TCP.

pygls' own reader trusts its peer: a frame without a valid ``Content-Length`` swallows the next
message, a truncated body swallows the next message, and a huge ``Content-Length`` kills the
process (the whole body is allocated up front). This module replaces that reader. Decoded bodies go
to ``TandemProtocol.handle_body``, which answers malformed messages instead of dropping them.

Resynchronisation rests on one fact: a valid JSON body can never contain a raw
``Content-Length: N\\r\\n`` (the name cannot appear outside a string and a raw CR cannot appear
inside one), so such a line inside a pending body marks the start of the next frame.

In stdio mode the JSON-RPC channel is a private duplicate of file descriptor 1, and descriptor 1
itself is pointed at stderr: a stray ``print`` in any handler, or a library writing to stdout,
lands in the log instead of corrupting the channel.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, Protocol

if TYPE_CHECKING:
    from tandem.lsp.server import TandemServer

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024 * 1024
"""A larger declared body is refused without reading it into memory (a 20 MB document is fine)."""
MAX_HEADER_BYTES = 8 * 1024
"""Bytes kept while looking for the end of a header; beyond that the bytes are garbage."""
CHUNK_BYTES = 1024 * 1024
QUEUED_CHUNKS = 64
"""Back-pressure: the stdin thread stops reading when this many chunks wait to be decoded."""

_HEADER_END = b"\r\n\r\n"
_CONTENT_LENGTH = re.compile(rb"content-length[ \t]*:[ \t]*(\d{1,20})[ \t]*\r\n", re.IGNORECASE)
_HEADER_LINES = re.compile(rb"(?:[A-Za-z][A-Za-z0-9-]*[ \t]*:[^\r\n]*\r\n)*")
_HEADER_NAME = b"content-length"
_AFTER_HEADER_NAME = re.compile(rb"[ \t]*(?::[ \t]*(?:\d{1,20}[ \t]*\r?)?)?")
# A partial header line at the end of a garbage run may be completed by the next chunk.
_TAIL_KEPT = 64
_WAIT = -1


def _is_header_prefix(data: bytes | bytearray) -> bool:
    """Whether ``data`` is the start of a Content-Length line that the next bytes could complete."""
    lowered = data.lower()
    if len(lowered) <= len(_HEADER_NAME):
        return _HEADER_NAME.startswith(lowered)
    return (
        lowered.startswith(_HEADER_NAME)
        and _AFTER_HEADER_NAME.fullmatch(lowered, len(_HEADER_NAME)) is not None
    )


@dataclass(frozen=True)
class Frame:
    """One complete body, exactly as many bytes as its header declared."""

    body: bytes


@dataclass(frozen=True)
class Skipped:
    """Bytes dropped while resynchronising, and why."""

    size: int
    reason: str


Event = Frame | Skipped


class FrameDecoder:
    """Turns a byte stream into frames; never raises, never buffers more than one body.

    Feed it bytes with ``feed``; take what is complete with ``events``.
    """

    def __init__(self, max_body: int = MAX_BODY_BYTES) -> None:
        self.max_body = max_body
        self._buffer = bytearray()
        self._pending: tuple[int, int] | None = None  # (body start, declared length)
        self._scanned = 0  # how far a pending body was searched for an embedded header

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def events(self) -> Iterator[Event]:
        while (event := self.next_event()) is not None:
            yield event

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def next_event(self) -> Event | None:
        if self._pending is None:
            skipped = self._read_header()
            if skipped is not None or self._pending is None:
                return skipped
        return self._read_body()

    def _read_header(self) -> Skipped | None:
        buffer = self._buffer
        end = buffer.find(_HEADER_END)
        if end == -1:
            return self._drop_overlong_header()
        consumed = end + len(_HEADER_END)
        matches = list(_CONTENT_LENGTH.finditer(buffer, 0, end + 2))
        if not matches:
            del buffer[:consumed]
            return Skipped(consumed, "a header block without a valid Content-Length")
        # The last Content-Length line before the blank line wins: earlier ones belong to a frame
        # whose header was cut short.
        header = matches[-1]
        length = int(header.group(1))
        if length > self.max_body:
            del buffer[:consumed]
            return Skipped(
                consumed, f"Content-Length {length} exceeds the limit of {self.max_body} bytes"
            )
        garbage = header.start()
        clean = len(matches) == 1 and _HEADER_LINES.fullmatch(buffer, 0, garbage) is not None
        del buffer[:garbage]
        consumed -= garbage
        self._pending = (consumed, length)
        self._scanned = consumed
        if garbage and not clean:
            return Skipped(garbage, "bytes before a header")
        return None

    def _drop_overlong_header(self) -> Skipped | None:
        buffer = self._buffer
        if len(buffer) <= MAX_HEADER_BYTES:
            return None
        headers = list(_CONTENT_LENGTH.finditer(buffer))
        last = headers[-1] if headers else None
        keep_from = len(buffer) - _TAIL_KEPT
        if last is not None and len(buffer) - last.start() <= MAX_HEADER_BYTES:
            keep_from = last.start()
        del buffer[:keep_from]
        return Skipped(keep_from, "bytes that are not a header")

    def _read_body(self) -> Event | None:
        assert self._pending is not None
        buffer = self._buffer
        start, length = self._pending
        window_end = min(len(buffer), start + length)
        embedded = self._embedded_header(start, window_end)
        if embedded is not None:
            del buffer[:embedded]
            self._pending = None
            return Skipped(
                embedded,
                f"a frame cut short: {length} bytes declared, the next header came after "
                f"{embedded - start}",
            )
        if len(buffer) < start + length:
            return None
        straddling = self._straddling_header(start, start + length)
        if straddling == _WAIT:
            return None
        if straddling is not None:
            del buffer[:straddling]
            self._pending = None
            return Skipped(
                straddling,
                f"a frame cut short: {length} bytes declared, the next header came after "
                f"{straddling - start}",
            )
        body = bytes(buffer[start : start + length])
        del buffer[: start + length]
        self._pending = None
        return Frame(body)

    def _embedded_header(self, start: int, end: int) -> int | None:
        # Re-scan a little before the last position: a header may straddle two chunks.
        low = max(start, self._scanned - 48)
        self._scanned = end
        if self._buffer.find(b"\r\n", low, end) == -1:  # compact JSON has no raw line breaks
            return None
        found = _CONTENT_LENGTH.search(self._buffer, low, end)
        return found.start() if found is not None else None

    def _straddling_header(self, start: int, end: int) -> int | None:
        """A header that begins inside a complete body and ends after it: the body was cut short.

        Returns its position, ``_WAIT`` when the bytes so far cannot tell, or None. A valid JSON
        body never ends in the start of a Content-Length line, so valid frames never wait.
        """
        buffer = self._buffer
        for position in range(max(start, end - 40), end):
            if buffer[position] not in b"cC" or not _is_header_prefix(buffer[position:end]):
                continue
            following = bytes(buffer[position : position + 64])
            if _CONTENT_LENGTH.match(following):
                return position
            if _is_header_prefix(following):
                return _WAIT
        return None


class Channel(Protocol):
    """What pygls needs to write: whole frames, from any thread."""

    def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...


class FileChannel:
    """A binary file as the outgoing channel; one frame is one locked write and flush."""

    def __init__(self, file: BinaryIO) -> None:
        self._file = file
        self._lock = threading.Lock()

    def write(self, data: bytes) -> None:
        with self._lock:
            self._file.write(data)
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()


class StreamChannel:
    """An asyncio stream (TCP) as the outgoing channel."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self._loop = asyncio.get_running_loop()

    def write(self, data: bytes) -> None:
        if threading.current_thread() is threading.main_thread():
            self._writer.write(data)
        else:
            self._loop.call_soon_threadsafe(self._writer.write, data)

    def close(self) -> None:
        self._writer.close()


ChunkSource = Callable[[], Awaitable[bytes]]


class ThreadedReader:
    """Reads a file descriptor on a daemon thread, so a blocked read never holds up exit."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._slots = threading.Semaphore(QUEUED_CHUNKS)
        threading.Thread(target=self._run, name="tandem-stdin", daemon=True).start()

    def _run(self) -> None:
        while True:
            self._slots.acquire()
            try:
                chunk = os.read(self._fd, CHUNK_BYTES)
            except OSError:
                chunk = b""
            try:
                self._loop.call_soon_threadsafe(self._queue.put_nowait, chunk)
            except RuntimeError:  # the loop is gone: the server has exited
                return
            if not chunk:
                return

    async def read(self) -> bytes:
        chunk = await self._queue.get()
        self._slots.release()
        return chunk


async def pump(server: TandemServer, read: ChunkSource, channel: Channel) -> int:
    """Decode frames from ``read`` and hand them to the protocol until EOF or ``exit``.

    Returns the process exit code: the one ``exit`` asked for, or 0 at end of input.
    """
    from tandem.lsp.memory import IdleTrim

    protocol = server.protocol
    protocol.set_writer(channel)
    decoder = FrameDecoder()
    trim = IdleTrim()
    while chunk := await read():
        trim.read(len(chunk))
        decoder.feed(chunk)
        for event in decoder.events():
            if isinstance(event, Skipped):
                log.warning("skipped %d bytes of input: %s", event.size, event.reason)
                continue
            try:
                protocol.handle_body(event.body)
            except SystemExit as exit_request:  # the exit notification
                return exit_request.code if isinstance(exit_request.code, int) else 1
            # Let coroutine handlers and their replies advance between frames of a burst.
            await asyncio.sleep(0)
    log.info("end of input; stopping")
    return 0


def _private_stdout() -> BinaryIO:
    """Keep the real stdout for JSON-RPC and point descriptor 1 (and ``sys.stdout``) at stderr."""
    sys.stdout.flush()
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return channel


def run_stdio(server: TandemServer) -> int:
    """Serve one client over stdin/stdout; returns the exit code."""
    channel = FileChannel(_private_stdout())

    async def main() -> int:
        return await pump(server, ThreadedReader(0).read, channel)

    try:
        return asyncio.run(main())
    except BrokenPipeError:
        log.error("the client closed the connection")
        return 1
    finally:
        server.shutdown()  # type: ignore[no-untyped-call]


def run_tcp(server: TandemServer, host: str, port: int) -> int:
    """Listen on ``host:port`` and serve the first client; returns the exit code."""

    async def main() -> int:
        finished: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        busy = False

        async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal busy
            if busy:
                writer.close()
                return
            busy = True

            async def read() -> bytes:
                return await reader.read(CHUNK_BYTES)

            try:
                code = await pump(server, read, StreamChannel(writer))
            except OSError as error:
                log.error("connection lost: %s", error)
                code = 1
            if not finished.done():
                finished.set_result(code)

        listener = await asyncio.start_server(connection, host, port)
        async with listener:
            return await finished

    try:
        return asyncio.run(main())
    finally:
        server.shutdown()  # type: ignore[no-untyped-call]
