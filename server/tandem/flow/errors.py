"""How a flow step fails: the one error the flow raises, with the outcome it ended in."""

from __future__ import annotations

from tandem.values import StepOutcome


class FlowError(Exception):
    """A step that did not produce its handoff; ``outcome`` says how it ended."""

    def __init__(self, message: str, outcome: StepOutcome = "failed") -> None:
        super().__init__(message)
        self.message = message
        self.outcome = outcome
