"""What every provider offers the flow: one structured call, normalised usage, typed failures."""

from __future__ import annotations

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


class Provider(Protocol):
    name: str
    model: str
    is_fake: bool

    async def complete(
        self, request: ModelRequest, progress: ProgressReport | None = None
    ) -> ModelReply:
        """Run one request; raise ProviderFailure on any failure, asyncio.CancelledError when
        cancelled (after aborting the HTTP request)."""
        ...
