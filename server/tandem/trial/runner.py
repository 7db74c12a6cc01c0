"""The runner ``tandem trial`` uses: one run of a task file through the real flow.

For each run: settings with ``routes.single_model`` set for the ``strong``/``cheap`` baselines
(unset for ``split``), a slice of the anchor, the task created and run with the plan approved
(``--yes``), the draft's edits written into the run's copy of the repository, and every step
recorded (stamped with the trial id and mode) in the ledger. Models are built by the provider
registry; a ``fake`` model replays the task file's ``fake_replies`` (the offline demo), and its
records say ``provider = fake``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from tandem.config import Settings
from tandem.slicing.result import FileRangeAnchor, Slice, SliceError
from tandem.trial.runs import Mode, Runner, RunOutcome, RunRequest, TaskFile, TrialInputError

logger = logging.getLogger("tandem.trial")


def settings_for_mode(settings: Settings, mode: Mode) -> Settings:
    """The split's own routes, or every step on one alias for a baseline."""
    if mode != "split" and mode not in settings.models:
        raise TrialInputError(
            f"mode {mode!r} needs a model alias named {mode!r} in the settings' models"
        )
    single = None if mode == "split" else mode
    routes = settings.routes.model_copy(update={"single_model": single})
    return settings.model_copy(update={"routes": routes})


def anchor_for(task: TaskFile, repo: Path) -> FileRangeAnchor:
    """The task's anchor as a line range: the given line, or the named symbol's unit."""
    if task.line is not None:
        return FileRangeAnchor(path=task.file, start_line=task.line, end_line=task.line)
    from tandem.slicing.codeunits import find_units, language_for

    language = language_for(task.file)
    text = (repo / task.file).read_text(encoding="utf-8", errors="replace")
    if language is not None:
        for unit in find_units(text, language, task.file):
            if unit.name == task.symbol:
                return FileRangeAnchor(
                    path=task.file, start_line=unit.start_line, end_line=unit.end_line
                )
    raise TrialInputError(f"symbol {task.symbol!r} not found in {task.file}")


def slice_for(repo: Path, anchor: FileRangeAnchor, settings: Settings) -> Slice:
    """The real slice of the anchor (touched units, related tests, callee signatures)."""
    from tandem.slicing.slicer import slice_repository

    try:
        return slice_repository(repo, anchor, settings)
    except SliceError as error:
        raise TrialInputError(f"cannot slice the task's anchor: {error}") from error


def flow_runner(
    settings: Settings,
    *,
    environ: dict[str, str],
    workspace: Path,
    fake_replies: Path | None = None,
    confirm: Callable[[str], bool] | None = None,
) -> Runner:
    """Runs one :class:`RunRequest` through the real plan → draft → review flow. Trials run
    unattended: a step above ``budgets.confirm_above_usd`` is sent only with ``confirm``
    (``tandem trial --yes``). A ``fake`` model's replies file is relative to ``workspace``."""

    async def run(request: RunRequest) -> RunOutcome:
        from tandem.flow.apply import ApplyError, apply_task_edits
        from tandem.flow.env import build_flow_env, registry_providers
        from tandem.flow.run import run_flow
        from tandem.flow.task import create_task

        mode_settings = settings_for_mode(settings, request.mode)
        replies = fake_replies
        if replies is None and request.task.fake_replies is not None:
            replies = request.task_dir / request.task.fake_replies

        env = build_flow_env(
            mode_settings,
            request.workdir,
            recorder=request.recorder,
            providers=registry_providers(environ, workspace=workspace, fake_replies=replies),
            history=request.history,
            confirm=confirm,
        )
        anchor = anchor_for(request.task, request.workdir)
        context = slice_for(request.workdir, anchor, mode_settings)
        create_task(
            env,
            request.task.request,
            anchor,
            context,
            task_type=request.task.task_type,
            task_id=request.task_id,
        )
        result = await run_flow(env, request.task_id, approve=True)
        message = result.message
        # Apply what a user running the flow with --apply would get: the last draft, unless the
        # flow failed or stopped (budget, cancellation).
        if result.draft is not None and result.status not in (
            "failed",
            "stopped",
            "needs_attention",
        ):
            try:
                written = apply_task_edits(env, request.task_id)
                message += f"; applied edits to {len(written)} file(s)"
            except ApplyError as error:
                message += f"; edits not applied: {error.message}"
        return RunOutcome(request.task_id, result.status, message)

    return run
