"""Our own retry policy for model calls: bounded attempts, bounded total wait, visible waits.

The SDKs run with ``max_retries=0`` so that every wait goes through here: each one is reported
through the ``ProgressReport`` callback before it starts ("rate limited by anthropic; retrying in
4 s (attempt 2 of 4)"), a server's ``retry-after`` is honoured up to a cap, and otherwise the
delay grows exponentially with jitter. Sleep, clock and randomness are injectable for tests.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TypeVar

from tandem.providers.base import FailureKind, ProgressReport, ProviderFailure, report

T = TypeVar("T")

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before giving up on a transient failure."""

    max_attempts: int = 4
    max_total_wait_s: float = 60.0
    max_retry_after_s: float = 30.0
    base_delay_s: float = 1.0
    max_delay_s: float = 16.0
    jitter: float = 0.25  # +/- this fraction of the exponential delay


@dataclass(frozen=True)
class Transient:
    """A failure worth retrying: why, and how long the server asked us to wait (if it said)."""

    kind: FailureKind
    reason: str  # e.g. "rate limited by anthropic (HTTP 429)"
    retry_after_s: float | None = None


Classifier = Callable[[Exception], "Transient | ProviderFailure"]


def parse_retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds to wait from ``retry-after-ms``, ``retry-after`` (seconds or HTTP date), or None.

    ``now`` is the wall-clock time (epoch seconds) an HTTP date is measured against.
    """
    lowered = {key.lower(): value for key, value in headers.items()}
    millis = lowered.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000.0)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, float(when.timestamp()) - now)


def backoff_delay(policy: RetryPolicy, retry_number: int, rng: random.Random) -> float:
    """Exponential delay before retry ``retry_number`` (1-based), with jitter, capped."""
    raw = min(policy.max_delay_s, policy.base_delay_s * 2.0 ** (retry_number - 1))
    spread = raw * policy.jitter
    return max(0.0, min(policy.max_delay_s, raw + rng.uniform(-spread, spread)))


def format_seconds(seconds: float) -> str:
    if seconds >= 10 or float(seconds).is_integer():
        return f"{round(seconds)} s"
    return f"{seconds:.1f} s"


@dataclass
class Retrier:
    """Runs one HTTP call under a ``RetryPolicy``; counts attempts for the caller."""

    policy: RetryPolicy
    provider: str
    model: str
    sleep: Sleep = asyncio.sleep
    clock: Clock = time.time
    rng: random.Random | None = None
    attempts: int = 0  # HTTP attempts made so far, across every call() on this instance

    async def call(
        self,
        send: Callable[[], Awaitable[T]],
        classify: Classifier,
        progress: ProgressReport | None,
    ) -> T:
        rng = self.rng or random.Random()
        waited = 0.0
        tries = 0
        earlier: Transient | None = None
        while True:
            tries += 1
            self.attempts += 1
            try:
                return await send()
            except Exception as exc:  # CancelledError is a BaseException: it passes through
                verdict = classify(exc)
                if isinstance(verdict, ProviderFailure):
                    if earlier is not None:  # e.g. a server that died mid-reply, then refused
                        verdict.message = f"{earlier.reason}, then {verdict.message}"
                    raise verdict from exc
                earlier = verdict
                delay = self._delay(verdict, tries, rng)
                give_up = self._give_up_reason(verdict, tries, waited, delay)
                if give_up is not None:
                    raise ProviderFailure(
                        verdict.kind,
                        f"{verdict.reason}; {give_up}",
                        self.provider,
                        self.model,
                        attempts=self.attempts,
                    ) from exc
                await report(
                    progress,
                    f"{verdict.reason}; retrying in {format_seconds(delay)} "
                    f"(attempt {tries + 1} of {self.policy.max_attempts})",
                )
                await self.sleep(delay)
                waited += delay

    def _delay(self, verdict: Transient, tries: int, rng: random.Random) -> float:
        if verdict.retry_after_s is not None:
            return verdict.retry_after_s
        return backoff_delay(self.policy, tries, rng)

    def _give_up_reason(
        self, verdict: Transient, tries: int, waited: float, delay: float
    ) -> str | None:
        policy = self.policy
        if tries >= policy.max_attempts:
            return f"gave up after {tries} attempts"
        if verdict.retry_after_s is not None and verdict.retry_after_s > policy.max_retry_after_s:
            return (
                f"the server asks to wait {format_seconds(verdict.retry_after_s)}, more than the "
                f"{format_seconds(policy.max_retry_after_s)} we wait at most; try again later"
            )
        if waited + delay > policy.max_total_wait_s:
            return (
                f"gave up after {tries} attempts: another wait of {format_seconds(delay)} would "
                f"pass the {format_seconds(policy.max_total_wait_s)} total wait limit"
            )
        return None
