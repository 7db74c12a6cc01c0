"""What every provider offers the flow: one structured call, its running meter, typed failures."""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from pydantic import BaseModel

from tandem.values import Usage

FailureKind = Literal[
    "auth",  # 401/403: which key variable, which provider
    "not_found",  # 404: unknown model
    "too_large",  # 413 / context too long: suggest a smaller budget
    "rate_limited",  # 429 after bounded retries
    "overloaded",  # 5xx/529 after bounded retries
    "timeout",
    "connection",  # refused/reset: e.g. a local server that is not running
    "truncated",  # the reply hit the output limit
    "invalid_reply",  # not JSON or failed the schema (after one repair attempt)
    "cancelled",
    "bad_request",  # any other 4xx the server refused (e.g. a schema it cannot serve)
]


@dataclass(frozen=True)
class ModelRequest:
    """One structured request: system and user text, and the pydantic model the reply must fit."""

    system: str
    user: str
    output_type: type[BaseModel]
    max_output_tokens: int
    step: str = ""


@dataclass(frozen=True)
class ModelReply:
    parsed: BaseModel
    raw_text: str
    usage: Usage
    attempts: int
    latency_ms: int
    provider: str
    model: str
    is_fake: bool = False
    notices: tuple[str, ...] = ()
    """Things the user should know about how the reply was obtained (e.g. a fallback mode)."""


@dataclass
class ProviderFailure(Exception):
    """A call that ended without a usable reply, with everything the user needs to act on it."""

    kind: FailureKind
    message: str
    provider: str
    model: str
    attempts: int = 1
    usage: Usage = field(default_factory=Usage)
    raw_text: str | None = None

    def __str__(self) -> str:
        return f"{self.provider}/{self.model}: {self.message}"


ProgressReport = Callable[[str], Awaitable[None] | None]
"""Called with a human message for each visible event (e.g. "rate limited; retrying in 4 s")."""


class LiveMessage(str):
    """A progress message the next one supersedes (a call's running count of tokens received):
    a terminal may redraw it in place rather than add a line."""

    __slots__ = ()


async def report(progress: ProgressReport | None, message: str) -> None:
    """Send one progress message; the callback may be sync or async."""
    if progress is None:
        return
    result = progress(message)
    if inspect.isawaitable(result):
        await result


class CallMeter:
    """One call's running account, kept while its replies stream in: the tokens received so far
    (reported with the time elapsed at most every ``every_s`` seconds) and the usage of every
    attempt, so a call cancelled or cut off mid-reply is recorded with what is known by then.

    An attempt ends with the provider's usage (:meth:`end`); when the server reports none, or the
    attempt never reaches its final event (:meth:`cut_off`, :meth:`so_far`), its tokens are
    counted as every estimate counts them (o200k: the prompt as sent, the text received) and the
    usage is marked ``counted``. An attempt whose stream had not begun (no event yet: the server
    had not started its reply) is taken to have cost nothing.
    """

    def __init__(
        self,
        step: str,
        progress: ProgressReport | None,
        *,
        every_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.step = step or "reply"
        self.progress = progress
        self.settled = Usage()
        """The usage of the attempts that have ended."""
        self._every = every_s
        self._clock = clock
        self._started = clock()
        self._last_report = self._started
        self._count_prompt: Callable[[], int] = lambda: 0
        self._answered = False
        self._reported = Usage()
        self._parts: list[str] = []

    def begin(self, count_prompt: Callable[[], int]) -> None:
        """A new HTTP attempt, whose prompt ``count_prompt`` counts (only if it must be)."""
        self._count_prompt = count_prompt
        self._answered = False
        self._reported = Usage()
        self._parts = []

    def answered(self, reported: Usage | None = None) -> None:
        """The server started its reply (the stream is open); ``reported``: any usage it has
        already given (Anthropic's ``message_start`` carries the input tokens)."""
        self._answered = True
        if reported is not None:
            self._reported = reported

    async def received(self, text: str) -> None:
        """A piece of the reply arrived; now and then tell the user how far it has got."""
        if not text:
            return
        self._answered = True
        self._parts.append(text)
        now = self._clock()
        if self.progress is not None and now - self._last_report >= self._every:
            self._last_report = now
            await report(self.progress, LiveMessage(self.describe(now)))

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def describe(self, now: float | None = None) -> str:
        """``plan: 42 tokens received, 3.1 s`` (tokens counted as estimates count them)."""
        from tandem.cost.tokens import count_tokens

        elapsed = (self._clock() if now is None else now) - self._started
        return f"{self.step}: {count_tokens(self.text)} tokens received, {elapsed:.1f} s"

    def end(self, reported: Usage | None) -> Usage:
        """The attempt finished: its usage as the provider reported it, else counted."""
        usage = reported if reported is not None else self._counted()
        self.settled = self.settled + usage
        self._answered = False
        return usage

    def cut_off(self) -> Usage:
        """The attempt ended without its final event (a failure): what it is known to have cost."""
        usage = self._partial()
        self.settled = self.settled + usage
        self._answered = False
        return usage

    def so_far(self) -> Usage:
        """Everything spent until now, the attempt under way included (counted)."""
        return self.settled + self._partial()

    def _partial(self) -> Usage:
        if not self._answered:
            return Usage()
        counted = self._counted()
        reported = self._reported
        if reported.total_input_tokens:  # keep what the provider said, count only the rest
            return reported.model_copy(
                update={
                    "output_tokens": max(reported.output_tokens, counted.output_tokens),
                    "counted": True,
                }
            )
        return counted

    def _counted(self) -> Usage:
        from tandem.cost.tokens import count_tokens

        return Usage(
            input_tokens=self._count_prompt(), output_tokens=count_tokens(self.text), counted=True
        )


class Provider(Protocol):
    name: str
    model: str
    is_fake: bool

    async def complete(
        self,
        request: ModelRequest,
        progress: ProgressReport | None = None,
        meter: CallMeter | None = None,
    ) -> ModelReply:
        """Run one request; raise ProviderFailure on any failure, asyncio.CancelledError when
        cancelled (after closing the HTTP stream). ``meter`` (by default a new one reporting to
        ``progress``) is kept current, so the caller can read what a cancelled call spent."""
        ...
