"""The code actions Tandem offers at a cursor or selection, built from memory only.

No model call, no index, no file read: the titles and commands come from the range, the task
catalog's summaries and the diagnostics the client hands back. The work happens when the
client runs the command (``workspace/executeCommand``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lsprotocol import types

if TYPE_CHECKING:  # the task catalog loads after ``initialize`` is answered (issue 18)
    from tandem.lsp.flow_tasks import TaskSummary

PLAN = "tandem.plan"
DRAFT = "tandem.draft"
REAPPLY = "tandem.reapplyDraft"
REVIEW = "tandem.review"
REDRAFT = "tandem.redraft"
ESTIMATE = "tandem.estimate"
FINDING_ACTED = "tandem.findingActed"

REWRITE = types.CodeActionKind.RefactorRewrite
SOURCE_KIND = types.CodeActionKind.Source
QUICKFIX = types.CodeActionKind.QuickFix


def _command_action(
    title: str, kind: str, command: str, argument: dict[str, Any]
) -> types.CodeAction:
    return types.CodeAction(
        title=title,
        kind=kind,
        command=types.Command(title=title, command=command, arguments=[argument]),
    )


def _range_json(selection: types.Range) -> dict[str, Any]:
    return {
        "start": {"line": selection.start.line, "character": selection.start.character},
        "end": {"line": selection.end.line, "character": selection.end.character},
    }


def plan_hint(alias: str | None, model: str | None, usd: Decimal | None) -> str:
    """ " · sonnet · ≈$0.02": the plan step's route and the task's typical cost, once known."""
    route = "skipped" if alias is None else (model or alias)
    if usd is None:
        return f" · {route}"
    amount = f"{usd:.2f}" if usd >= Decimal("0.01") else f"{usd:.4f}"
    return f" · {route} · ≈${amount}"


def _wanted(kind: str, only: Sequence[str] | None) -> bool:
    if not only:
        return True
    return any(kind == wanted or kind.startswith(wanted + ".") for wanted in only)


def flow_code_actions(
    uri: str,
    selection: types.Range,
    tasks: Sequence[TaskSummary],
    diagnostics: Sequence[types.Diagnostic],
    *,
    path: str,
    line_text: Callable[[int], str],
    kept_drafts: frozenset[str] = frozenset(),
    only: Sequence[str] | None = None,
    hint: str = "",
) -> list[types.CodeAction]:
    """``hint`` (from :func:`plan_hint`) is added to the plan's title when an estimate of this
    code is already known; none is computed here."""
    at = {"uri": uri, "range": _range_json(selection)}
    actions = [_command_action("Plan this change…" + hint, REWRITE, PLAN, at)]
    draftable = next((task for task in tasks if task.can_draft), None)
    if draftable is not None:
        actions.append(
            _command_action("Draft from plan", REWRITE, DRAFT, {"task_id": draftable.task_id})
        )
    kept = next((task for task in tasks if task.task_id in kept_drafts), None)
    if kept is not None:
        actions.append(
            _command_action("Re-apply Tandem draft", REWRITE, REAPPLY, {"task_id": kept.task_id})
        )
    redraftable = next((task for task in tasks if task.can_redraft), None)
    if redraftable is not None:
        actions.append(
            _command_action(
                "Redraft with findings", REWRITE, REDRAFT, {"task_id": redraftable.task_id}
            )
        )
    actions.append(_command_action("Review selection", SOURCE_KIND, REVIEW, at))
    actions.append(
        _command_action("Review changes since HEAD", SOURCE_KIND, REVIEW, {"working_tree": True})
    )
    actions.append(_command_action("Estimate cost", SOURCE_KIND, ESTIMATE, at))
    actions += quick_fixes(uri, path, diagnostics, line_text, redraftable)
    return [action for action in actions if _wanted(action.kind or "", only)]


def refused_plan_action(reason: str) -> types.CodeAction:
    """ "Plan this change…" shown disabled with the reason (a buffer too large to slice)."""
    return types.CodeAction(
        title="Plan this change…",
        kind=REWRITE,
        disabled=types.CodeActionDisabled(reason=f"Tandem: {reason}"),
    )


def plan_document_actions(task: TaskSummary | None) -> list[types.CodeAction]:
    """In a task's plan.md: "Draft from plan" for that task while it has no draft."""
    if task is None or not task.can_draft:
        return []
    return [_command_action("Draft from plan", REWRITE, DRAFT, {"task_id": task.task_id})]


def quick_fixes(
    uri: str,
    path: str,
    diagnostics: Sequence[types.Diagnostic],
    line_text: Callable[[int], str],
    redraftable: TaskSummary | None,
) -> list[types.CodeAction]:
    """For each Tandem diagnostic carrying a suggested change: a TODO comment holding it (an
    edit, so it works in any client), and "Redraft with findings" when the stop rule allows."""
    from tandem.lsp.review_diagnostics import SOURCE, todo_line
    from tandem.redaction.placeholders import find_placeholders

    fixes: list[types.CodeAction] = []
    for diagnostic in diagnostics:
        data = diagnostic.data if isinstance(diagnostic.data, dict) else {}
        suggestion = data.get("suggested_change")
        if diagnostic.source != SOURCE or not isinstance(suggestion, str) or not suggestion:
            continue
        line = diagnostic.range.start.line
        start = types.Position(line=line, character=0)
        comment = todo_line(line_text(line), path, suggestion)
        if find_placeholders(suggestion):
            comment = ""  # the reviewer saw redacted text: a placeholder never goes into code
        if comment:
            fix = _todo_fix(uri, start, comment, suggestion, diagnostic)
            acted = _acted_argument(data, path, line)
            if acted is not None:  # run after the edit: the ledger counts the finding a catch
                fix.command = types.Command(
                    title=fix.title, command=FINDING_ACTED, arguments=[acted]
                )
            fixes.append(fix)
        task_id = data.get("task_id")
        if redraftable is not None and redraftable.task_id == task_id:
            fix = _command_action(
                "Redraft with findings", QUICKFIX, REDRAFT, {"task_id": redraftable.task_id}
            )
            fix.diagnostics = [diagnostic]
            fixes.append(fix)
    return fixes


def _acted_argument(data: dict[str, Any], path: str, line: int) -> dict[str, Any] | None:
    """What ``tandem.findingActed`` needs to settle the finding, if the diagnostic carries it."""
    ids = (data.get("task_id"), data.get("round"), data.get("index"))
    if not (isinstance(ids[0], str) and isinstance(ids[1], int) and isinstance(ids[2], int)):
        return None
    return {"task_id": ids[0], "round": ids[1], "index": ids[2], "path": path, "line": line}


def _todo_fix(
    uri: str,
    start: types.Position,
    comment: str,
    suggestion: str,
    diagnostic: types.Diagnostic,
) -> types.CodeAction:
    return types.CodeAction(
        title=f"Add TODO: {' '.join(suggestion.split())}",
        kind=QUICKFIX,
        diagnostics=[diagnostic],
        edit=types.WorkspaceEdit(
            changes={
                uri: [types.TextEdit(range=types.Range(start=start, end=start), new_text=comment)]
            }
        ),
    )
