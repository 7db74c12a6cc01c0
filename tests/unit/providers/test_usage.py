"""Usage normalisation: exactly the reported numbers, in one convention."""

from __future__ import annotations

from provider_wire import anthropic_message, chat_body, responses_body

from tandem.providers.usage import anthropic_usage, chat_usage, responses_usage
from tandem.values import Usage


def test_anthropic_input_already_excludes_cache() -> None:
    usage = anthropic_usage(anthropic_message()["usage"])
    assert usage == Usage(
        input_tokens=1200, cache_write_tokens=300, cache_read_tokens=5000, output_tokens=250
    )
    assert usage.total_input_tokens == 6500


def test_responses_input_includes_cached_tokens_so_they_are_subtracted() -> None:
    usage = responses_usage(responses_body()["usage"])
    assert usage.input_tokens == 952
    assert usage.cache_read_tokens == 2048
    assert usage.total_input_tokens == 3000  # nothing lost, nothing double counted


def test_reasoning_tokens_are_part_of_output() -> None:
    usage = responses_usage(responses_body(output_tokens=900, reasoning=640)["usage"])
    assert (usage.output_tokens, usage.reasoning_tokens) == (900, 640)
    assert usage.total_tokens == 3900


def test_chat_completions_details_are_optional() -> None:
    assert chat_usage(chat_body()["usage"]) == Usage(
        input_tokens=544, cache_read_tokens=256, output_tokens=120, reasoning_tokens=30
    )
    assert chat_usage({"prompt_tokens": 10, "completion_tokens": 2}) == Usage(
        input_tokens=10, output_tokens=2
    )
    partial = {"prompt_tokens": 10, "completion_tokens": 2, "prompt_tokens_details": None}
    assert chat_usage(partial) == Usage(input_tokens=10, output_tokens=2)


def test_no_usage_reported_is_zero_not_an_estimate() -> None:
    assert chat_usage(None) == Usage()
    assert responses_usage({}) == Usage()
