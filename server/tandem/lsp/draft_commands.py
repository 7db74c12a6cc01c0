"""``tandem.draft``, ``tandem.reapplyDraft`` and ``tandem.redraft``: drafts sent as edits.

Run only from ``workspace/executeCommand``. A draft is sent as a ``WorkspaceEdit`` only onto the
text it was computed for (:mod:`tandem.lsp.draft_delivery`); one refused because a target
changed meanwhile is kept in the Session, for ``tandem.reapplyDraft`` to apply to the current
text.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from tandem.lsp import flow_actions
from tandem.lsp.command_errors import CommandFailed, answered
from tandem.lsp.jobs import Job
from tandem.lsp.server import TandemServer

if TYPE_CHECKING:  # the flow loads after ``initialize`` is answered (issue 18)
    from tandem.flow.taskstore import TaskStore
    from tandem.lsp.arguments import RequiredTaskArgs, TaskArgs
    from tandem.lsp.draft_delivery import Delivery, DocState
    from tandem.values import OutcomeRecorder, TaskDecision


async def deliver(ls: TandemServer, root: Path, delivery: Delivery) -> dict[str, Any]:
    """Send the draft if no target changed since it was prepared; otherwise keep it."""
    from tandem.flow.outcomes import claim_rating_prompt
    from tandem.lsp.draft_delivery import LABEL, EditSupport, check_delivery, workspace_edit
    from tandem.lsp.flow_session import doc_state, encoding_of

    kept_drafts = ls.session.kept_drafts
    result: dict[str, Any] = {"task_id": delivery.task_id, "edits": delivery.applied_edits}
    if delivery.refused:
        result["refused"] = list(delivery.refused)
    fresh, stale = check_delivery(delivery, lambda path: doc_state(ls, root, path))
    if not fresh.changes and not stale:
        return {**result, **changed_nothing(ls, root, delivery)}
    if stale:
        kept_drafts[delivery.task_id] = root
        reason = (
            f"changed while the draft was made: {', '.join(stale)}; your text was kept and the "
            "draft too: run tandem.reapplyDraft to apply it to the current text"
        )
        ls.window_show_message(
            types.ShowMessageParams(
                type=types.MessageType.Warning,
                message=f"Tandem: draft of task {delivery.task_id} not applied: {reason}",
            )
        )
        return {**result, "applied": False, "reason": reason}
    support = EditSupport.of(ls.client_capabilities)
    edit, left_out = workspace_edit(fresh, support, encoding_of(ls))
    if left_out:
        result["left_out"] = left_out
    answer = await ls.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(edit=edit, label=LABEL)
    )
    store = ls.session.catalog(root).store
    if not answer.applied:
        kept_drafts[delivery.task_id] = root
        why = answer.failure_reason or "the editor did not apply the edit"
        decided(ls, root, delivery.task_id, "rejected", f"discarded in the editor: {why}")
        ask = claim_rating_prompt(store, delivery.task_id)
        reason = f"{why}; the draft is kept to re-apply"
        return {**result, "applied": False, "reason": reason, "ask_rating": ask}
    kept_drafts.pop(delivery.task_id, None)
    decided(ls, root, delivery.task_id, "accepted", "applied in the editor")
    return {**result, "applied": True, "ask_rating": claim_rating_prompt(store, delivery.task_id)}


def decided(ls: TandemServer, root: Path, task_id: str, decision: TaskDecision, how: str) -> None:
    """The user applied or discarded a draft: the task's decision, its unacted findings
    dismissed (a ledger that fails is logged by the recorder; the edit stands either way)."""
    from tandem.flow.outcomes import close_task
    from tandem.lsp.flow_session import recording

    with recording(ls.session, root) as outcomes:
        close_task(outcomes, task_id, decision, how)


def changed_nothing(ls: TandemServer, root: Path, delivery: Delivery) -> dict[str, Any]:
    """A draft none of whose edits applies: its own outcome, with the reasons and the one redraft
    the stop rule offers, in the task folder and in front of the user (never "done")."""
    from tandem.flow.outcomes import note_attention
    from tandem.lsp.flow_session import recording

    catalog = ls.session.catalog(root)
    task_id = delivery.task_id
    summary = catalog.refresh(task_id)
    redraft = summary is not None and summary.can_redraft
    reasons = "; ".join(delivery.refused) or "the draft returned no edit"
    next_move = "run tandem.redraft to draft once more, told why" if redraft else "a human decides"
    reason = f"draft {delivery.round} changed nothing: {reasons}"
    catalog.store.update_state(task_id, status="needs_attention", message=reason)
    with recording(ls.session, root) as outcomes:
        note_attention(outcomes, task_id, reason)
    ls.window_show_message(
        types.ShowMessageParams(
            type=types.MessageType.Warning,
            message=f"Tandem: task {task_id} needs attention: {reason}; {next_move}",
        )
    )
    return {
        "applied": False,
        "status": "needs_attention",
        "reason": reason,
        "redraft": redraft,
    }


def snapshot_paths(store: TaskStore, task_id: str) -> list[str]:
    """The files a draft may edit: the plan's scope and the related tests (as the flow's)."""
    from tandem.flow.edits import is_safe_path
    from tandem.flow.errors import FlowError
    from tandem.flow.inputs import scope_paths

    plan = store.load_plan(task_id)
    if plan is None:
        raise FlowError(f"task {task_id} has no plan yet; run tandem.plan first")
    tests = {test.path for test in store.load_slice(task_id).tests}
    return sorted(path for path in scope_paths(plan.reply) | tests if is_safe_path(path))


def approve_from_document(
    ls: TandemServer, store: TaskStore, task_id: str, outcomes: OutcomeRecorder | None
) -> None:
    """Approve the plan as the plan document stands: the open buffer (unsaved edits included)
    when it is open, else plan.md on disk."""
    from tandem.flow.errors import FlowError
    from tandem.flow.handoff import parse_plan_markdown
    from tandem.flow.task import approve_plan
    from tandem.lsp.flow_session import open_document

    plan = store.load_plan(task_id)
    if plan is None:
        raise FlowError(f"task {task_id} has no plan yet; run tandem.plan first")
    document = open_document(ls, store.plan_document(task_id))
    if document is not None:
        try:
            reply = parse_plan_markdown(document.source)
        except ValueError as error:
            raise JsonRpcInvalidParams(
                f"plan.md of task {task_id} cannot be read: {error}"
            ) from error
        if reply != plan.reply:
            store.save_plan(
                task_id, plan.model_copy(update={"reply": reply, "edited_by_user": True})
            )
    try:
        approve_plan(store, task_id, outcomes)
    except ValueError as error:
        raise JsonRpcInvalidParams(f"plan.md of task {task_id} cannot be read: {error}") from error


async def draft_round(ls: TandemServer, root: Path, task_id: str, round_: int) -> dict[str, Any]:
    from tandem.flow.steps import draft_step
    from tandem.lsp.draft_delivery import first_draft_texts, prepare_delivery
    from tandem.lsp.flow_session import doc_state, open_env

    catalog = ls.session.catalog(root)
    store = catalog.store
    captured = {path: doc_state(ls, root, path) for path in snapshot_paths(store, task_id)}
    original: Mapping[str, str | None] | None = None
    first: Mapping[str, str | None] | None = None
    if round_ == 1:
        store.save_snapshot(task_id, {path: s.text for path, s in captured.items()})
    else:
        original, first = first_draft_texts(store, task_id)
    async with Job(ls, f"Tandem: draft {round_}" if round_ > 1 else "Tandem: draft") as job:
        env, recorder = open_env(ls, ls.session, root, job)
        try:
            draft = await draft_step(env, task_id, round_)
        finally:
            recorder.close()
            catalog.refresh(task_id)
    plan = store.load_plan(task_id)
    assert plan is not None

    def as_captured(path: str) -> DocState:
        return captured.get(path) or doc_state(ls, root, path)

    delivery = prepare_delivery(
        task_id, round_, draft.edits, plan.scope, as_captured, original=original, first_draft=first
    )
    return await deliver(ls, root, delivery)


async def run_draft(ls: TandemServer, args: TaskArgs) -> dict[str, Any]:
    from tandem.lsp.flow_session import recording, root_of_task, workspace_roots

    session = ls.session
    if args.task_id is None:
        latest = [
            summary
            for root in workspace_roots(ls)
            if (summary := session.catalog(root).latest_planned()) is not None
        ]
        if not latest:
            raise CommandFailed("tandem.draft: no task has a plan yet; run tandem.plan first")
        task_id = max(latest, key=lambda summary: summary.task_id).task_id
    else:
        task_id = args.task_id
    root = root_of_task(ls, task_id)
    summary = session.catalog(root).refresh(task_id)
    if summary is not None and summary.has_draft:
        raise CommandFailed(
            f"tandem.draft: task {task_id} already has a draft; tandem.reapplyDraft applies it "
            "again, tandem.redraft drafts again after a review"
        )
    with recording(session, root) as outcomes:
        approve_from_document(ls, session.catalog(root).store, task_id, outcomes)
    return await draft_round(ls, root, task_id, 1)


async def run_redraft(ls: TandemServer, args: RequiredTaskArgs) -> dict[str, Any]:
    from tandem.flow.stop_rule import next_step
    from tandem.lsp.flow_session import root_of_task

    root = root_of_task(ls, args.task_id)
    summary = ls.session.catalog(root).refresh(args.task_id)
    if summary is None or not summary.can_redraft:
        reason = next_step(summary.position).reason if summary else "the task cannot be read"
        raise CommandFailed(f"tandem.redraft: not now: {reason}")
    return await draft_round(ls, root, args.task_id, 2)


async def run_reapply(ls: TandemServer, args: RequiredTaskArgs) -> dict[str, Any]:
    from tandem.lsp.draft_delivery import first_draft_texts, prepare_delivery
    from tandem.lsp.flow_session import doc_state, root_of_task

    task_id = args.task_id
    root = ls.session.kept_drafts.get(task_id) or root_of_task(ls, task_id)
    store = ls.session.catalog(root).store
    rounds = [r for r in (1, 2) if store.load_draft(task_id, r) is not None]
    plan = store.load_plan(task_id)
    if not rounds or plan is None:
        raise CommandFailed(f"tandem.reapplyDraft: task {task_id} has no draft to apply")
    draft = store.load_draft(task_id, rounds[-1])
    assert draft is not None
    original, first = first_draft_texts(store, task_id) if rounds[-1] == 2 else (None, None)
    delivery = prepare_delivery(
        task_id,
        rounds[-1],
        draft.edits,
        plan.scope,
        lambda path: doc_state(ls, root, path),
        original=original,
        first_draft=first,
    )
    return await deliver(ls, root, delivery)


def register(server: TandemServer) -> None:
    @server.command(flow_actions.DRAFT)
    async def draft(ls: TandemServer, *args: Any) -> dict[str, Any]:
        from tandem.lsp.arguments import TaskArgs, parse_argument

        parsed = parse_argument("tandem.draft", args, TaskArgs)
        return await answered("tandem.draft", run_draft(ls, parsed))

    @server.command(flow_actions.REAPPLY)
    async def reapply(ls: TandemServer, *args: Any) -> dict[str, Any]:
        from tandem.lsp.arguments import RequiredTaskArgs, parse_argument

        parsed = parse_argument("tandem.reapplyDraft", args, RequiredTaskArgs)
        return await answered("tandem.reapplyDraft", run_reapply(ls, parsed))

    @server.command(flow_actions.REDRAFT)
    async def redraft(ls: TandemServer, *args: Any) -> dict[str, Any]:
        from tandem.lsp.arguments import RequiredTaskArgs, parse_argument

        parsed = parse_argument("tandem.redraft", args, RequiredTaskArgs)
        return await answered("tandem.redraft", run_redraft(ls, parsed))
