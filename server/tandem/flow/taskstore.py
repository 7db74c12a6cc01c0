"""Each task's handoffs on disk under ``<workspace>/.tandem/tasks/<id>/``, so nothing is lost.

Files: ``task.json``, ``slice.json``, ``snapshot.json`` (the files the draft edits, as they were),
``plan.json`` + ``plan.md`` (the editable, approvable document), ``draft.json`` /
``draft-2.json``, ``review.json`` / ``review-2.json``, ``raw-<step>-<round>.txt`` (the raw reply
of a step that failed) and ``state.json`` (status, last message, a summary per step). Writes
go through a temporary file and a rename, so a crash never leaves half a JSON file.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tandem.flow.handoff import (
    SCHEMA_VERSION,
    Draft,
    Plan,
    PlanReply,
    Review,
    Task,
    parse_plan_markdown,
    plan_markdown,
)
from tandem.slicing.result import Slice
from tandem.values import StepName, StepOutcome

TASKS_DIR = Path(".tandem") / "tasks"
_TASK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,80}")


def is_task_id(value: str) -> bool:
    """Whether ``value`` can name a task folder: a letter or digit, then letters, digits, ``-``
    and ``_``, 81 characters at most (no trailing newline, no path separator, no NUL)."""
    return _TASK_ID.fullmatch(value) is not None


TaskStatus = Literal[
    "created",
    "planned",
    "approved",
    "drafted",
    "reviewed",
    "done",
    "failed",
    "stopped",
    "needs_attention",
]

M = TypeVar("M", bound=BaseModel)


class TaskStoreError(Exception):
    """A task that does not exist, or whose files cannot be read; the message says which."""


class StepSummary(BaseModel):
    """One step as ``tandem run --json`` reports it."""

    model_config = ConfigDict(extra="forbid")

    step: StepName
    round: int = 1
    alias: str | None = None
    model: str | None = None
    provider: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: Decimal | None = None
    outcome: StepOutcome
    message: str = ""
    prompt_version: str = ""
    fake: bool = False
    redactions: int = 0
    """Secrets replaced by placeholders in this step's prompt before it was sent."""
    tokens_counted: bool = False
    """The tokens were counted offline (o200k), not reported by the provider."""


class TaskState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: int = SCHEMA_VERSION
    status: TaskStatus = "created"
    message: str = ""
    steps: list[StepSummary] = Field(default_factory=list)
    updated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    rating_asked: bool = False
    """An editor was told to ask the user for a rating of this task (it is asked once)."""


def new_task_id(request: str, now: datetime | None = None) -> str:
    moment = now or datetime.now(UTC)
    digest = hashlib.sha256(f"{request}{moment.isoformat()}".encode()).hexdigest()[:6]
    return moment.strftime("%Y%m%d-%H%M%S-") + digest


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


class TaskStore:
    def __init__(self, workspace: Path) -> None:
        self.root = workspace / TASKS_DIR

    def task_dir(self, task_id: str) -> Path:
        if not is_task_id(task_id):
            shown = task_id if len(task_id) <= 100 else f"{task_id[:100]}…"
            raise TaskStoreError(f"{shown!r} is not a task id (letters, digits, - and _)")
        return self.root / task_id

    def exists(self, task_id: str) -> bool:
        return (self.task_dir(task_id) / "task.json").is_file()

    def task_ids(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / "task.json").is_file())

    def _save(self, task_id: str, name: str, model: BaseModel) -> Path:
        path = self.task_dir(task_id) / name
        _write_atomic(path, model.model_dump_json(indent=2) + "\n")
        return path

    def _load(self, task_id: str, name: str, kind: type[M]) -> M | None:
        path = self.task_dir(task_id) / name
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise TaskStoreError(f"{path}: cannot be read: {error}") from error
        version = data.get("schema_version", SCHEMA_VERSION) if isinstance(data, dict) else None
        if version != SCHEMA_VERSION:
            raise TaskStoreError(
                f"{path}: handoff schema version {version}, this Tandem reads {SCHEMA_VERSION}; "
                "start a new task"
            )
        try:
            return kind.model_validate(data)
        except ValidationError as error:
            raise TaskStoreError(f"{path}: not a valid {kind.__name__}: {error}") from error

    # --- task, slice, snapshot ---
    def save_task(self, task: Task) -> None:
        self._save(task.task_id, "task.json", task)

    def load_task(self, task_id: str) -> Task:
        task = self._load(task_id, "task.json", Task)
        if task is None:
            known = ", ".join(self.task_ids()[-5:]) or "none yet"
            raise TaskStoreError(f"no task {task_id} under {self.root} (recent: {known})")
        return task

    def save_slice(self, task_id: str, context: Slice) -> None:
        _write_atomic(self.task_dir(task_id) / "slice.json", context.model_dump_json(indent=2))

    def load_slice(self, task_id: str) -> Slice:
        path = self.task_dir(task_id) / "slice.json"
        try:
            return Slice.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, ValidationError) as error:
            raise TaskStoreError(f"{path}: cannot be read: {error}") from error

    def save_snapshot(self, task_id: str, files: dict[str, str | None]) -> None:
        text = json.dumps(files, indent=2, sort_keys=True)
        _write_atomic(self.task_dir(task_id) / "snapshot.json", text)

    def load_snapshot(self, task_id: str) -> dict[str, str | None] | None:
        path = self.task_dir(task_id) / "snapshot.json"
        if not path.is_file():
            return None
        data: dict[str, str | None] = json.loads(path.read_text(encoding="utf-8"))
        return data

    # --- plan: plan.json plus plan.md, which the user may edit before approving ---
    def save_plan(self, task_id: str, plan: Plan) -> None:
        self._save(task_id, "plan.json", plan)
        _write_atomic(self.task_dir(task_id) / "plan.md", plan_markdown(plan.reply))

    def load_plan(self, task_id: str) -> Plan | None:
        """The plan, with the user's edits to ``plan.md`` read back in."""
        plan = self._load(task_id, "plan.json", Plan)
        if plan is None:
            return None
        document = self.task_dir(task_id) / "plan.md"
        if document.is_file():
            text = document.read_text(encoding="utf-8")
            if text != plan_markdown(plan.reply):
                edited: PlanReply = parse_plan_markdown(text)
                plan = plan.model_copy(update={"reply": edited, "edited_by_user": True})
        return plan

    def plan_document(self, task_id: str) -> Path:
        return self.task_dir(task_id) / "plan.md"

    # --- draft and review, one file per round ---
    @staticmethod
    def _round_name(step: str, round_: int) -> str:
        return f"{step}.json" if round_ == 1 else f"{step}-{round_}.json"

    def save_draft(self, task_id: str, draft: Draft) -> None:
        self._save(task_id, self._round_name("draft", draft.round), draft)

    def load_draft(self, task_id: str, round_: int) -> Draft | None:
        return self._load(task_id, self._round_name("draft", round_), Draft)

    def save_review(self, task_id: str, review: Review) -> None:
        self._save(task_id, self._round_name("review", review.round), review)

    def load_review(self, task_id: str, round_: int) -> Review | None:
        return self._load(task_id, self._round_name("review", round_), Review)

    def save_raw_reply(self, task_id: str, step: StepName, round_: int, text: str) -> Path:
        path = self.task_dir(task_id) / f"raw-{step}-{round_}.txt"
        _write_atomic(path, text)
        return path

    # --- state ---
    def load_state(self, task_id: str) -> TaskState:
        return self._load(task_id, "state.json", TaskState) or TaskState()

    def save_state(self, task_id: str, state: TaskState) -> None:
        stamped = state.model_copy(update={"updated_at": datetime.now(UTC)})
        self._save(task_id, "state.json", stamped)

    def update_state(self, task_id: str, **changes: object) -> None:
        """Change some fields of the task's state (e.g. ``status`` and ``message``)."""
        state = self.load_state(task_id)
        self.save_state(task_id, state.model_copy(update=changes))
