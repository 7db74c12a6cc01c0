"""Our retry policy: retry-after parsing, backoff bounds, and visible, bounded waiting."""

from __future__ import annotations

import random
from email.utils import formatdate

import pytest
from provider_wire import Sleeps

from tandem.providers.base import ProviderFailure
from tandem.providers.retry import (
    Retrier,
    RetryPolicy,
    Transient,
    backoff_delay,
    parse_retry_after,
)

NOW = 1_763_800_000.0


def test_retry_after_seconds() -> None:
    assert parse_retry_after({"Retry-After": "12"}, NOW) == 12.0


def test_retry_after_ms_wins_over_seconds() -> None:
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "3"}, NOW) == 0.25


def test_retry_after_http_date_counts_from_now() -> None:
    assert parse_retry_after({"retry-after": formatdate(NOW + 20, usegmt=True)}, NOW) == 20.0


def test_retry_after_in_the_past_means_no_wait() -> None:
    assert parse_retry_after({"retry-after": formatdate(NOW - 20, usegmt=True)}, NOW) == 0.0


def test_garbage_or_missing_retry_after_is_none() -> None:
    assert parse_retry_after({"retry-after": "soon"}, NOW) is None
    assert parse_retry_after({}, NOW) is None


def test_backoff_doubles_within_jitter_and_stops_at_the_cap() -> None:
    policy = RetryPolicy(base_delay_s=1, max_delay_s=16, jitter=0.25)
    rng = random.Random(7)
    for retry, nominal in [(1, 1), (2, 2), (3, 4), (4, 8)]:
        delay = backoff_delay(policy, retry, rng)
        assert nominal * 0.75 <= delay <= nominal * 1.25
    assert backoff_delay(policy, 10, rng) <= 16


class Flaky:
    """Fails ``failures`` times with a transient error, then returns "ok"."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError("boom")
        return "ok"


def transient(retry_after: float | None = None) -> Transient:
    return Transient("overloaded", "anthropic overloaded (HTTP 529)", retry_after)


async def test_success_after_transient_failures_reports_each_wait() -> None:
    sleeps = Sleeps()
    messages: list[str] = []
    retrier = Retrier(RetryPolicy(), "anthropic", "m", sleep=sleeps, rng=random.Random(1))
    assert await retrier.call(Flaky(2), lambda exc: transient(), messages.append) == "ok"
    assert retrier.attempts == 3
    assert len(sleeps.delays) == len(messages) == 2
    assert messages[1].endswith("(attempt 3 of 4)")


async def test_async_progress_callbacks_are_awaited() -> None:
    seen: list[str] = []

    async def progress(message: str) -> None:
        seen.append(message)

    retrier = Retrier(RetryPolicy(), "openai", "m", sleep=Sleeps())
    await retrier.call(Flaky(1), lambda exc: transient(0.5), progress)
    assert seen == ["anthropic overloaded (HTTP 529); retrying in 0.5 s (attempt 2 of 4)"]


async def test_gives_up_when_the_total_wait_would_pass_its_bound() -> None:
    sleeps = Sleeps()
    policy = RetryPolicy(max_attempts=10, max_total_wait_s=10, max_retry_after_s=30)
    retrier = Retrier(policy, "anthropic", "m", sleep=sleeps)
    with pytest.raises(ProviderFailure) as caught:
        await retrier.call(Flaky(99), lambda exc: transient(6), None)
    assert sleeps.delays == [6]  # a second 6 s wait would make 12 s > 10 s
    assert "total wait limit" in caught.value.message
    assert caught.value.attempts == 2


async def test_final_failures_are_raised_without_retrying() -> None:
    final = ProviderFailure("auth", "bad key", "anthropic", "m")
    flaky = Flaky(99)
    retrier = Retrier(RetryPolicy(), "anthropic", "m", sleep=Sleeps())
    with pytest.raises(ProviderFailure) as caught:
        await retrier.call(flaky, lambda exc: final, None)
    assert caught.value is final
    assert flaky.calls == 1


async def test_cancelling_during_a_wait_stops_without_another_attempt() -> None:
    import asyncio

    waiting = asyncio.Event()

    async def endless_sleep(seconds: float) -> None:
        waiting.set()
        await asyncio.Event().wait()

    flaky = Flaky(99)
    retrier = Retrier(RetryPolicy(), "anthropic", "m", sleep=endless_sleep)
    task = asyncio.create_task(retrier.call(flaky, lambda exc: transient(2), None))
    await waiting.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert flaky.calls == 1
