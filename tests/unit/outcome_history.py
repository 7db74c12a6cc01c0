"""A scripted history of tasks across three tiers, written through the ledger's own recording
API, for the step value, recurring findings and advice tests (and the bench).

Per tier (tasks ``low-N``, ``medium-N``, ``high-N``):

- low: plan, draft and review on the cheap model; every review leaves one nit nobody acts on
  (dismissed), so low-risk reviews never catch anything;
- medium: plan and review on the strong model, drafts on the cheap one; three of every four first
  reviews block the draft with a missing-check finding that the redraft fixes (a catch, and a
  review that changed the decision to ship); one draft fails once before it succeeds;
- high: like medium, but one in four reviews blocks; every fifth task has a defect after merge.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from factories import step_record
from tandem.ledger.base import Ledger
from tandem.values import FindingRecord, FindingResolution, StepChange, StepName, TaskEvent

CHEAP = ("cheap", "claude-haiku-4-5", Decimal("0.002"))
STRONG = ("strong", "claude-sonnet-4-6", Decimal("0.03"))
ROUTES = {
    "low": {"plan": CHEAP, "draft": CHEAP, "review": CHEAP},
    "medium": {"plan": STRONG, "draft": CHEAP, "review": STRONG},
    "high": {"plan": STRONG, "draft": CHEAP, "review": STRONG},
}
BLOCKING = {"low": "none", "medium": "most", "high": "few"}
"""A first review blocks the draft in 3 of every 4 tasks (most), 1 of 4 (few) or none."""


def blocks(how: str, n: int) -> bool:
    return {"most": n % 4 != 0, "few": n % 4 == 0}.get(how, False)


def write_history(
    ledger: Ledger,
    per_tier: int = 20,
    *,
    now: datetime | None = None,
    folder: str = "app",
    blocking: dict[str, str] | None = None,
) -> None:
    """``per_tier`` tasks in each of the three tiers, started over the last few days;
    ``blocking`` changes how often a tier's first review blocks (see :data:`BLOCKING`)."""
    now = now or datetime.now(UTC)
    how = {**BLOCKING, **(blocking or {})}
    for tier in ("low", "medium", "high"):
        for n in range(per_tier):
            at = now - timedelta(hours=1 + n % 72)
            write_task(ledger, tier, n, at, folder, blocks(how[tier], n))


def call(
    ledger: Ledger, task_id: str, tier: str, step: StepName, round_: int, at: datetime, **kw: object
) -> None:
    alias, model, price = ROUTES[tier][step]
    values: dict[str, object] = {
        "step": step,
        "attempt_of_step": round_,
        "alias": alias,
        "model": model,
        "risk_tier": tier,
        "cost": price,
        "started_at": at,
    }
    values.update(kw)
    ledger.record_step(step_record(task_id, **values))  # type: ignore[arg-type]


def write_task(ledger: Ledger, tier: str, n: int, at: datetime, folder: str, blocked: bool) -> None:
    task_id = f"{tier}-{n}"
    call(ledger, task_id, tier, "plan", 1, at)
    ledger.record_step_change(StepChange(task_id=task_id, step="plan", detail="approved"))
    if tier == "medium" and n == 1:
        call(ledger, task_id, tier, "draft", 1, at, outcome="failed", error="timeout")
    call(ledger, task_id, tier, "draft", 1, at)
    ledger.record_step_change(
        StepChange(task_id=task_id, step="draft", round=1, code=True, detail="changed 1 files")
    )
    call(ledger, task_id, tier, "review", 1, at)
    if tier == "low":
        nit = FindingRecord(
            task_id=task_id,
            review_round=1,
            index=0,
            severity="nit",
            category="style",
            location=f"{folder}/util.py:{n + 1}",
            path=f"{folder}/util.py",
            line=n + 1,
            message=f"Line {n + 1} is longer than the others.",
        )
        ledger.record_findings(task_id, 1, [nit])
    elif blocked:
        missing = FindingRecord(
            task_id=task_id,
            review_round=1,
            index=0,
            severity="blocking",
            category="bug",
            location=f"{folder}/handlers.py:{10 + n}",
            path=f"{folder}/handlers.py",
            line=10 + n,
            message=f"Missing null check on `user_{n}` before line {10 + n}",
        )
        ledger.record_findings(task_id, 1, [missing])
        call(ledger, task_id, tier, "draft", 2, at)
        ledger.record_task_event(TaskEvent(task_id=task_id, rewrite="redraft"))
        change = f"draft 2 changed {folder}/handlers.py line {10 + n}"
        ledger.resolve_findings(
            [
                FindingResolution(
                    task_id=task_id,
                    review_round=1,
                    index=0,
                    outcome="catch",
                    via="redraft",
                    change=change,
                )
            ]
        )
        for step, round_, ship in (("draft", 2, False), ("review", 1, False), ("review", 1, True)):
            ledger.record_step_change(
                StepChange(
                    task_id=task_id,
                    step=step,
                    round=round_,
                    code=not ship,
                    ship=ship,
                    detail=change,
                )
            )
        call(ledger, task_id, tier, "review", 2, at)
    ledger.record_task_event(TaskEvent(task_id=task_id, decision="accepted", detail="scripted"))
    ledger.dismiss_open_findings(task_id, "unacted", "nobody acted on it")
    if tier == "high" and n % 5 == 0:
        ledger.record_defect(task_id, "major", f"bug found after merging {task_id}")
