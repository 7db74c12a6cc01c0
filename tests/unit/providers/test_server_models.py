"""What an OpenAI-compatible server lists, read through the real openai SDK over a mock transport
(the real servers are in tests/local/test_local_doctor.py)."""

from __future__ import annotations

from provider_wire import Wire, openai_error, respond

from tandem.providers.server_models import served_models

OLLAMA_MODELS = {
    "object": "list",
    "data": [
        {"id": "qwen2.5-coder:7b", "object": "model", "created": 1, "owned_by": "library"},
        {"id": "llama3:latest", "object": "model", "created": 1, "owned_by": "library"},
    ],
}


async def test_a_model_list_is_read_with_ollama_latest_tags() -> None:
    wire = Wire([respond(200, OLLAMA_MODELS)])
    served = await served_models("http://localhost:11434/v1", None, http_client=wire.client())
    assert str(wire.requests[0].url) == "http://localhost:11434/v1/models"
    assert served.names == ("qwen2.5-coder:7b", "llama3:latest")
    assert served.serves("qwen2.5-coder:7b") and served.serves("llama3")
    assert not served.serves("mistral")


async def test_llama_server_aliases_count_as_names() -> None:
    listed = {"object": "list", "data": [{"id": "/m/smollm2.gguf", "object": "model",
                                          "created": 1, "owned_by": "llamacpp",
                                          "aliases": ["smollm2"]}]}  # fmt: skip
    served = await served_models(
        "http://x/v1", None, http_client=Wire([respond(200, listed)]).client()
    )
    assert served.serves("smollm2")


async def test_a_server_without_a_list_answers_but_is_not_checked() -> None:
    wire = Wire([respond(404, openai_error("Not Found", "not_found_error"))])
    served = await served_models("http://gw.example/v1", "k", http_client=wire.client())
    assert served.answered
    assert served.problem == "answers, but lists no models (HTTP 404: Not Found)"
