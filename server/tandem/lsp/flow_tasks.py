"""Which tasks touch a file and what the stop rule lets each do next, kept in memory.

Code actions must be listed in milliseconds, so they never read task folders: this catalog
reads each task once (and again when a command changes it, or when a new task folder appears,
e.g. one made by the CLI) and answers from memory.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path

from tandem.flow.handoff import split_unit_id
from tandem.flow.stop_rule import FlowPosition, next_step, position_of
from tandem.flow.taskstore import TaskStore, TaskStoreError
from tandem.slicing.result import FileRangeAnchor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TaskSummary:
    task_id: str
    files: frozenset[str]
    position: FlowPosition

    @property
    def can_draft(self) -> bool:
        """A plan exists and nothing was drafted from it yet."""
        return self.position.has_plan and self.position.drafts == 0

    @property
    def can_redraft(self) -> bool:
        """The stop rule allows the second (last) draft."""
        decision = next_step(self.position)
        return (decision.step == "draft" and decision.round == 2) or decision.offers_redraft

    @property
    def has_draft(self) -> bool:
        return self.position.drafts > 0


def summarize(store: TaskStore, task_id: str) -> TaskSummary:
    task = store.load_task(task_id)
    files: set[str] = set()
    if isinstance(task.anchor, FileRangeAnchor):
        files.add(task.anchor.path)
    with contextlib.suppress(TaskStoreError):
        files |= {unit.path for unit in store.load_slice(task_id).touched}
    plan = store.load_plan(task_id)
    if plan is not None:
        files |= set(plan.scope.files) | {split_unit_id(u)[0] for u in plan.scope.units}
    return TaskSummary(task_id, frozenset(files), position_of(store, task_id))


class TaskCatalog:
    def __init__(self, store: TaskStore) -> None:
        self.store = store
        self._tasks: dict[str, TaskSummary] = {}
        self._seen_mtime: float | None = None

    def _scan(self) -> None:
        try:
            mtime = self.store.root.stat().st_mtime
        except OSError:
            return
        if mtime == self._seen_mtime:
            return
        self._seen_mtime = mtime
        for task_id in self.store.task_ids():
            if task_id not in self._tasks:
                self.refresh(task_id)

    def refresh(self, task_id: str) -> TaskSummary | None:
        try:
            summary = summarize(self.store, task_id)
        except (TaskStoreError, OSError, ValueError) as error:
            log.warning("task %s cannot be read: %s", task_id, error)
            self._tasks.pop(task_id, None)
            return None
        self._tasks[task_id] = summary
        return summary

    def touching(self, path: str) -> list[TaskSummary]:
        """Tasks touching ``path``, newest first (task ids start with their creation time)."""
        self._scan()
        found = [task for task in self._tasks.values() if path in task.files]
        return sorted(found, key=lambda task: task.task_id, reverse=True)

    def get(self, task_id: str) -> TaskSummary | None:
        self._scan()
        return self._tasks.get(task_id)

    def latest_planned(self) -> TaskSummary | None:
        self._scan()
        planned = [task for task in self._tasks.values() if task.position.has_plan]
        return max(planned, key=lambda task: task.task_id, default=None)

    @property
    def root(self) -> Path:
        return self.store.root
