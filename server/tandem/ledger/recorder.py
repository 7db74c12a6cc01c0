"""Recording spend without ever stopping the flow: :class:`GuardedRecorder` over the ledger.

When the ledger cannot be opened or written, records are held in memory (budgets still see them)
and written, oldest first, as soon as it works again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from tandem.ledger.base import Ledger
from tandem.ledger.errors import LedgerError
from tandem.ledger.open import open_ledger
from tandem.values import (
    FindingRecord,
    FindingResolution,
    FindingVia,
    StepChange,
    StepName,
    StepRecord,
    TaskEvent,
)

logger = logging.getLogger("tandem.ledger")


class GuardedRecorder:
    """A ``StepRecorder`` and ``OutcomeRecorder`` that never stops the flow because the ledger
    failed.

    Records go to the ledger when it works. When it cannot be opened or written, the record is
    kept in memory (so budgets still see it), ``problem`` says that spend is not being recorded
    and why, and a warning is logged once per distinct problem.
    """

    def __init__(self, path: Path | str, *, busy_timeout_ms: int = 5000) -> None:
        self.path = path  # a file, or a postgresql:// URL
        self.problem: str | None = None
        self.unrecorded: list[StepRecord] = []
        self.held_outcomes: list[Callable[[Ledger], object]] = []
        self._busy_timeout_ms = busy_timeout_ms
        self._ledger: Ledger | None = None
        self._ensure()

    @property
    def ledger(self) -> Ledger | None:
        return self._ledger

    def _ensure(self) -> Ledger | None:
        """The open ledger, trying again to open it if an earlier attempt failed."""
        if self._ledger is None:
            try:
                self._ledger = open_ledger(self.path, busy_timeout_ms=self._busy_timeout_ms)
            except LedgerError as error:
                self._fail(error)
        return self._ledger

    def _fail(self, error: LedgerError) -> None:
        message = f"spend is not being recorded: {error}"
        if message != self.problem:
            logger.warning("%s", message)
        self.problem = message

    def record_step(self, record: StepRecord) -> None:
        self.unrecorded.append(record)
        ledger = self._ensure()
        if ledger is None:
            return
        # Oldest first, so records held while the ledger was unavailable are written as soon
        # as it works again.
        while self.unrecorded:
            try:
                ledger.record_step(self.unrecorded[0])
            except LedgerError as error:
                self._fail(error)
                return
            self.unrecorded.pop(0)
        self.problem = None

    # OutcomeRecorder: an outcome the ledger cannot take now is held and written, in order,
    # with the next one it takes.

    def _outcome(self, write: Callable[[Ledger], object]) -> object:
        self.held_outcomes.append(write)
        ledger = self._ensure()
        result: object = None
        while ledger is not None and self.held_outcomes:
            try:
                result = self.held_outcomes[0](ledger)
            except LedgerError as error:
                self._fail(error)
                return None
            self.held_outcomes.pop(0)
        if self.held_outcomes:
            return None
        if not self.unrecorded:
            self.problem = None
        return result

    def record_findings(
        self, task_id: str, review_round: int, findings: list[FindingRecord]
    ) -> None:
        self._outcome(lambda ledger: ledger.record_findings(task_id, review_round, findings))

    def resolve_findings(self, resolutions: list[FindingResolution]) -> int:
        settled = self._outcome(lambda ledger: ledger.resolve_findings(resolutions))
        return settled if isinstance(settled, int) else 0

    def dismiss_open_findings(self, task_id: str, via: FindingVia, change: str) -> int:
        settled = self._outcome(lambda ledger: ledger.dismiss_open_findings(task_id, via, change))
        return settled if isinstance(settled, int) else 0

    def record_step_change(self, change: StepChange) -> None:
        self._outcome(lambda ledger: ledger.record_step_change(change))

    def record_task_event(self, event: TaskEvent) -> None:
        self._outcome(lambda ledger: ledger.record_task_event(event))

    def task_spend(self, task_id: str) -> tuple[int, Decimal]:
        tokens, dollars = 0, Decimal(0)
        if self._ledger is not None:
            try:
                tokens, dollars = self._ledger.task_spend(task_id)
            except LedgerError as error:
                self._fail(error)
        for record in self.unrecorded:
            if record.task_id == task_id:
                tokens += record.usage.total_tokens
                dollars += record.cost_usd or Decimal(0)
        return tokens, dollars

    def typical_output_tokens(self, step: StepName, provider: str, model: str) -> int | None:
        if self._ledger is None:
            return None
        try:
            return self._ledger.typical_output_tokens(step, provider, model)
        except LedgerError:
            return None

    def input_calibration(self, provider: str, model: str) -> float | None:
        if self._ledger is None:
            return None
        try:
            return self._ledger.input_calibration(provider, model)
        except LedgerError:
            return None

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()
