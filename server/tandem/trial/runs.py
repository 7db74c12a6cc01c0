"""Trials: one task run N times through the split flow and the single-model baselines.

The seed documents' advice: "ten runs tell you more than one good demo"; compare the split with a
single model on the same task before believing it. A trial reads a task file, and for each run
and mode copies the task's repository to a scratch directory, runs the task there (the runner
is the flow, injected so this module stays below it), runs the task's own test command, and
records the run under one trial id. Step records carry the trial id and mode, so the ledger's
report shows the modes side by side.

Task file (TOML)::

    request = "Make add() return the sum"       # what to do
    repo = "."                                  # relative to the task file
    file = "calc.py"                            # anchor: a file and a line or a symbol
    line = 3                                    # or: symbol = "add"
    task_type = "bugfix"                        # optional: small | bugfix | feature | risky
    test_command = "python -m pytest -q"        # optional; run in the copy, no shell
    test_timeout_seconds = 600                  # optional
    fake_replies = "fake_replies.json"          # optional: replies for `fake` models (demo)
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
import time
import tomllib
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tandem.cost.estimate import EstimateHistory
from tandem.ledger.base import Ledger
from tandem.ledger.rows import TrialRun
from tandem.values import StepRecord, StepRecorder, TaskType

Mode = Literal["split", "strong", "cheap"]
MODES: tuple[Mode, ...] = ("split", "strong", "cheap")
COPY_IGNORED = (".tandem", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".venv")


class TrialInputError(ValueError):
    """A task file or option that cannot be used; the message says what to fix."""


class TaskFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    request: str = Field(min_length=1)
    repo: str = "."
    file: str = Field(min_length=1)
    line: int | None = Field(default=None, ge=1)
    symbol: str | None = None
    task_type: TaskType | None = None
    test_command: str | None = None
    test_timeout_seconds: float = Field(default=600, gt=0, le=24 * 3600)
    fake_replies: str | None = Field(
        default=None, description="Replies file for `fake` models (offline demo), relative path."
    )

    @model_validator(mode="after")
    def _anchor_is_given(self) -> TaskFile:
        if self.line is None and not self.symbol:
            raise ValueError('give the anchor as `line = N` or `symbol = "name"`')
        return self


@dataclass(frozen=True)
class LoadedTask:
    task: TaskFile
    path: Path
    repo: Path


def load_task_file(path: Path) -> LoadedTask:
    """Read and check a task file: TOML, known keys, an existing repository and anchor file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise TrialInputError(f"{path}: cannot read the task file: {error.strerror}") from error
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise TrialInputError(f"{path}: not a valid TOML task file: {error}") from error
    try:
        task = TaskFile.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in detail['loc']) or '(file)'}: {detail['msg']}"
            for detail in error.errors()
        )
        raise TrialInputError(f"{path}: {problems}") from error
    repo = (path.parent / task.repo).resolve()
    if not repo.is_dir():
        raise TrialInputError(f"{path}: repo {task.repo!r} is not a directory ({repo})")
    if not (repo / task.file).is_file():
        raise TrialInputError(f"{path}: file {task.file!r} does not exist in {repo}")
    if task.fake_replies is not None and not (path.parent / task.fake_replies).is_file():
        replies = (path.parent / task.fake_replies).resolve()
        raise TrialInputError(
            f"{path}: fake_replies {task.fake_replies!r} is not a file ({replies})"
        )
    return LoadedTask(task=task, path=path, repo=repo)


def parse_modes(text: str) -> tuple[Mode, ...]:
    modes = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [mode for mode in modes if mode not in MODES]
    if not modes or unknown:
        raise TrialInputError(f"--modes {text!r}: use a comma-separated list of {', '.join(MODES)}")
    chosen: list[Mode] = []
    for mode in MODES:
        if mode in modes:
            chosen.append(mode)
    return tuple(chosen)


def find_test_command_problem(command: str | None, repo: Path) -> str | None:
    """Why the task's test command cannot run (None when it can, or when there is none)."""
    if command is None:
        return None
    try:
        argv = shlex.split(command)
    except ValueError as error:
        return f"test command {command!r} cannot be parsed: {error}"
    if not argv:
        return "test command is empty"
    program = argv[0]
    if os.sep in program:
        candidate = (repo / program) if not Path(program).is_absolute() else Path(program)
        if not candidate.is_file():
            return f"test command {program!r} does not exist (looked in {repo})"
        return None
    if shutil.which(program) is None:
        return f"test command {program!r} is not on PATH; fix test_command in the task file"
    return None


@dataclass(frozen=True)
class CommandOutcome:
    passed: bool
    detail: str


def run_test_command(command: str, cwd: Path, timeout: float) -> CommandOutcome:
    """Run the task's tests in the run's copy of the repository (argv, no shell)."""
    try:
        completed = subprocess.run(
            shlex.split(command),
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        return CommandOutcome(False, f"test command {command!r} not found")
    except subprocess.TimeoutExpired:
        return CommandOutcome(False, f"test command timed out after {timeout:g} s")
    tail = (completed.stdout + completed.stderr).strip().splitlines()[-1:] or [""]
    detail = f"exit {completed.returncode}: {tail[0][:200]}"
    return CommandOutcome(completed.returncode == 0, detail)


class TrialRecorder:
    """Stamps every step record with the trial id and mode before the real recorder sees it."""

    def __init__(self, inner: StepRecorder, trial_id: str, mode: Mode) -> None:
        self.inner, self.trial_id, self.mode = inner, trial_id, mode

    def record_step(self, record: StepRecord) -> None:
        stamped = record.model_copy(update={"trial_id": self.trial_id, "mode": self.mode})
        self.inner.record_step(stamped)

    def task_spend(self, task_id: str) -> tuple[int, Decimal]:
        return self.inner.task_spend(task_id)


@dataclass(frozen=True)
class RunOutcome:
    """What the flow did in one run: its task id, final status and message."""

    task_id: str
    status: str
    message: str


@dataclass(frozen=True)
class RunRequest:
    """One run handed to the runner: the task, a fresh copy of the repo, the mode, the recorder."""

    task: TaskFile
    workdir: Path
    mode: Mode
    run_index: int
    task_id: str
    recorder: TrialRecorder
    task_dir: Path
    history: EstimateHistory | None = None


Runner = Callable[[RunRequest], Awaitable[RunOutcome]]
Progress = Callable[[str], None]


@dataclass(frozen=True)
class TrialResult:
    trial_id: str
    runs: list[TrialRun]


def new_trial_id() -> str:
    return "trial-" + time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]


async def run_trial(
    loaded: LoadedTask,
    *,
    modes: Sequence[Mode],
    repeat: int,
    runner: Runner,
    ledger: Ledger,
    trial_id: str | None = None,
    progress: Progress | None = None,
) -> TrialResult:
    """Run the task ``repeat`` times per mode, interleaving modes so drift hits all of them."""
    if not 1 <= repeat <= 100:
        raise TrialInputError("--repeat must be between 1 and 100")
    problem = find_test_command_problem(loaded.task.test_command, loaded.repo)
    if problem is not None:
        raise TrialInputError(problem)  # checked before any model call costs money
    trial_id = trial_id or new_trial_id()
    runs: list[TrialRun] = []
    for run_index in range(1, repeat + 1):
        for mode in modes:
            task_id = f"{trial_id}-{mode}-{run_index}"
            with tempfile.TemporaryDirectory(prefix="tandem-trial-") as scratch:
                workdir = Path(scratch) / loaded.repo.name
                shutil.copytree(loaded.repo, workdir, ignore=shutil.ignore_patterns(*COPY_IGNORED))
                started = time.monotonic()
                request = RunRequest(
                    task=loaded.task,
                    workdir=workdir,
                    mode=mode,
                    run_index=run_index,
                    task_id=task_id,
                    recorder=TrialRecorder(ledger, trial_id, mode),
                    task_dir=loaded.path.parent,
                    history=ledger,
                )
                outcome = await runner(request)
                passed: bool | None = None
                detail = outcome.message
                if loaded.task.test_command is not None:
                    tested = run_test_command(
                        loaded.task.test_command, workdir, loaded.task.test_timeout_seconds
                    )
                    passed, detail = tested.passed, f"{outcome.message}; tests {tested.detail}"
                run = TrialRun(
                    trial_id=trial_id,
                    task_id=outcome.task_id,
                    mode=mode,
                    run_index=run_index,
                    outcome=outcome.status,
                    test_command=loaded.task.test_command,
                    test_passed=passed,
                    duration_ms=round((time.monotonic() - started) * 1000),
                    detail=detail[:1000],
                )
                ledger.record_trial_run(run)
                runs.append(run)
                if progress is not None:
                    tests = "-" if passed is None else ("passed" if passed else "FAILED")
                    progress(
                        f"{mode} run {run_index}/{repeat}: {outcome.status}, tests {tests} "
                        f"({outcome.message})"
                    )
    return TrialResult(trial_id=trial_id, runs=runs)
