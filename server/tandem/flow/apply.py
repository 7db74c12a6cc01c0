"""A task's draft as files: the texts a draft made, and writing the last one into the repository
(refused if a file changed since the draft)."""

from __future__ import annotations

from tandem.flow.edit_files import WriteRefused
from tandem.flow.edits import Snapshot, apply_edits, read_repo_file, snapshot_text, write_files
from tandem.flow.env import FlowEnv
from tandem.flow.errors import FlowError
from tandem.flow.outcome import result_of
from tandem.flow.taskstore import TaskStore


class ApplyError(FlowError):
    """Edits that cannot be written because the files changed since the draft."""


def apply_task_edits(env: FlowEnv, task_id: str) -> list[str]:
    """Write the last draft's edits into the repository (files written, renamed, deleted);
    refuses, writing nothing, if any file it touches changed since the draft (a file it creates
    included: one that appeared since is never overwritten)."""
    result = result_of(env.store, task_id)
    if result.draft is None or result.plan is None:
        raise ApplyError(f"task {task_id} has no draft to apply")
    stored = env.store.load_snapshot(task_id) or {}
    snapshot = Snapshot(files={path: snapshot_text(path, text) for path, text in stored.items()})
    applied = apply_edits(snapshot, result.draft.edits, result.plan.scope)
    changed = [
        path for path in applied.touched if read_repo_file(env.repo / path) != stored.get(path)
    ]
    if changed:
        raise ApplyError(
            "changed since the draft, not overwritten: " + ", ".join(changed) + "; run a new task"
        )
    try:
        return write_files(env.repo, applied.files, applied.removed)
    except WriteRefused as error:
        raise ApplyError(str(error)) from error


def drafted_texts(store: TaskStore, task_id: str, round_: int) -> dict[str, str | None]:
    """The files as the task's draft of ``round_`` made them (what its review saw); None for a
    file it deleted or renamed away."""
    original = store.load_snapshot(task_id) or {}
    plan, draft = store.load_plan(task_id), store.load_draft(task_id, round_)
    if plan is None or draft is None:
        return {}
    snapshot = Snapshot(files={p: snapshot_text(p, text) for p, text in original.items()})
    result = apply_edits(snapshot, draft.edits, plan.scope)
    return {path: result.files.get(path) for path in result.touched}
