"""Plan → draft → review in the editor: code actions, the flow commands, review diagnostics.

Thin handlers: each validates its argument, snapshots the documents it needs, calls the core
(:mod:`tandem.flow`) inside a cancellable :class:`~tandem.lsp.flow_session.Job`, and converts
the result (:mod:`draft_delivery`, :mod:`review_diagnostics`, :mod:`flow_actions`).
Commands: ``tandem.plan``, ``tandem.draft``, ``tandem.reapplyDraft``, ``tandem.review``,
``tandem.redraft`` (see LSP_CONTRACT.md and the README's "Editor features").
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from lsprotocol import types
from pygls.exceptions import (
    JsonRpcException,
    JsonRpcInternalError,
    JsonRpcInvalidParams,
)

from tandem.flow.edits import Snapshot, apply_edits, is_safe_path, snapshot_text
from tandem.flow.errors import FlowError
from tandem.flow.handoff import PlanDocumentError, parse_plan_markdown
from tandem.flow.inputs import scope_paths
from tandem.flow.steps import draft_step, plan_step, review_step
from tandem.flow.stop_rule import next_step
from tandem.flow.task import approve_plan, create_task, review_outside_change
from tandem.flow.taskstore import TASKS_DIR, TaskStore, TaskStoreError
from tandem.lsp import flow_actions
from tandem.lsp.arguments import (
    PlanArgs,
    RequiredTaskArgs,
    ReviewArgs,
    TaskArgs,
    parse_argument,
)
from tandem.lsp.change_request import MissingRequest, resolve_request
from tandem.lsp.draft_delivery import (
    LABEL,
    Delivery,
    DocState,
    EditSupport,
    check_delivery,
    prepare_delivery,
    workspace_edit,
)
from tandem.lsp.flow_session import (
    FlowState,
    Job,
    Target,
    doc_state,
    open_document,
    open_env,
    read_text,
    root_for,
    target_of,
    uri_of,
    workspace_roots,
)
from tandem.lsp.review_diagnostics import (
    PlacedFinding,
    line_change,
    lsp_diagnostic,
    place_findings,
    shift_findings,
)
from tandem.lsp.server import TandemServer
from tandem.slicing.result import Anchor, DiffAnchor, FileRangeAnchor, Slice

log = logging.getLogger(__name__)

REQUEST_FAILED = types.LSPErrorCodes.RequestFailed.value
REVIEW_REQUEST = "Review this change for bugs, security problems and missing tests."


class CommandFailed(JsonRpcException):
    """The command could not do its work (the flow refused or a step failed); LSP RequestFailed."""

    CODE = REQUEST_FAILED


async def answered(command: str, work: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    """Every failure becomes a JSON-RPC error with a message for the user; never a crash."""
    try:
        return await work
    except JsonRpcException:
        raise
    except (MissingRequest, TaskStoreError, PlanDocumentError) as error:
        raise JsonRpcInvalidParams(f"{command}: {error}") from error
    except FlowError as error:
        raise CommandFailed(f"{command}: {error.message}") from error
    except Exception as error:
        log.exception("%s failed", command)
        raise JsonRpcInternalError(f"{command} failed: {error}") from error


# ----- helpers ------------------------------------------------------------------------------


def encoding_of(ls: TandemServer) -> str:
    return str(ls.workspace.position_encoding or types.PositionEncodingKind.Utf16)


def line_span(selection: types.Range | None, line_count: int) -> tuple[int, int]:
    """1-based inclusive lines of a selection (a selection ending at column 0 of a line stops
    before it); a cursor is its own line."""
    if selection is None:
        return 1, max(line_count, 1)
    start, end = selection.start.line, selection.end.line
    if end > start and selection.end.character == 0:
        end -= 1
    last = max(line_count, 1)
    return min(start, last - 1) + 1, min(max(end, start), last - 1) + 1


def is_empty(selection: types.Range | None) -> bool:
    return selection is None or selection.start == selection.end


def root_of_task(ls: TandemServer, state: FlowState, task_id: str) -> Path:
    for root in workspace_roots(ls):
        if state.catalog(root).store.exists(task_id):
            return root
    raise JsonRpcInvalidParams(f"no task {task_id} in the workspace folders")


def cost_of(store: TaskStore, task_id: str, step: str) -> float | None:
    costs = [s.cost_usd for s in store.load_state(task_id).steps if s.step == step]
    if not costs or costs[-1] is None:
        return None
    return float(costs[-1])


async def show_plan(ls: TandemServer, plan_uri: str, task_id: str) -> None:
    window = ls.client_capabilities.window
    if window is not None and window.show_document is not None and window.show_document.support:
        shown = ls.window_show_document_async(
            types.ShowDocumentParams(uri=plan_uri, take_focus=True)
        )
        try:
            answer = await asyncio.wait_for(shown, 10)
        except Exception as error:  # the plan exists either way: say where it is
            log.info("showDocument failed: %s", error)
        else:
            if answer.success:
                return
    ls.window_show_message(
        types.ShowMessageParams(
            type=types.MessageType.Info,
            message=f"Tandem: plan of task {task_id} ready: {plan_uri}; edit it, then run "
            "tandem.draft",
        )
    )


# ----- tandem.plan --------------------------------------------------------------------------


async def slice_of(ls: TandemServer, root: Path, anchor: Anchor) -> Slice:
    """The slice of ``anchor`` in the folder ``root``. A range is sliced through the folder's
    live index once its background build is done (as hovers are: nothing walked or reread, open
    buffers' unsaved text wins); before that, and for a diff of the saved files, from the disk
    in a worker thread. Raises ``SliceError``."""
    from tandem.lsp.workspace import ensure_built
    from tandem.slicing import slice_repository

    settings = ls.settings_state.current.settings
    folder = ls.workspaces.for_path(root)
    if folder is not None:
        ensure_built(ls, folder)  # a settings change may have asked for a new index
    if (
        isinstance(anchor, FileRangeAnchor)
        and folder is not None
        and folder.root == root.resolve()
        and folder.index.ready
    ):
        return folder.index.slice_anchor(anchor, settings)
    return await asyncio.to_thread(slice_repository, root, anchor, settings)


async def slice_at(target: Target, anchor: Anchor, ls: TandemServer) -> Slice:
    from tandem.slicing import SliceError

    try:
        context = await slice_of(ls, target.root, anchor)
    except SliceError as error:
        raise JsonRpcInvalidParams(str(error)) from error
    if not context.touched:
        raise JsonRpcInvalidParams(
            f"{target.path}: the range touches no code unit; put the cursor in a function"
        )
    return context


async def run_plan(ls: TandemServer, state: FlowState, args: PlanArgs) -> dict[str, Any]:
    target = target_of(ls, "tandem.plan", args.uri)
    text = target.text
    lines = text.splitlines()
    selection = args.range.lsp() if args.range else None
    start, end = line_span(selection, len(lines))  # no range: the whole document
    selected = lines[start - 1 : end] if selection is not None else []
    request, origin = resolve_request(args.request, selected, target.root)
    log.info("tandem.plan: request from %s", origin)
    anchor = FileRangeAnchor(path=target.path, start_line=start, end_line=end, text=text)
    context = await slice_at(target, anchor, ls)
    catalog = state.catalog(target.root)
    async with Job(ls, "Tandem: plan") as job:
        env, recorder = open_env(ls, state, target.root, job)
        task_id: str | None = None
        try:
            task_id = create_task(env, request, anchor, context).task_id
            job.report(f"task {task_id}: planning")
            await plan_step(env, task_id)
        finally:
            recorder.close()
            if task_id is not None:
                catalog.refresh(task_id)
    plan_uri = uri_of(ls, catalog.store.plan_document(task_id))
    await show_plan(ls, plan_uri, task_id)
    return {
        "task_id": task_id,
        "plan_uri": plan_uri,
        "cost_usd": cost_of(env.store, task_id, "plan"),
    }


# ----- draft delivery -----------------------------------------------------------------------


async def deliver(
    ls: TandemServer, state: FlowState, root: Path, delivery: Delivery
) -> dict[str, Any]:
    """Send the draft if no target changed since it was prepared; otherwise keep it."""
    result: dict[str, Any] = {"task_id": delivery.task_id, "edits": delivery.applied_edits}
    if delivery.refused:
        result["refused"] = list(delivery.refused)
    fresh, stale = check_delivery(delivery, lambda path: doc_state(ls, root, path))
    if not fresh.changes:
        return {**result, "applied": False, "reason": "no edit of the draft changes anything"}
    if stale:
        state.kept_drafts[delivery.task_id] = root
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
    if not answer.applied:
        state.kept_drafts[delivery.task_id] = root
        why = answer.failure_reason or "the editor did not apply the edit"
        return {**result, "applied": False, "reason": f"{why}; the draft is kept to re-apply"}
    state.kept_drafts.pop(delivery.task_id, None)
    return {**result, "applied": True}


def snapshot_paths(store: TaskStore, task_id: str) -> list[str]:
    """The files a draft may edit: the plan's scope and the related tests (as the flow's)."""
    plan = store.load_plan(task_id)
    if plan is None:
        raise FlowError(f"task {task_id} has no plan yet; run tandem.plan first")
    tests = {test.path for test in store.load_slice(task_id).tests}
    return sorted(path for path in scope_paths(plan.reply) | tests if is_safe_path(path))


def first_draft_texts(
    store: TaskStore, task_id: str
) -> tuple[dict[str, str | None], dict[str, str]]:
    """The original snapshot and the text the first draft turned it into."""
    return store.load_snapshot(task_id) or {}, drafted_texts(store, task_id, 1)


def approve_from_document(ls: TandemServer, store: TaskStore, task_id: str) -> None:
    """Approve the plan as the plan document stands: the open buffer (unsaved edits included)
    when it is open, else plan.md on disk."""
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
        approve_plan(store, task_id)
    except ValueError as error:
        raise JsonRpcInvalidParams(f"plan.md of task {task_id} cannot be read: {error}") from error


async def draft_round(
    ls: TandemServer, state: FlowState, root: Path, task_id: str, round_: int
) -> dict[str, Any]:
    catalog = state.catalog(root)
    store = catalog.store
    captured = {path: doc_state(ls, root, path) for path in snapshot_paths(store, task_id)}
    original: Mapping[str, str | None] | None = None
    first: Mapping[str, str] | None = None
    if round_ == 1:
        store.save_snapshot(task_id, {path: s.text for path, s in captured.items()})
    else:
        original, first = first_draft_texts(store, task_id)
    async with Job(ls, f"Tandem: draft {round_}" if round_ > 1 else "Tandem: draft") as job:
        env, recorder = open_env(ls, state, root, job)
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
    return await deliver(ls, state, root, delivery)


async def run_draft(ls: TandemServer, state: FlowState, args: TaskArgs) -> dict[str, Any]:
    if args.task_id is None:
        latest = [
            summary
            for root in workspace_roots(ls)
            if (summary := state.catalog(root).latest_planned()) is not None
        ]
        if not latest:
            raise CommandFailed("tandem.draft: no task has a plan yet; run tandem.plan first")
        task_id = max(latest, key=lambda summary: summary.task_id).task_id
    else:
        task_id = args.task_id
    root = root_of_task(ls, state, task_id)
    summary = state.catalog(root).refresh(task_id)
    if summary is not None and summary.has_draft:
        raise CommandFailed(
            f"tandem.draft: task {task_id} already has a draft; tandem.reapplyDraft applies it "
            "again, tandem.redraft drafts again after a review"
        )
    approve_from_document(ls, state.catalog(root).store, task_id)
    return await draft_round(ls, state, root, task_id, 1)


async def run_redraft(ls: TandemServer, state: FlowState, args: RequiredTaskArgs) -> dict[str, Any]:
    root = root_of_task(ls, state, args.task_id)
    summary = state.catalog(root).refresh(args.task_id)
    if summary is None or not summary.can_redraft:
        reason = next_step(summary.position).reason if summary else "the task cannot be read"
        raise CommandFailed(f"tandem.redraft: not now: {reason}")
    return await draft_round(ls, state, root, args.task_id, 2)


async def run_reapply(ls: TandemServer, state: FlowState, args: RequiredTaskArgs) -> dict[str, Any]:
    task_id = args.task_id
    root = state.kept_drafts.get(task_id) or root_of_task(ls, state, task_id)
    store = state.catalog(root).store
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
    return await deliver(ls, state, root, delivery)


# ----- tandem.review and diagnostics ---------------------------------------------------------


def publish(ls: TandemServer, state: FlowState, uris: set[str]) -> None:
    encoding = encoding_of(ls)
    for uri in sorted(uris):
        items = state.findings.get(uri, [])
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri, diagnostics=[lsp_diagnostic(item, encoding) for item in items]
            )
        )
        if not items:
            state.findings.pop(uri, None)


def replace_findings(
    ls: TandemServer,
    state: FlowState,
    root: Path,
    task_id: str,
    covered: set[str],
    placed: list[PlacedFinding],
) -> None:
    """A new review's findings replace the task's earlier ones and any on the files it covers."""
    covered_uris = {uri_of(ls, root / path) for path in covered}
    touched: set[str] = set()
    for uri, items in list(state.findings.items()):
        kept = [i for i in items if i.task_id != task_id and uri not in covered_uris]
        if len(kept) != len(items):
            state.findings[uri] = kept
            touched.add(uri)
    for item in placed:
        uri = uri_of(ls, root / item.path)
        state.findings.setdefault(uri, []).append(item)
        touched.add(uri)
    publish(ls, state, touched)


def review_diff(root: Path, base: str) -> str:
    """The working tree's changes since ``base``, errors turned into JSON-RPC errors."""
    from tandem.slicing.git import GitDiffError, git_diff

    try:
        return git_diff(root, base)
    except GitDiffError as error:
        if error.bad_revision:
            raise JsonRpcInvalidParams(f"tandem.review: {error}") from error
        raise CommandFailed(f"tandem.review: {error}") from error


def selection_diff(path: str, lines: list[str], start: int, end: int) -> str:
    """The selected lines as a diff that adds them, so the reviewer sees exactly the code
    under review (the flow's review takes a diff)."""
    body = "".join(f"+{line}\n" for line in lines[start - 1 : end])
    return f"--- a/{path}\n+++ b/{path}\n@@ -{start - 1},0 +{start},{end - start + 1} @@\n{body}"


def enclosing_unit(path: str, text: str, line: int) -> tuple[int, int] | None:
    from tandem.slicing.codeunits import find_units, language_for

    language = language_for(path)
    if language is None:
        return None
    units = [u for u in find_units(text, language) if u.start_line <= line <= u.end_line]
    innermost = min(units, key=lambda u: u.end_line - u.start_line, default=None)
    return (innermost.start_line, innermost.end_line) if innermost else None


def disk_text(root: Path, path: str) -> str | None:
    file = root / path
    try:
        return file.read_text(encoding="utf-8") if file.is_file() else None
    except (OSError, UnicodeDecodeError):
        return None


def drafted_texts(store: TaskStore, task_id: str, round_: int) -> dict[str, str]:
    """The files as the task's draft of ``round_`` made them (what its review saw)."""
    original = store.load_snapshot(task_id) or {}
    plan, draft = store.load_plan(task_id), store.load_draft(task_id, round_)
    if plan is None or draft is None:
        return {}
    snapshot = Snapshot(files={p: snapshot_text(p, text) for p, text in original.items()})
    return apply_edits(snapshot, draft.edits, plan.scope).files


async def review_task(
    ls: TandemServer,
    state: FlowState,
    root: Path,
    task_id: str,
    round_: int,
    seen: Callable[[str], str | None] | None = None,
) -> dict[str, Any]:
    """Review the task's draft ``round_`` and publish the findings, placed on the text the
    review saw (``seen``; default: the draft's result, else the file)."""
    catalog = state.catalog(root)
    async with Job(ls, "Tandem: review") as job:
        env, recorder = open_env(ls, state, root, job, review=True)
        try:
            review = await review_step(env, task_id, round_)
        finally:
            recorder.close()
    summary = catalog.refresh(task_id)
    plan_uri = uri_of(ls, catalog.store.plan_document(task_id))
    findings = review.findings if review is not None else []
    if seen is None:
        drafted = drafted_texts(catalog.store, task_id, round_)

        def seen(path: str) -> str | None:
            return drafted[path] if path in drafted else disk_text(root, path)

    placed = place_findings(task_id, findings, seen, plan_uri)
    covered = set(summary.files) if summary is not None else set()
    replace_findings(ls, state, root, task_id, covered, placed)
    verdict = review.reply.verdict if review is not None else "skipped"
    return {"task_id": task_id, "verdict": verdict, "findings": len(findings)}


async def review_outside(
    ls: TandemServer,
    state: FlowState,
    root: Path,
    anchor: Anchor,
    diff: str,
    request: str,
    seen: Callable[[str], str | None],
) -> dict[str, Any]:
    from tandem.slicing import SliceError

    try:
        context = await slice_of(ls, root, anchor)
    except SliceError as error:
        raise JsonRpcInvalidParams(f"tandem.review: {error}") from error
    if not context.touched:
        raise CommandFailed("tandem.review: the change touches no code unit")
    env, recorder = open_env(ls, state, root, None, review=True)
    try:
        task_id = create_task(env, request, anchor, context).task_id
        review_outside_change(env, task_id, diff)
    finally:
        recorder.close()
    return await review_task(ls, state, root, task_id, 1, seen)


async def run_review(ls: TandemServer, state: FlowState, args: ReviewArgs) -> dict[str, Any]:
    if args.task_id is not None:
        root = root_of_task(ls, state, args.task_id)
        store = state.catalog(root).store
        rounds = [r for r in (1, 2) if store.load_draft(args.task_id, r) is not None]
        if not rounds:
            raise CommandFailed(f"tandem.review: task {args.task_id} has no draft to review")
        return await review_task(ls, state, root, args.task_id, rounds[-1])
    if args.working_tree:
        roots = workspace_roots(ls)
        if not roots:
            raise CommandFailed("tandem.review: no workspace folder to diff")
        root = roots[-1] if ls.settings_state.workspace is not None else roots[0]
        diff = await asyncio.to_thread(review_diff, root, args.base)
        # git diff reads the saved files: the findings are placed on them too
        return await review_outside(
            ls,
            state,
            root,
            DiffAnchor(diff=diff),
            diff,
            REVIEW_REQUEST,
            lambda path: disk_text(root, path),
        )
    assert args.uri is not None
    target = target_of(ls, "tandem.review", args.uri)
    text = target.text
    lines = text.splitlines()
    selection = args.range.lsp() if args.range else None
    start, end = line_span(selection, len(lines))
    if selection is not None and is_empty(selection):
        unit = enclosing_unit(target.path, text, start)
        start, end = unit if unit is not None else (start, end)
    if not lines:
        raise CommandFailed(f"tandem.review: {target.path} is empty: nothing to review")
    anchor = FileRangeAnchor(path=target.path, start_line=start, end_line=end, text=text)
    request = f"Review the selected code ({target.path} lines {start}-{end}) for bugs, " + (
        "security problems and missing tests."
    )
    diff = selection_diff(target.path, lines, start, end)

    def seen(path: str) -> str | None:  # the buffer as it was when the review started
        return text if path == target.path else read_text(ls, target.root, path)

    return await review_outside(ls, state, target.root, anchor, diff, request, seen)


def follow_changes(
    ls: TandemServer, state: FlowState, params: types.DidChangeTextDocumentParams
) -> None:
    """Move findings with the code; drop those whose line was edited; republish."""
    uri = params.text_document.uri
    items = state.findings.get(uri)
    if not items:
        return
    document = ls.workspace.get_text_document(uri)
    changes = [line_change(change) for change in params.content_changes]
    state.findings[uri] = shift_findings(items, changes, document.lines)
    publish(ls, state, {uri})


# ----- code actions -------------------------------------------------------------------------


def known_hint(ls: TandemServer, uri: str, line: int, version: int | None) -> str:
    """The plan's route and the task's typical cost when a preview of this line (e.g. from a
    hover) is already cached for this document version; never computes one."""
    try:
        located = ls.workspaces.locate(uri)
        if located is None:
            return ""
        folder, rel = located
        for key, preview in reversed(list(folder.previews.items())):
            path, cached_version, place, request = key
            covers = isinstance(place, tuple) and int(place[0]) <= line <= int(place[1])
            if (path, cached_version, request) == (rel, version, None) and covers:
                route = preview.flow.routes.get("plan")
                usd = preview.flow.estimate.usd_typical
                return flow_actions.plan_hint(
                    route.alias if route else None, route.model if route else None, usd
                )
    except Exception:  # a hint is a nicety: never let it cost the action list
        log.debug("no estimate hint", exc_info=True)
    return ""


def code_actions(
    ls: TandemServer, state: FlowState, params: types.CodeActionParams
) -> list[types.CodeAction]:
    from pygls.uris import to_fs_path

    uri = params.text_document.uri
    fs_path = to_fs_path(uri) if uri.startswith("file:") else None
    if not fs_path:
        return []
    file = Path(fs_path)
    document = open_document(ls, file)
    root = root_for(ls, file)
    if root is None or (document is None and not file.is_file()):
        return []

    def line_text(line: int) -> str:  # only quick fixes need it: split lazily
        lines = document.lines if document is not None else ()
        return lines[line] if 0 <= line < len(lines) else ""

    path = file.relative_to(root).as_posix()
    catalog = state.catalog(root)
    parts = PurePosixPath(path).parts
    if parts[:2] == TASKS_DIR.parts and len(parts) == 4 and parts[3] == "plan.md":
        return flow_actions.plan_document_actions(catalog.get(parts[2]))
    kept = frozenset(task for task, kept_root in state.kept_drafts.items() if kept_root == root)
    version = document.version if document is not None else None
    return flow_actions.flow_code_actions(
        uri,
        params.range,
        catalog.touching(path),
        params.context.diagnostics,
        path=path,
        line_text=line_text,
        kept_drafts=kept,
        only=params.context.only,
        hint=known_hint(ls, uri, params.range.start.line + 1, version),
    )


# ----- registration -------------------------------------------------------------------------


def on_notification(
    server: TandemServer, method: str, handler: Callable[[TandemServer, Any], None]
) -> None:
    """Register a notification handler, chaining after one already registered (pygls allows
    one per method; another feature module may follow the same notification)."""
    features = server.protocol.fm.features
    existing = features.get(method)
    if existing is None:
        server.feature(method)(handler)
        return

    pending: set[asyncio.Future[Any]] = set()

    def both(params: Any) -> None:
        result = existing(params)
        if asyncio.iscoroutine(result):
            future = asyncio.ensure_future(result)
            pending.add(future)
            future.add_done_callback(pending.discard)
        handler(server, params)

    features[method] = both


def register(server: TandemServer) -> None:
    state = FlowState()

    @server.command(flow_actions.PLAN)
    async def plan(ls: TandemServer, *args: Any) -> dict[str, Any]:
        return await answered(
            "tandem.plan", run_plan(ls, state, parse_argument("tandem.plan", args, PlanArgs))
        )

    @server.command(flow_actions.DRAFT)
    async def draft(ls: TandemServer, *args: Any) -> dict[str, Any]:
        parsed = parse_argument("tandem.draft", args, TaskArgs)
        return await answered("tandem.draft", run_draft(ls, state, parsed))

    @server.command(flow_actions.REAPPLY)
    async def reapply(ls: TandemServer, *args: Any) -> dict[str, Any]:
        parsed = parse_argument("tandem.reapplyDraft", args, RequiredTaskArgs)
        return await answered("tandem.reapplyDraft", run_reapply(ls, state, parsed))

    @server.command(flow_actions.REDRAFT)
    async def redraft(ls: TandemServer, *args: Any) -> dict[str, Any]:
        parsed = parse_argument("tandem.redraft", args, RequiredTaskArgs)
        return await answered("tandem.redraft", run_redraft(ls, state, parsed))

    @server.command(flow_actions.REVIEW)
    async def review(ls: TandemServer, *args: Any) -> dict[str, Any]:
        parsed = parse_argument("tandem.review", args, ReviewArgs)
        return await answered("tandem.review", run_review(ls, state, parsed))

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[
                flow_actions.REWRITE,
                flow_actions.SOURCE_KIND,
                flow_actions.QUICKFIX,
            ]
        ),
    )
    def code_action(ls: TandemServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        try:
            return code_actions(ls, state, params)
        except Exception:  # a code action list must never take the server down
            log.exception("code actions failed")
            return []

    def did_change(ls: TandemServer, params: types.DidChangeTextDocumentParams) -> None:
        try:
            follow_changes(ls, state, params)
        except Exception:
            log.exception("moving review findings failed")

    on_notification(server, types.TEXT_DOCUMENT_DID_CHANGE, did_change)
