"""How the flow commands print a result: the human summary and the ``tandem run --json`` document.

Both renderings of a :class:`~tandem.flow.outcome.FlowResult` live here, beside each other: the
JSON document is the CLI's public contract, and only the CLI prints it.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tandem.commands.flow_common import FAILED

if TYPE_CHECKING:
    from tandem.flow.handoff import Draft
    from tandem.flow.outcome import FlowResult
    from tandem.flow.taskstore import StepSummary


def print_json(document: Any) -> None:
    import json

    print(json.dumps(document, indent=2, ensure_ascii=False, default=str))


def status_exit(result: FlowResult) -> int:
    return FAILED if result.status in ("failed", "stopped", "needs_attention") else 0


def print_result(result: FlowResult) -> None:
    """The human summary: steps (fake ones labelled), diff, findings, what to do next."""
    print(f"task {result.task_id}: {result.status} - {result.message}")
    for step in result.steps:
        fake = "  [FAKE provider: canned reply]" if step.fake else ""
        where = f"{step.alias} ({step.provider}:{step.model})" if step.alias else "-"
        cost = f"${step.cost_usd:.4f}" if step.cost_usd is not None else "unpriced"
        if step.outcome == "skipped":
            print(f"  {step.step} {step.round}: skipped: {step.message}")
            continue
        redacted = f", {step.redactions} secrets redacted" if step.redactions else ""
        counted = " (tokens counted offline: not reported)" if step.tokens_counted else ""
        print(
            f"  {step.step} {step.round}: {step.outcome} on {where}: {step.input_tokens} in / "
            f"{step.output_tokens} out{counted}, {cost}{redacted}{fake}"
        )
    total = summaries_total(result.steps)
    if total is not None:
        print(f"  total: ${total:.4f}")
    if result.draft is not None and result.draft.diff:
        print("\n" + result.draft.diff.rstrip("\n"))
    findings = [
        f"[{f.severity}/{f.category}] {f.location}: {f.message}" for f in result.findings
    ] + [
        f"[{f['severity']}/{f['category']}] {f['location']}: {f['message']}"
        for f in tandem_findings(result.draft)
    ]
    if findings:
        print("\nfindings:")
        for line in findings:
            print(f"  {line}")


def summaries_total(steps: Sequence[StepSummary]) -> Decimal | None:
    costs = [step.cost_usd for step in steps if step.outcome != "skipped"]
    if any(cost is None for cost in costs):
        return None
    return sum((cost for cost in costs if cost is not None), Decimal(0))


def tandem_findings(draft: Draft | None) -> list[dict[str, Any]]:
    """Refused edits as findings Tandem itself reports (scope drift is a finding, not a patch)."""
    if draft is None:
        return []
    return [
        {
            "severity": "major" if rejection.scope_drift else "minor",
            "category": "scope-drift" if rejection.scope_drift else "bug",
            "location": rejection.target,
            "message": f"edit refused: {rejection.reason}",
            "suggested_change": None,
            "source": "tandem",
        }
        for rejection in draft.rejected
    ]


def edits_json(draft: Draft | None) -> list[dict[str, Any]]:
    if draft is None:
        return []
    refused = {rejection.index: rejection.reason for rejection in draft.rejected}
    return [
        {
            "kind": edit.kind,
            "target": edit.target,
            "reason": edit.reason,
            "applies": index not in refused,
            "refused_because": refused.get(index),
            "old": edit.old,
            "new": edit.new,
        }
        for index, edit in enumerate(draft.edits)
    ]


def run_json(result: FlowResult) -> dict[str, Any]:
    """The ``tandem run --json`` document."""
    return {
        "task_id": result.task_id,
        "status": result.status,
        "message": result.message,
        "fake_provider": result.fake,
        "steps": [
            {
                "step": step.step,
                "round": step.round,
                "model": step.model,
                "provider": step.provider,
                "input_tokens": step.input_tokens,
                "output_tokens": step.output_tokens,
                "tokens_counted": step.tokens_counted,
                "cost_usd": str(step.cost_usd) if step.cost_usd is not None else None,
                "outcome": step.outcome,
                "prompt_version": step.prompt_version,
                "message": step.message,
                "redactions": step.redactions,
            }
            for step in result.steps
        ],
        "edits": edits_json(result.draft),
        "diff": result.draft.diff if result.draft else "",
        "findings": [{**finding.model_dump(), "source": "review"} for finding in result.findings]
        + tandem_findings(result.draft),
    }


def written_lines(written: Sequence[str], draft: Draft | None) -> list[str]:
    """What ``--apply`` did, one line per file: wrote, created by a rename, or deleted."""
    refused: set[int] = (
        set() if draft is None else {rejection.index for rejection in draft.rejected}
    )
    edits = [] if draft is None else draft.edits
    applied = [edit for index, edit in enumerate(edits) if index not in refused]
    renamed = {e.target.strip(): e.new.strip() for e in applied if e.kind == "rename_file"}
    deleted = {e.target.strip() for e in applied if e.kind == "delete_file"}
    lines = []
    for path in written:
        if path in renamed:
            lines.append(f"renamed {path} -> {renamed[path]}")
        elif path in deleted:
            lines.append(f"deleted {path}")
        elif path not in renamed.values():
            lines.append(f"wrote {path}")
    return lines
