"""Spend at a glance (an editor's status bar), the ledger as estimate history for previews, and
the scorecard written as a markdown document.

Reading never creates a ledger: with no ledger file yet, today's spend is $0 and estimates use
their defaults.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from tandem.ledger.base import Ledger
from tandem.ledger.errors import LedgerError
from tandem.ledger.location import configured_ledger
from tandem.ledger.open import open_ledger

if TYPE_CHECKING:
    from tandem.config import Settings
    from tandem.values import StepName

log = logging.getLogger(__name__)

ADVICE_SECONDS = 600.0
"""How long routing advice is reused while today's spend and the settings stay the same."""
REPORT_DOCUMENT = Path(".tandem") / "report.md"
HISTORY_SECONDS = 30.0
"""How long the ledger's answers are reused: they change only when a step is recorded, and a
hover must not query SQLite several times per keystroke."""


@dataclass(frozen=True)
class TaskProgress:
    task_id: str
    spent_usd: Decimal
    budget_usd: Decimal
    stage: str


def start_of_day(now: datetime | None = None) -> datetime:
    """Midnight UTC of the current day (the ledger's times are UTC)."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


class LedgerView:
    """Read-only, lazily opened, briefly cached view of a workspace's ledger."""

    def __init__(self, settings: Settings, workspace: Path) -> None:
        self.target = configured_ledger(settings.ledger, workspace)
        self._ledger: Ledger | None = None
        self._answers: dict[tuple[object, ...], tuple[float, object]] = {}
        # Kept across forget(): advice reads the whole window of evidence (0.7 s over 10,000
        # tasks), too much for every status poll; it is redone when today's spend or the
        # settings change, else every ADVICE_SECONDS.
        self._advice: tuple[float, tuple[object, ...], list[str]] | None = None

    def _open(self) -> Ledger | None:
        if self._ledger is None:
            if isinstance(self.target, Path) and not self.target.is_file():
                return None
            self._ledger = open_ledger(self.target)
        return self._ledger

    def _cached(self, key: tuple[object, ...]) -> tuple[bool, object]:
        found = self._answers.get(key)
        if found is not None and time.monotonic() - found[0] < HISTORY_SECONDS:
            return True, found[1]
        return False, None

    def _keep(self, key: tuple[object, ...], value: object) -> None:
        self._answers[key] = (time.monotonic(), value)

    def forget(self) -> None:
        """Drop cached answers (a step was recorded, or the status was asked for)."""
        self._answers.clear()

    def today_usd(self, now: datetime | None = None) -> Decimal:
        """Dollars recorded since midnight UTC; raises ``LedgerError`` if it cannot be read."""
        hit, value = self._cached(("today",))
        if hit and isinstance(value, Decimal):
            return value
        ledger = self._open()
        rows = ledger.steps(since=start_of_day(now)) if ledger is not None else []
        total = sum((row.record.cost_usd or Decimal(0) for row in rows), Decimal(0))
        self._keep(("today",), total)
        return total

    # EstimateHistory, never raising: a broken ledger means default estimates.

    def typical_output_tokens(self, step: StepName, provider: str, model: str) -> int | None:
        key = ("output", step, provider, model)
        hit, value = self._cached(key)
        if hit:
            return value if isinstance(value, int) else None
        try:
            ledger = self._open()
            found = ledger.typical_output_tokens(step, provider, model) if ledger else None
        except LedgerError:
            found = None
        self._keep(key, found)
        return found

    def input_calibration(self, provider: str, model: str) -> float | None:
        key = ("calibration", provider, model)
        hit, value = self._cached(key)
        if hit:
            return value if isinstance(value, float) else None
        try:
            ledger = self._open()
            found = ledger.input_calibration(provider, model) if ledger else None
        except LedgerError:
            found = None
        self._keep(key, found)
        return found

    def advice(self, settings: Settings) -> list[str]:
        """The routing advice of ``tandem advise``, one line each; none from a broken ledger."""
        from tandem.reports.advice import advise
        from tandem.reports.advice_output import advice_lines
        from tandem.reports.evidence import load_evidence

        try:
            key: tuple[object, ...] = (self.today_usd(), settings.model_dump_json())
            kept = self._advice
            if kept and kept[1] == key and time.monotonic() - kept[0] < ADVICE_SECONDS:
                return kept[2]
            ledger = self._open()
            found = advice_lines(advise(load_evidence(ledger, None), settings)) if ledger else []
        except LedgerError as error:
            log.warning("tandem: no routing advice: %s", error)
            return []
        self._advice = (time.monotonic(), key, found)
        return found

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None


def current_task(workspace: Path, settings: Settings) -> TaskProgress | None:
    """The most recently updated task under ``<workspace>/.tandem/tasks``, if any."""
    from tandem.flow.taskstore import TaskStore, TaskStoreError
    from tandem.policy.budgets import budget_for

    store = TaskStore(workspace)
    latest: tuple[datetime, str] | None = None
    for task_id in store.task_ids():
        try:
            updated = store.load_state(task_id).updated_at
        except TaskStoreError:
            continue
        if latest is None or updated >= latest[0]:
            latest = (updated, task_id)
    if latest is None:
        return None
    task_id = latest[1]
    try:
        task = store.load_task(task_id)
        state = store.load_state(task_id)
    except TaskStoreError:
        return None
    spent = sum((step.cost_usd or Decimal(0) for step in state.steps), Decimal(0))
    budget = budget_for(task.task_type, settings.budgets)
    return TaskProgress(task_id, spent, budget.max_usd, state.status)


def write_report(workspace: Path, settings: Settings) -> Path:
    """Render the scorecard as markdown to ``<workspace>/.tandem/report.md``; return its path.

    Raises ``LedgerError`` when the ledger cannot be read and ``OSError`` when the document
    cannot be written. With no ledger yet, the report says nothing is recorded.
    """
    from tandem.ledger.totals import ReportTotals
    from tandem.reports.advice import advise
    from tandem.reports.advice_output import advice_lines
    from tandem.reports.evidence import Evidence, load_evidence
    from tandem.reports.render import render_markdown
    from tandem.reports.scorecards import build_report
    from tandem.reports.step_value import step_values, with_step_value

    target = configured_ledger(settings.ledger, workspace)
    totals, notes, runs = ReportTotals([], [], {}, []), {}, []
    now = datetime.now(UTC)
    evidence = Evidence(since=now - timedelta(days=14), now=now)
    if not (isinstance(target, Path) and not target.is_file()):
        with open_ledger(target) as ledger:
            totals = ledger.report_totals()
            notes = ledger.task_notes()
            tasks = {task.task_id for task in totals.tasks}
            runs = [run for run in ledger.trial_runs() if run.task_id in tasks]
            evidence = load_evidence(ledger, None, now)
    values = step_values(evidence)
    report = with_step_value(build_report(totals, notes, runs), evidence, values)
    lines = advice_lines(advise(evidence, settings, values)) or ["nothing recorded in the window"]
    advice = "\n## Routing advice (`tandem advise`)\n\n" + "".join(f"- {x}\n" for x in lines)
    path = workspace / REPORT_DOCUMENT
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_markdown(report) + advice, encoding="utf-8")
    return path
