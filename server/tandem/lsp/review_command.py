"""``tandem.review``: review a task's draft, the selected code or the git diff, as diagnostics.

Run only from ``workspace/executeCommand``. The findings are placed on the text the review saw
and published (:mod:`tandem.lsp.review_findings`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pygls.exceptions import JsonRpcInvalidParams

from tandem.lsp import flow_actions
from tandem.lsp.command_errors import CommandFailed, answered
from tandem.lsp.jobs import Job
from tandem.lsp.positions import is_empty, line_span
from tandem.lsp.review_findings import replace_findings
from tandem.lsp.server import TandemServer

if TYPE_CHECKING:  # the flow loads after ``initialize`` is answered (issue 18)
    from tandem.lsp.arguments import ReviewArgs
    from tandem.slicing.result import Anchor

REVIEW_REQUEST = "Review this change for bugs, security problems and missing tests."


def review_diff(root: Path, base: str) -> str:
    """The working tree's changes since ``base``, errors turned into JSON-RPC errors."""
    from tandem.slicing.git import GitError, git_diff

    try:
        return git_diff(root, base)
    except GitError as error:
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


async def review_task(
    ls: TandemServer,
    root: Path,
    task_id: str,
    round_: int,
    seen: Callable[[str], str | None] | None = None,
) -> dict[str, Any]:
    """Review the task's draft ``round_`` and publish the findings, placed on the text the
    review saw (``seen``; default: the draft's result, else the file)."""
    from tandem.flow.apply import drafted_texts
    from tandem.flow.steps import review_step
    from tandem.lsp.flow_session import open_env, uri_of
    from tandem.lsp.review_diagnostics import place_findings

    catalog = ls.session.catalog(root)
    async with Job(ls, "Tandem: review") as job:
        env, recorder = open_env(ls, ls.session, root, job, review=True)
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

    round_seen = review.round if review is not None else round_
    placed = place_findings(task_id, findings, seen, plan_uri, round_seen)
    covered = set(summary.files) if summary is not None else set()
    replace_findings(ls, root, task_id, covered, placed)
    verdict = review.reply.verdict if review is not None else "skipped"
    return {"task_id": task_id, "verdict": verdict, "findings": len(findings)}


async def review_outside(
    ls: TandemServer,
    root: Path,
    anchor: Anchor,
    diff: str,
    request: str,
    seen: Callable[[str], str | None],
) -> dict[str, Any]:
    """Review a change made outside any task (a selection, the git diff) as a new task."""
    from tandem.flow.task import create_task, review_outside_change
    from tandem.lsp.flow_session import open_env, slice_of
    from tandem.slicing import SliceError

    try:
        context = await slice_of(ls, root, anchor)
    except SliceError as error:
        raise JsonRpcInvalidParams(f"tandem.review: {error}") from error
    if not context.touched:
        raise CommandFailed("tandem.review: the change touches no code unit")
    env, recorder = open_env(ls, ls.session, root, None, review=True)
    try:
        task_id = create_task(env, request, anchor, context).task_id
        review_outside_change(env, task_id, diff)
    finally:
        recorder.close()
    return await review_task(ls, root, task_id, 1, seen)


async def run_review(ls: TandemServer, args: ReviewArgs) -> dict[str, Any]:
    from tandem.lsp.flow_session import read_text, root_of_task, target_of, workspace_roots
    from tandem.slicing.result import DiffAnchor, FileRangeAnchor

    if args.task_id is not None:
        root = root_of_task(ls, args.task_id)
        store = ls.session.catalog(root).store
        rounds = [r for r in (1, 2) if store.load_draft(args.task_id, r) is not None]
        if not rounds:
            raise CommandFailed(f"tandem.review: task {args.task_id} has no draft to review")
        return await review_task(ls, root, args.task_id, rounds[-1])
    if args.working_tree:
        roots = workspace_roots(ls)
        if not roots:
            raise CommandFailed("tandem.review: no workspace folder to diff")
        root = roots[-1] if ls.session.settings_state.workspace is not None else roots[0]
        diff = await asyncio.to_thread(review_diff, root, args.base)
        # git diff reads the saved files: the findings are placed on them too
        return await review_outside(
            ls,
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

    return await review_outside(ls, target.root, anchor, diff, request, seen)


def register(server: TandemServer) -> None:
    @server.command(flow_actions.REVIEW)
    async def review(ls: TandemServer, *args: Any) -> dict[str, Any]:
        from tandem.lsp.arguments import ReviewArgs, parse_argument

        parsed = parse_argument("tandem.review", args, ReviewArgs)
        return await answered("tandem.review", run_review(ls, parsed))
