"""Test doubles and fixtures for the flow tests: a recorder that keeps records in memory, a
scripted provider (a queue of replies or failures per step), the example repository and its slice,
and :func:`example_flow`, the one flow environment the tests build.

These are test tools, never used by Tandem itself.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel

from tandem.config import ModelSettings, PriceOverride, Settings
from tandem.flow.env import Confirm, FlowEnv, build_flow_env, one_provider
from tandem.flow.task import create_task
from tandem.providers.base import (
    CallMeter,
    ModelReply,
    ModelRequest,
    ProgressReport,
    ProviderFailure,
)
from tandem.slicing.result import FileRangeAnchor, RelatedTest, Slice, TouchedUnit
from tandem.values import StepRecord, Usage

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "projects_api"
FAKE_REPLIES = EXAMPLE / "fake_replies.json"
REQUEST = (
    "add an optional `archived` filter to GET /projects: keep the default behaviour, accept "
    "true/false, reject other values, filter in the query, with tests"
)


class RecordingRecorder:
    """A StepRecorder that keeps every record in a list (the ledger's stand-in in tests)."""

    def __init__(self) -> None:
        self.records: list[StepRecord] = []

    def record_step(self, record: StepRecord) -> None:
        self.records.append(record)

    def task_spend(self, task_id: str) -> tuple[int, Decimal]:
        mine = [r for r in self.records if r.task_id == task_id]
        tokens = sum(r.usage.total_tokens for r in mine)
        dollars = sum((r.cost_usd or Decimal(0) for r in mine), Decimal(0))
        return tokens, dollars


CANCEL = "cancel"
PARTIAL_REPLY = '{"summary": "Add the archived'


class ScriptedProvider:
    """Replies from per-step queues: a reply model, a ProviderFailure to raise, or CANCEL."""

    name = "scripted"
    is_fake = True

    def __init__(self, script: dict[str, list[Any]], usage: Usage | None = None) -> None:
        self.model = "scripted-model"
        self.script = {step: list(items) for step, items in script.items()}
        self.usage = usage or Usage(input_tokens=1000, output_tokens=200)
        self.requests: list[ModelRequest] = []

    async def complete(
        self,
        request: ModelRequest,
        progress: ProgressReport | None = None,
        meter: CallMeter | None = None,
    ) -> ModelReply:
        self.requests.append(request)
        entry = self.script[request.step].pop(0)
        if isinstance(entry, ProviderFailure):
            raise entry
        if entry == CANCEL:  # cancelled mid-stream: a 100-token prompt, a few words received
            if meter is not None:
                meter.begin(lambda: 100)
                await meter.received(PARTIAL_REPLY)
            raise asyncio.CancelledError
        parsed = request.output_type.model_validate(
            entry.model_dump() if isinstance(entry, BaseModel) else entry
        )
        return ModelReply(
            parsed=parsed,
            raw_text=parsed.model_dump_json(),
            usage=self.usage,
            attempts=1,
            latency_ms=5,
            provider=self.name,
            model=self.model,
            is_fake=True,
        )


def example_replies() -> dict[str, list[dict[str, Any]]]:
    data: dict[str, list[dict[str, Any]]] = json.loads(FAKE_REPLIES.read_text(encoding="utf-8"))
    return data


def priced_settings(**routes: Any) -> Settings:
    """Two priced models (exact tokenizer) so budgets and costs are deterministic."""
    strong = ModelSettings(
        provider="openai",
        model="test-strong",
        price=PriceOverride(input_per_mtok=Decimal(3), output_per_mtok=Decimal(15)),
        max_output_tokens=2000,
    )
    cheap = ModelSettings(
        provider="openai",
        model="test-cheap",
        price=PriceOverride(input_per_mtok=Decimal("0.5"), output_per_mtok=Decimal("1.5")),
        max_output_tokens=2000,
    )
    data: dict[str, Any] = {
        "models": {"strong": strong.model_dump(), "cheap": cheap.model_dump()},
        "routes": routes,
    }
    return Settings.model_validate(data)


def example_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "projects_api"
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns("__pycache__", ".tandem"))
    return repo


def example_anchor() -> FileRangeAnchor:
    return FileRangeAnchor(path="app/handlers.py", start_line=10, end_line=14)


def example_slice(repo: Path) -> Slice:
    """What the slicer gives for the example task: the handler, its query, its test."""
    touched = [
        TouchedUnit(path="app/handlers.py", name="get_projects", kind="function", start_line=10,
                    end_line=14, language="python"),
        TouchedUnit(path="app/queries.py", name="list_projects", kind="function", start_line=6,
                    end_line=13, language="python"),
    ]  # fmt: skip
    tests = [
        RelatedTest(
            path="tests/test_handlers.py",
            name="test_get_projects_returns_only_active_projects",
            start_line=22,
            end_line=25,
            score=1.0,
            reason="calls get_projects",
        ),
    ]
    parts = []
    for unit in [*touched, *tests]:
        lines = (repo / unit.path).read_text().splitlines()[unit.start_line - 1 : unit.end_line]
        parts.append(f"# {unit.path}::{unit.name}\n" + "\n".join(lines))
    return Slice(touched=touched, tests=tests, text="\n\n".join(parts), tokens=300)


class ExampleFlow(NamedTuple):
    """A flow on a fresh copy of the example, its steps answered by a scripted provider; the
    records and the progress messages are kept for the test to read."""

    env: FlowEnv
    recorder: RecordingRecorder
    provider: ScriptedProvider
    messages: list[str]


def example_flow(
    tmp_path: Path,
    provider: ScriptedProvider,
    *,
    settings: Settings | None = None,
    confirm: Confirm | None = None,
) -> ExampleFlow:
    """The flow environment tests use, built as Tandem builds it (priced models by default,
    nobody to ask unless ``confirm`` is given)."""
    repo = example_repo(tmp_path)
    recorder = RecordingRecorder()
    messages: list[str] = []
    env = build_flow_env(
        settings or priced_settings(),
        repo,
        recorder=recorder,
        providers=one_provider(provider),
        progress=messages.append,
        confirm=confirm,
    )
    return ExampleFlow(env, recorder, provider, messages)


def example_task(env: FlowEnv) -> str:
    """The example task created on the example's slice; its id."""
    return create_task(env, REQUEST, example_anchor(), example_slice(env.repo)).task_id
