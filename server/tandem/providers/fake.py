"""FakeProvider: a clearly labelled TEST and OFFLINE-DEMO tool that replays queued replies.

It never talks to a model. Every reply it returns carries ``is_fake=True`` and provider
``"fake"`` so whatever shows it (CLI, editor, ledger) can say so. Replies are queued per step
(``{"plan": [...], "draft": [...], "review": [...]}``) or in one shared queue; each entry is a dict
(sent as its JSON), a string (the raw reply text, which may be deliberately invalid), or a
``ProviderFailure`` to raise. In a JSON file a failure is written as
``{"$failure": {"kind": "rate_limited", "message": "..."}}``. Usage is counted with the offline
o200k tokenizer on the request and reply text, so demo numbers are realistic, not invented.
The same one-repair rule as the real providers applies: an invalid reply consumes the next
queued entry as the repair attempt. ``delay_seconds`` (TEST-ONLY) makes each reply wait, so tests
can cancel a call in the middle; cancelling raises ``asyncio.CancelledError`` as real providers do.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel

from tandem.cost.estimate import count_request_tokens
from tandem.cost.tokens import count_tokens
from tandem.providers.base import (
    CallMeter,
    FailureKind,
    ModelReply,
    ModelRequest,
    ProgressReport,
    ProviderFailure,
    report,
)
from tandem.providers.structured import describe_validation_error, repair_prompt
from tandem.values import Usage

FakeReply = Mapping[str, Any] | str | ProviderFailure
FakeReplies = Mapping[str, Iterable[FakeReply]] | Iterable[FakeReply]

SHARED_QUEUE = "*"
FAILURE_KEY = "$failure"


class FakeRepliesError(ValueError):
    """A replies file that cannot be used, with what is wrong and where."""


class FakeProvider:
    """Replays queued replies; for tests and the offline demo only (``is_fake`` is True)."""

    name = "fake"
    is_fake = True

    def __init__(
        self, replies: FakeReplies = (), *, model: str = "fake-model", delay_seconds: float = 0.0
    ) -> None:
        self.model = model
        self.delay_seconds = delay_seconds
        self._queues: dict[str, deque[FakeReply]] = {}
        if isinstance(replies, Mapping):
            for step, entries in replies.items():
                self._queues[str(step)] = deque(entries)
        else:
            self._queues[SHARED_QUEUE] = deque(replies)
        self.requests: list[ModelRequest] = []  # what was asked, for tests to inspect

    def __repr__(self) -> str:
        return f"FakeProvider(model={self.model!r}, queued={self.remaining()})"

    @classmethod
    def from_file(
        cls, path: str | Path, *, model: str = "fake-model", delay_seconds: float = 0.0
    ) -> FakeProvider:
        """Load ``{"plan": [...], "draft": [...], "review": [...]}`` (or a plain list)."""
        source = Path(path)
        try:
            data = json.loads(source.read_text(encoding="utf-8"))
        except OSError as exc:
            raise FakeRepliesError(f"cannot read fake replies {source}: {exc.strerror}") from exc
        except UnicodeDecodeError as exc:
            raise FakeRepliesError(f"fake replies {source} is not UTF-8 text") from exc
        except json.JSONDecodeError as exc:
            raise FakeRepliesError(
                f"fake replies {source} is not JSON (line {exc.lineno}: {exc.msg})"
            ) from exc
        if isinstance(data, list):
            entries = [_entry(item, source, "[]") for item in data]
            return cls(entries, model=model, delay_seconds=delay_seconds)
        if not isinstance(data, dict):
            raise FakeRepliesError(
                f"fake replies {source} must be an object keyed by step or a list"
            )
        queues: dict[str, list[FakeReply]] = {}
        for step, items in data.items():
            if not isinstance(items, list):
                raise FakeRepliesError(f"fake replies {source}: {step!r} must be a list of replies")
            queues[step] = [_entry(item, source, step) for item in items]
        return cls(queues, model=model, delay_seconds=delay_seconds)

    def remaining(self) -> dict[str, int]:
        return {step: len(queue) for step, queue in self._queues.items()}

    def _next(self, step: str) -> FakeReply:
        queue = self._queues.get(step) or self._queues.get(SHARED_QUEUE)
        if not queue:
            raise ProviderFailure(
                "bad_request",
                f"the fake provider has no reply queued for step {step or '(unnamed)'!r}; add "
                "one to the replies file",
                self.name,
                self.model,
                attempts=0,
            )
        return queue.popleft()

    async def complete(
        self,
        request: ModelRequest,
        progress: ProgressReport | None = None,
        meter: CallMeter | None = None,
    ) -> ModelReply:
        """Replay the next queued reply (``meter`` is not used: nothing streams, and a
        cancellation during ``delay_seconds`` has spent nothing)."""
        self.requests.append(request)
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        spent = Usage()
        conversation = request.user
        schema = request.output_type.model_json_schema()
        for attempt in (1, 2):
            entry = self._next(request.step)
            if isinstance(entry, ProviderFailure):
                raise ProviderFailure(
                    entry.kind,
                    entry.message,
                    self.name,
                    self.model,
                    attempts=attempt,
                    usage=spent + entry.usage,
                    raw_text=entry.raw_text,
                )
            text = entry if isinstance(entry, str) else json.dumps(entry)
            # Counted exactly as the estimate counts a request, so "estimate vs actual" is 0%
            # wherever counting is exact (the fake provider says what it is; it never guesses).
            sent = count_request_tokens(
                "o200k_base", system=request.system, user=conversation, output_schema=schema
            )
            spent = spent + Usage(input_tokens=sent, output_tokens=count_tokens(text))
            try:
                parsed: BaseModel = request.output_type.model_validate_json(text)
            except ValueError as exc:
                problem = describe_validation_error(exc)
                if attempt == 2:
                    raise ProviderFailure(
                        "invalid_reply",
                        f"the reply did not fit the {request.output_type.__name__} schema after "
                        f"one repair attempt: {problem}",
                        self.name,
                        self.model,
                        attempts=attempt,
                        usage=spent,
                        raw_text=text,
                    ) from exc
                await report(progress, "fake reply did not fit the schema; replaying the next one")
                conversation = f"{conversation}\n{text}\n{repair_prompt(problem)}"
                continue
            return ModelReply(
                parsed=parsed,
                raw_text=text,
                usage=spent,
                attempts=attempt,
                latency_ms=0,
                provider=self.name,
                model=self.model,
                is_fake=True,
            )
        raise AssertionError("unreachable")  # pragma: no cover


def _entry(item: object, source: Path, step: str) -> FakeReply:
    if isinstance(item, str):
        return item
    if isinstance(item, dict) and FAILURE_KEY in item:
        spec = item[FAILURE_KEY]
        kinds = get_args(FailureKind)
        if not isinstance(spec, dict) or spec.get("kind") not in kinds:
            raise FakeRepliesError(
                f"fake replies {source}: a {FAILURE_KEY} in {step!r} needs a kind, one of "
                + ", ".join(kinds)
            )
        return ProviderFailure(
            spec["kind"],
            str(spec.get("message") or f"simulated {spec['kind']} failure"),
            "fake",
            "fake-model",
            raw_text=spec.get("raw_text"),
        )
    if isinstance(item, dict):
        return item
    raise FakeRepliesError(
        f"fake replies {source}: entries in {step!r} must be objects or strings, not "
        f"{type(item).__name__}"
    )
