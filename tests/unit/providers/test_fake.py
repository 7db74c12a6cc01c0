"""FakeProvider: a labelled replay tool for tests and the offline demo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from provider_wire import GOOD, Verdict, request_for

from tandem.config import ModelSettings
from tandem.cost.estimate import count_prompt_tokens
from tandem.cost.tokens import count_tokens
from tandem.providers.base import ProviderFailure
from tandem.providers.fake import FakeProvider, FakeRepliesError


async def test_replies_are_labelled_fake_and_usage_is_counted_exactly_as_the_estimate_counts() -> (
    None
):
    fake = FakeProvider([GOOD])
    request = request_for()
    reply = await fake.complete(request)
    assert reply.is_fake and reply.provider == "fake"
    assert reply.parsed == Verdict(**GOOD)
    fake_model = ModelSettings(provider="fake", model="fake-model")
    estimated = count_prompt_tokens(
        fake_model,
        system=request.system,
        user=request.user,
        output_schema=request.output_type.model_json_schema(),
    )
    assert reply.usage.input_tokens == estimated
    assert reply.usage.output_tokens == count_tokens(json.dumps(GOOD))
    assert fake.requests == [request]


async def test_replies_are_keyed_by_step() -> None:
    fake = FakeProvider(
        {
            "plan": [{"answer": "plan", "confidence": 1}],
            "review": [{"answer": "ok", "confidence": 5}],
        }
    )
    review = await fake.complete(request_for(step="review"))
    plan = await fake.complete(request_for(step="plan"))
    assert (plan.parsed, review.parsed) == (
        Verdict(answer="plan", confidence=1),
        Verdict(answer="ok", confidence=5),
    )


async def test_a_queued_failure_is_raised() -> None:
    fake = FakeProvider([ProviderFailure("rate_limited", "slow down", "fake", "fake-model")])
    with pytest.raises(ProviderFailure) as caught:
        await fake.complete(request_for())
    assert caught.value.kind == "rate_limited"


async def test_invalid_reply_consumes_the_next_entry_as_the_repair() -> None:
    fake = FakeProvider(["not json", GOOD])
    messages: list[str] = []
    reply = await fake.complete(request_for(), messages.append)
    assert reply.attempts == 2
    assert len(messages) == 1
    assert reply.usage.output_tokens == count_tokens("not json") + count_tokens(json.dumps(GOOD))


async def test_invalid_twice_fails_like_a_real_provider() -> None:
    fake = FakeProvider(["not json", "{}"])
    with pytest.raises(ProviderFailure) as caught:
        await fake.complete(request_for())
    assert caught.value.kind == "invalid_reply"
    assert caught.value.raw_text == "{}"
    assert caught.value.usage.output_tokens > 0


async def test_an_empty_queue_says_which_step_needs_a_reply() -> None:
    with pytest.raises(ProviderFailure) as caught:
        await FakeProvider({"plan": []}).complete(request_for(step="draft"))
    assert "no reply queued for step 'draft'" in caught.value.message


async def test_from_file_loads_replies_and_failures_per_step(tmp_path: Path) -> None:
    path = tmp_path / "replies.json"
    path.write_text(
        json.dumps(
            {
                "plan": [GOOD],
                "draft": [{"$failure": {"kind": "overloaded", "message": "simulated 529"}}],
            }
        )
    )
    fake = FakeProvider.from_file(path)
    assert fake.remaining() == {"plan": 1, "draft": 1}
    assert (await fake.complete(request_for(step="plan"))).parsed == Verdict(**GOOD)
    with pytest.raises(ProviderFailure) as caught:
        await fake.complete(request_for(step="draft"))
    assert (caught.value.kind, caught.value.message) == ("overloaded", "simulated 529")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "is not JSON (line 1"),
        ('{"plan": {"answer": 1}}', "'plan' must be a list"),
        ('{"plan": [3]}', "must be objects or strings, not int"),
        ('{"plan": [{"$failure": {"kind": "meteor"}}]}', "needs a kind, one of auth"),
        ("7", "must be an object keyed by step or a list"),
    ],
)
def test_bad_replies_files_get_clear_messages(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "replies.json"
    path.write_text(content)
    with pytest.raises(FakeRepliesError, match=expected.replace("(", r"\(")):
        FakeProvider.from_file(path)


def test_a_missing_replies_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(FakeRepliesError, match="cannot read fake replies"):
        FakeProvider.from_file(tmp_path / "absent.json")
