"""What a provider costs before the model answers: import, first call (SDK import + client), and
each further call through the real SDK against an in-process mock transport.

Prints medians over N fresh processes. Run: ``python bench/providers.py [N]``. Not part of the
test run; no network is used (the transport answers with a recorded wire-format reply).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

SERVER_ROOT = Path(__file__).resolve().parents[1] / "server"
ENV = {**os.environ, "PYTHONPATH": str(SERVER_ROOT)}

PROBE = r"""
import asyncio, json, sys, time
t0 = time.perf_counter()
from tandem.config import ModelSettings
from tandem.providers.registry import build_provider
from tandem.providers.base import ModelRequest
from pydantic import BaseModel
t_import = time.perf_counter() - t0

class Verdict(BaseModel):
    answer: str
    confidence: int

BODIES = {
    "anthropic": {"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
        "content": [{"type": "text", "text": '{"answer": "a", "confidence": 1}'}],
        "stop_reason": "end_turn", "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 5}},
    "openai-compatible": {"id": "c", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant",
        "content": '{"answer": "a", "confidence": 1}'}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}},
}

async def main(family):
    import httpx2
    body = BODIES[family]
    client = httpx2.AsyncClient(transport=httpx2.MockTransport(
        lambda request: httpx2.Response(200, json=body)))
    settings = ModelSettings(provider=family, model="m", api_key_env="K")
    provider = build_provider("strong", settings, {"K": "sk-bench"}, http_client=client)
    request = ModelRequest(system="s", user="u", output_type=Verdict, max_output_tokens=64)
    t1 = time.perf_counter()
    await provider.complete(request)
    first = time.perf_counter() - t1
    later = []
    for _ in range(20):
        t2 = time.perf_counter()
        await provider.complete(request)
        later.append(time.perf_counter() - t2)
    later.sort()
    print(json.dumps({"import": t_import, "first": first, "next": later[len(later) // 2]}))

asyncio.run(main(sys.argv[1]))
"""


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    for family in ("anthropic", "openai-compatible"):
        samples = []
        for _ in range(runs):
            out = subprocess.run(
                [sys.executable, "-c", PROBE, family],
                env=ENV,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            samples.append(json.loads(out))
        med = {key: statistics.median(s[key] for s in samples) * 1000 for key in samples[0]}
        print(
            f"{family:18s} import tandem.providers {med['import']:7.1f} ms | first call "
            f"(SDK import + client) {med['first']:7.1f} ms | next call {med['next']:5.2f} ms "
            f"(median of {runs} processes)"
        )


if __name__ == "__main__":
    main()
