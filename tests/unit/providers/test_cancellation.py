"""Cancelling the task that runs a call aborts the HTTP request and closes the real connection.

Each provider talks to a real loopback server that reads the request and never answers; the test
cancels the task and waits for the server to see the client close the socket (EOF).
"""

from __future__ import annotations

import asyncio

import pytest
from provider_wire import Sleeps, cancel_when_ready, make, request_for


@pytest.mark.parametrize(
    ("provider", "model", "path"),
    [
        ("anthropic", "claude-sonnet-4-6", ""),
        ("openai", "gpt-5-mini", "/v1"),
        ("openai-compatible", "qwen2.5-coder:7b", "/v1"),
    ],
)
async def test_cancelling_the_task_closes_the_connection(
    provider: str, model: str, path: str
) -> None:
    connected = asyncio.Event()
    closed_by_client = asyncio.Event()
    received = bytearray()

    async def silent_server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connected.set()
        while chunk := await reader.read(65536):  # b"" means the client closed the connection
            received.extend(chunk)
        closed_by_client.set()
        writer.close()

    server = await asyncio.start_server(silent_server, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    subject = make(provider, None, Sleeps(), model=model, base_url=f"http://127.0.0.1:{port}{path}")
    await cancel_when_ready(
        subject.complete(request_for()),
        lambda: b"\r\n\r\n" in received,  # the request really went out
        closed_by_client,
        server,
    )
    assert received.startswith(b"POST ")
