"""The local server fixtures themselves: each server starts, lists the model and answers."""

from __future__ import annotations

import json
import urllib.request

from local_llama import MODEL_ALIAS, LlamaServer


def _post(url: str, body: dict[str, object]) -> dict[str, object]:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        reply: dict[str, object] = json.load(answer)
        return reply


def test_each_server_lists_the_model_and_reports_usage(any_llama: LlamaServer) -> None:
    with urllib.request.urlopen(f"{any_llama.base_url}/models", timeout=10) as answer:
        ids = [entry["id"] for entry in json.load(answer)["data"]]
    assert MODEL_ALIAS in ids
    reply = _post(
        f"{any_llama.base_url}/chat/completions",
        {"model": MODEL_ALIAS, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 5},
    )
    usage = reply["usage"]
    assert isinstance(usage, dict)
    assert usage["prompt_tokens"] > 0
    assert 0 < usage["completion_tokens"] <= 5
