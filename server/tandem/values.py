"""Small value types shared across layers: usage, routes, estimates and step records.

They live at the bottom of the dependency stack so that, for example, the estimator can price a
``Route`` it is given without importing the router, and the flow can hand a ``StepRecord`` to the
ledger without the ledger knowing about the flow.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

StepName = Literal["plan", "draft", "review"]
RiskTier = Literal["low", "medium", "high"]
TIER_ORDER: tuple[RiskTier, ...] = ("low", "medium", "high")
TaskType = Literal["small", "bugfix", "feature", "risky"]
StepOutcome = Literal["ok", "failed", "cancelled", "over_budget", "skipped"]
FindingOutcome = Literal["catch", "dismissed"]
FindingVia = Literal["redraft", "quick_fix", "user_edit", "unacted", "replaced"]
"""How a finding was settled: a catch by a redraft, a quick fix or the user's own edit; dismissed
when the task was accepted or closed with it unacted, or a new review of the same draft
replaced it."""
TaskDecision = Literal["accepted", "rejected"]
RewriteKind = Literal["redraft", "rerun"]


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Usage(_Value):
    """Tokens of one model call, normalised across providers.

    ``input_tokens`` excludes cache reads and writes (Anthropic's convention; OpenAI's figures are
    converted). ``reasoning_tokens`` is the part of ``output_tokens`` spent on thinking: it is
    already included in ``output_tokens`` and is billed as output. ``counted`` is True when some
    of these tokens were counted offline (o200k, as estimates count) instead of reported by the
    provider: a server that omits usage in its stream, or a call cancelled or cut off mid-reply.
    """

    input_tokens: int = Field(default=0, ge=0)
    cache_read_tokens: int = Field(default=0, ge=0)
    cache_write_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)
    reasoning_tokens: int = Field(default=0, ge=0)
    counted: bool = False

    @property
    def total_input_tokens(self) -> int:
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens

    @property
    def total_tokens(self) -> int:
        return self.total_input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            cache_read_tokens=self.cache_read_tokens + other.cache_read_tokens,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
            counted=self.counted or other.counted,
        )


class Route(_Value):
    """Which model alias runs a step (``None`` = skipped), and why."""

    step: StepName
    alias: str | None
    provider: str | None = None
    model: str | None = None
    reason: str

    @property
    def skipped(self) -> bool:
        return self.alias is None


class StepEstimate(_Value):
    """What a step is expected to cost before it runs.

    Dollar figures are ``None`` when the model is unpriced (unknown to genai-prices and no price
    set by the user): never a guess.
    """

    step: StepName
    alias: str
    provider: str
    model: str
    input_tokens: int = Field(ge=0)
    output_tokens_typical: int = Field(ge=0)
    output_tokens_max: int = Field(ge=0)
    usd_typical: Decimal | None
    usd_max: Decimal | None
    input_is_calibrated_guess: bool = Field(
        default=False,
        description="True when no exact tokenizer exists (Anthropic): o200k count x calibration.",
    )
    input_tokens_counted: int | None = Field(
        default=None,
        ge=0,
        description="The offline count before calibration; the ledger learns calibration from it.",
    )

    @property
    def max_tokens(self) -> int:
        return self.input_tokens + self.output_tokens_max


class StepRecord(_Value):
    """One model step as the ledger stores it: what was estimated, what really happened."""

    task_id: str
    task_type: TaskType
    step: StepName
    attempt_of_step: int = Field(default=1, ge=1, description="2 for the second draft/review.")
    provider: str
    model: str
    alias: str
    prompt_version: str
    risk_tier: RiskTier
    usage: Usage
    cost_usd: Decimal | None
    latency_ms: int = Field(ge=0)
    attempts: int = Field(ge=0, description="HTTP attempts including retries.")
    outcome: StepOutcome
    error: str | None = None
    estimate: StepEstimate | None = None
    findings: dict[str, int] = Field(
        default_factory=dict, description="Review findings by severity (blocking, major, ...)."
    )
    draft_accepted: bool | None = None
    started_at: datetime
    trial_id: str | None = None
    mode: str = Field(default="split", description="split | strong | cheap (trials).")
    redactions: dict[str, int] = Field(
        default_factory=dict,
        description="Secrets replaced by placeholders before the prompt left, by kind (counts).",
    )

    @property
    def redaction_count(self) -> int:
        return sum(self.redactions.values())


class StepRecorder(Protocol):
    """Where the flow sends each finished (or failed) step. The ledger implements it."""

    def record_step(self, record: StepRecord) -> None: ...

    def task_spend(self, task_id: str) -> tuple[int, Decimal]:
        """Tokens and dollars already spent by a task (for budget checks)."""
        ...


# --- outcomes: what each step changed, recorded as it happens -----------------------------------


class FindingRecord(_Value):
    """A review finding as the ledger keeps it: which review, where it points, what it says."""

    task_id: str
    review_round: int = Field(ge=1)
    index: int = Field(ge=0, description="Position of the finding in its review.")
    severity: str
    category: str
    location: str
    path: str | None = Field(description="The repository file it points at, when it names one.")
    line: int | None = Field(default=None, ge=1)
    message: str


class FindingResolution(_Value):
    """How one finding was settled, and what changed because of it (the link to the change)."""

    task_id: str
    review_round: int = Field(ge=1)
    index: int = Field(ge=0)
    outcome: FindingOutcome
    via: FindingVia
    change: str = Field(description="What changed, e.g. 'draft 2 changed app/q.py lines 4-9'.")


class StepChange(_Value):
    """Whether one step changed the code, the tests or the decision to ship, and how."""

    task_id: str
    step: StepName
    round: int = Field(default=1, ge=1)
    code: bool = False
    tests: bool = False
    ship: bool = False
    detail: str = ""


class TaskEvent(_Value):
    """One thing that happened to a task as a whole: a decision, a rating, a rewrite, or the
    moment it was ready for the human's approval (seconds since the request)."""

    task_id: str
    decision: TaskDecision | None = None
    rating: int | None = Field(default=None, ge=1, le=5)
    rewrite: RewriteKind | None = None
    ready_seconds: float | None = Field(default=None, ge=0)
    needs_attention: bool = False
    """The flow ended with nothing done (no edit of a draft applies); ``detail`` says why."""
    detail: str | None = None


@runtime_checkable
class OutcomeRecorder(Protocol):
    """Where the flow and the faces send outcomes as they happen. The ledger implements it."""

    def record_findings(
        self, task_id: str, review_round: int, findings: list[FindingRecord]
    ) -> None:
        """A review's findings; those of an earlier review of the same draft still open are
        dismissed as replaced."""
        ...

    def resolve_findings(self, resolutions: list[FindingResolution]) -> int:
        """Settle findings still open (a settled one keeps its first outcome); how many."""
        ...

    def dismiss_open_findings(self, task_id: str, via: FindingVia, change: str) -> int: ...

    def record_step_change(self, change: StepChange) -> None: ...

    def record_task_event(self, event: TaskEvent) -> None: ...
