"""How soon a real llama-server stops generating after Tandem cancels a streamed reply.

Starts llama-server (SmolLM2-135M, from the cache ``tools/install_llama.sh`` fills), then N times:
a structured request through Tandem's OpenAI-compatible provider (streamed, 4,096 tokens allowed)
is cancelled once 20 tokens have arrived, and the time until the server's ``/slots`` shows the
slot idle is measured. Baseline, same run: a bare socket that asks for the same kind of stream
and closes once tokens arrive (the server's own reaction, no SDK or asyncio in between).
Prints medians and p95. Run: ``PYTHONPATH=server python bench/cancel_to_idle.py [N]``.
"""

from __future__ import annotations

import asyncio
import json
import socket
import statistics
import sys
import time
from pathlib import Path

from pydantic import BaseModel

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from local_llama import LlamaServer, start_server
from tandem.config import ModelSettings
from tandem.providers.base import CallMeter, ModelRequest
from tandem.providers.registry import build_provider

MAX_TOKENS = 4096
PROMPT = "Tell a very long story about a lighthouse keeper, with many chapters."


class Story(BaseModel):
    title: str
    chapters: list[str]


def until_idle(server: LlamaServer, since: float) -> float:
    deadline = time.monotonic() + 60
    while server.processing() and time.monotonic() < deadline:
        time.sleep(0.002)
    return time.monotonic() - since


async def tandem_cancel(server: LlamaServer) -> tuple[float, int]:
    settings = ModelSettings(
        provider="openai-compatible", model=server.model, base_url=server.base_url
    )
    provider = build_provider("cheap", settings, {})
    request = ModelRequest(
        system="You write stories.", user=PROMPT, output_type=Story, max_output_tokens=MAX_TOKENS
    )
    meter = CallMeter("bench", None)
    task = asyncio.create_task(provider.complete(request, meter=meter))
    while meter.so_far().output_tokens < 20 and not task.done():
        await asyncio.sleep(0.01)
    decoded = server.decoded()
    started = time.monotonic()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    idle = await asyncio.to_thread(until_idle, server, started)
    return idle, decoded


def socket_close(server: LlamaServer) -> tuple[float, int]:
    body = json.dumps(
        {
            "model": server.model,
            "messages": [{"role": "user", "content": PROMPT}],
            "max_tokens": MAX_TOKENS,
            "stream": True,
        }
    ).encode()
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port)) as conn:
        conn.sendall(head + body)
        received = b""
        while received.count(b"data:") < 20:
            received += conn.recv(65536)
        decoded = server.decoded()
        started = time.monotonic()
    return until_idle(server, started), decoded


def summary(name: str, samples: list[tuple[float, int]]) -> str:
    times = sorted(t * 1000 for t, _ in samples)
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    decoded = statistics.median(d for _, d in samples)
    return (
        f"{name}: median {statistics.median(times):.0f} ms, p95 {p95:.0f} ms "
        f"(n={len(times)}; tokens decoded at cancel, median {decoded:.0f} of {MAX_TOKENS})"
    )


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    server = start_server("llama-server")
    if isinstance(server, str):
        print(f"cannot run: {server}")
        return 1
    try:
        ours = [asyncio.run(tandem_cancel(server)) for _ in range(runs)]
        bare = [socket_close(server) for _ in range(runs)]
    finally:
        server.stop()
    print(summary("Tandem cancel -> slot idle", ours))
    print(summary("baseline: bare socket closed -> slot idle", bare))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
