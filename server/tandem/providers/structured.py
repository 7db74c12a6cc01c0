"""The structured-call loop every SDK provider shares: retries, truncation, one repair attempt.

A provider family supplies only how to send a conversation through its SDK and read the reply
(``SdkProvider._send``); this module decides what happens next. Transient HTTP trouble goes
through the ``Retrier``; a reply cut off by the output limit fails as ``truncated``; a reply that
is not valid JSON or fails the schema gets ONE repair turn (the bad reply and the validation error
are sent back), then fails as ``invalid_reply`` with the raw text. The usage of every attempt,
failed ones included, is summed so the ledger can record what was really spent.
"""

from __future__ import annotations

import asyncio
import functools
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from tandem.providers.base import (
    CallMeter,
    ModelReply,
    ModelRequest,
    ProgressReport,
    ProviderFailure,
    report,
)
from tandem.providers.errors import CallContext, SdkErrors, classify
from tandem.providers.retry import Clock, Retrier, RetryPolicy, Sleep, Transient
from tandem.values import Usage


@dataclass(frozen=True)
class Turn:
    role: Literal["user", "assistant"]
    text: str


@dataclass(frozen=True)
class RawReply:
    """What came back from one successful HTTP call, before schema validation."""

    text: str
    usage: Usage | None
    """As the provider reported it; None when it reported none (the meter counts it then)."""
    truncated: bool
    refusal: str | None
    parse: Callable[[], Awaitable[BaseModel | None]]  # the SDK's own parser; may raise


def repair_prompt(error: str) -> str:
    return (
        "Your previous reply could not be used: it is not valid JSON for the required schema.\n"
        f"Validation error:\n{error}\n\n"
        "Reply again with only the JSON object that matches the schema, nothing else."
    )


def describe_validation_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        lines = []
        for error in exc.errors(include_url=False)[:10]:
            where = ".".join(str(part) for part in error["loc"]) or "(root)"
            lines.append(f"- {where}: {error['msg']}")
        return "\n".join(lines)
    return str(exc)[:500]


def _with_spend(failure: ProviderFailure, usage: Usage, attempts: int) -> ProviderFailure:
    return ProviderFailure(
        failure.kind,
        failure.message,
        failure.provider,
        failure.model,
        attempts=attempts,
        usage=usage,
        raw_text=failure.raw_text,
    )


class SdkProvider(ABC):
    """A provider on an official SDK; subclasses build the client and send one conversation."""

    name: str
    is_fake: bool = False
    default_base_url: str
    any_server: bool = False  # True when the endpoint is commonly someone else's server

    def __init__(
        self,
        *,
        model: str,
        alias: str = "",
        api_key: str | None,
        key_env: str | None,
        base_url: str | None = None,
        timeout_s: float = 120.0,
        http_client: Any = None,
        policy: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.time,
    ) -> None:
        self.model = model
        self.alias = alias
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self._api_key = api_key
        self._key_env = key_env
        self._timeout_s = timeout_s
        self._http_client = http_client
        self._policy = policy or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._client: Any = None
        self._errors: SdkErrors | None = None

    def __repr__(self) -> str:  # never show the key
        return f"{type(self).__name__}(model={self.model!r}, base_url={self.base_url!r})"

    @property
    def context(self) -> CallContext:
        return CallContext(
            provider=self.name,
            model=self.model,
            alias=self.alias,
            key_env=self._key_env,
            base_url=self.base_url,
            api_key=self._api_key,
            timeout_s=self._timeout_s,
            custom_base_url=self.any_server or self.base_url != self.default_base_url.rstrip("/"),
            any_server=self.any_server,
        )

    @abstractmethod
    def _make_client(self, api_key: str) -> tuple[Any, SdkErrors]:
        """Build the async SDK client (max_retries=0, explicit key/base_url/timeout)."""

    @abstractmethod
    async def _send(
        self, client: Any, request: ModelRequest, turns: list[Turn], meter: CallMeter
    ) -> RawReply:
        """One HTTP call through the SDK, streamed where it can be: each piece of text goes to
        ``meter`` as it arrives; SDK exceptions propagate to the classifier."""

    def _fall_back(self, failure: ProviderFailure) -> str | ProviderFailure:
        """After a failed request: a notice when the provider switched to another form of the
        request worth sending instead, else the failure to raise."""
        return failure

    def _call_begins(self) -> None:
        """Called as each call begins (before its first attempt)."""
        return None

    def _succeeded(self) -> tuple[str, ...]:
        """Called after a usable reply: notices for the user about how it was obtained."""
        return ()

    def _missing_key(self) -> ProviderFailure | None:
        if self._api_key:
            return None
        if self._key_env:
            message = (
                f"set {self._key_env} to your {self.name} API key "
                f"(named by {self.context.setting('api_key_env')})"
            )
        else:
            message = (
                f"no key variable configured for this {self.name} model: set "
                f"{self.context.setting('api_key_env')} to the name of the variable holding the key"
            )
        return ProviderFailure("auth", message, self.name, self.model, attempts=0)

    def _ensure_client(self) -> tuple[Any, SdkErrors]:
        if self._client is None or self._errors is None:
            self._client, self._errors = self._make_client(self._api_key or "")
        return self._client, self._errors

    async def aclose(self) -> None:
        """Close the SDK client (an ``http_client`` handed in stays open: its owner closes it)."""
        if self._client is not None and self._http_client is None:
            await self._client.close()
        self._client = None

    async def complete(
        self,
        request: ModelRequest,
        progress: ProgressReport | None = None,
        meter: CallMeter | None = None,
    ) -> ModelReply:
        missing = self._missing_key()
        if missing is not None:
            raise missing
        client, errors = self._ensure_client()
        ctx = self.context
        retrier = Retrier(self._policy, self.name, self.model, sleep=self._sleep, clock=self._clock)
        started = time.monotonic()
        meter = meter if meter is not None else CallMeter(request.step, progress)
        self._call_begins()
        turns = [Turn("user", request.user)]
        repaired = False

        def classifier(exc: Exception) -> Transient | ProviderFailure:
            return classify(exc, errors, ctx, self._clock)

        while True:
            try:
                send = functools.partial(self._attempt, client, request, list(turns), meter)
                raw = await retrier.call(send, classifier, progress)
            except ProviderFailure as failure:
                instead = self._fall_back(failure)
                if isinstance(instead, str):  # the request is sent again in another form
                    await report(progress, instead)
                    continue
                raise _with_spend(instead, meter.settled, retrier.attempts) from failure.__cause__
            spent = meter.settled
            if raw.truncated:
                raise ProviderFailure(
                    "truncated",
                    f"the reply hit the output limit of {request.max_output_tokens} tokens; raise "
                    f"{ctx.setting('max_output_tokens')} or narrow the request",
                    self.name,
                    self.model,
                    attempts=retrier.attempts,
                    usage=spent,
                    raw_text=raw.text,
                )
            parsed, problem = await self._validate(raw, request)
            if parsed is not None:
                return ModelReply(
                    parsed=parsed,
                    raw_text=raw.text,
                    usage=spent,
                    attempts=retrier.attempts,
                    latency_ms=int((time.monotonic() - started) * 1000),
                    provider=self.name,
                    model=self.model,
                    notices=self._succeeded(),
                )
            if repaired:
                raise ProviderFailure(
                    "invalid_reply",
                    f"the reply did not fit the {request.output_type.__name__} schema after one "
                    f"repair attempt: {problem}",
                    self.name,
                    self.model,
                    attempts=retrier.attempts,
                    usage=spent,
                    raw_text=raw.text,
                )
            repaired = True
            await report(
                progress,
                f"{self.name} reply did not fit the {request.output_type.__name__} schema; "
                "asking once more with the validation error",
            )
            turns = [
                *turns,
                Turn("assistant", raw.text or "(empty reply)"),
                Turn("user", repair_prompt(problem)),
            ]

    async def _attempt(
        self, client: Any, request: ModelRequest, turns: list[Turn], meter: CallMeter
    ) -> RawReply:
        """One HTTP attempt, metered: its usage is settled when it ends, however it ends (a
        cancellation leaves it under way, for :meth:`CallMeter.so_far`)."""
        meter.begin(functools.partial(prompt_tokens, request, turns))
        try:
            raw = await self._send(client, request, turns, meter)
        except Exception:
            meter.cut_off()
            raise
        meter.end(raw.usage)
        return raw

    @staticmethod
    async def _validate(raw: RawReply, request: ModelRequest) -> tuple[BaseModel | None, str]:
        if raw.refusal:
            return None, f"the model refused: {raw.refusal[:300]}"
        try:
            parsed = await raw.parse()
        except ValueError as exc:  # pydantic.ValidationError (bad JSON or schema) is a ValueError
            return None, describe_validation_error(exc)
        if parsed is None:
            return None, "the reply had no text"
        if not isinstance(parsed, request.output_type):
            return None, f"the reply parsed as {type(parsed).__name__}"
        return parsed, ""


def prompt_tokens(request: ModelRequest, turns: list[Turn]) -> int:
    """A request's input as every estimate counts it (o200k), for a server that reports none."""
    from tandem.cost.estimate import count_request_tokens

    return count_request_tokens(
        "o200k_base",
        system=request.system,
        user="\n".join(turn.text for turn in turns),
        output_schema=request.output_type.model_json_schema(),
    )


def messages_for(turns: list[Turn]) -> list[dict[str, str]]:
    return [{"role": turn.role, "content": turn.text} for turn in turns]


def body_of(data: object) -> Mapping[str, Any]:
    return data if isinstance(data, Mapping) else {}
