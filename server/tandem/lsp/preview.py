"""Hover previews and the ``tandem.estimate``, ``tandem.status`` and ``tandem.showReport``
commands: thin translations of the core's preview, status and report.

The hover covers the code unit at the cursor (a client sends no selection with a hover); the
estimate command takes the selection's range, or the whole document without one.
"""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.uris import from_fs_path

from tandem.lsp.arguments import EstimateArgs, ShowReportArgs, StatusArgs, parse_argument
from tandem.lsp.positions import document_lines, line_at, line_range, lines_range
from tandem.lsp.server import TandemServer
from tandem.lsp.workspace import locate

if TYPE_CHECKING:
    from tandem.session.preview import Preview

log = logging.getLogger(__name__)

ESTIMATE = "tandem.estimate"
STATUS = "tandem.status"
SHOW_REPORT = "tandem.showReport"
COMMANDS = (ESTIMATE, STATUS, SHOW_REPORT)
"""The commands this feature adds to ``executeCommandProvider``."""


def jsonable(value: Any) -> Any:
    """Decimals as floats, recursively, so the value crosses JSON-RPC unchanged."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return value


def preview_json(preview: Preview) -> dict[str, Any]:
    """The structured estimate (as ``tandem estimate --json``) plus the slice and budget."""
    from tandem.flow.estimate import estimate_json  # the same JSON as the CLI's --json

    context, budget = preview.context, preview.budget
    document = estimate_json(preview.flow)
    document.update(
        {
            "path": preview.path,
            "start_line": preview.start_line,
            "end_line": preview.end_line,
            "request": preview.request,
            "slice": {
                "tokens": context.tokens,
                "whole_file_tokens": context.whole_file_tokens,
                "units": [f"{unit.path}::{unit.name}" for unit in context.touched],
                "tests": [f"{test.path}::{test.name}" for test in context.tests],
                "excluded": list(context.excluded),
                "warnings": list(context.warnings),
            },
            "budget_left": {
                "task_type": budget.task_type,
                "max_usd": budget.max_usd,
                "max_tokens": budget.max_tokens,
                "task_left_usd": budget.task_left_usd,
                "today_usd": budget.today_usd,
                "daily_usd": budget.daily_usd,
                "daily_left_usd": budget.daily_left_usd,
            },
        }
    )
    result: dict[str, Any] = jsonable(document)
    return result


def hover(ls: TandemServer, params: types.HoverParams) -> types.Hover | None:
    from tandem.session.preview import PreviewError, preview_markdown

    located = locate(ls, params.text_document.uri)
    if located is None:
        return None
    folder, rel = located
    document = ls.workspace.get_text_document(params.text_document.uri)
    lines = document_lines(document)
    line = line_at(lines, params.position)
    if line is None:
        return None
    try:
        preview = folder.preview(rel, line, line, version=document.version)
    except PreviewError:
        return None
    unit = next((u for u in preview.context.touched if u.path == rel), None)
    return types.Hover(
        contents=types.MarkupContent(
            kind=types.MarkupKind.Markdown, value=preview_markdown(preview)
        ),
        range=lines_range(document, lines, unit.start_line, unit.end_line) if unit else None,
    )


def estimate(ls: TandemServer, argument: EstimateArgs) -> dict[str, Any]:
    from tandem.session.preview import PreviewError, preview_markdown

    uri = argument.uri
    located = locate(ls, uri)
    if located is None:
        raise JsonRpcInvalidParams(f"{ESTIMATE}: {uri} is not in a workspace folder")
    folder, rel = located
    document = ls.workspace.get_text_document(uri)
    lines = document_lines(document)
    if not lines:
        raise JsonRpcInvalidParams(f"{ESTIMATE}: {uri}: no such document, or it is empty")
    selection = argument.range.lsp() if argument.range is not None else None
    span = line_range(lines, selection) if selection is not None else (1, len(lines))
    if span is None:
        raise JsonRpcInvalidParams(
            f"{ESTIMATE}: the range starts past the end of {rel} ({len(lines)} lines)"
        )
    try:
        preview = folder.preview(
            rel, span[0], span[1], version=document.version, request=argument.request
        )
    except PreviewError as error:
        raise JsonRpcInvalidParams(f"{ESTIMATE}: {error}") from error
    return {"markdown": preview_markdown(preview), "estimate": preview_json(preview)}


def status(ls: TandemServer) -> dict[str, Any]:
    from tandem.ledger.errors import LedgerError
    from tandem.reports.status import current_task

    today = Decimal(0)
    targets: set[str] = set()
    latest = None
    for folder in ls.workspaces.refresh_all():
        if str(folder.ledger.target) not in targets:
            targets.add(str(folder.ledger.target))
            folder.ledger.forget()
            try:
                today += folder.ledger.today_usd()
            except LedgerError as error:
                log.warning("tandem: cannot read the ledger of %s: %s", folder.root, error)
        task = current_task(folder.root, folder.settings)
        if task is not None and (latest is None or task.task_id > latest.task_id):
            latest = task
    return {
        "today_usd": float(today),
        "task": None
        if latest is None
        else {
            "task_id": latest.task_id,
            "spent_usd": float(latest.spent_usd),
            "budget_usd": float(latest.budget_usd),
            "stage": latest.stage,
        },
    }


async def show_report(ls: TandemServer, argument: ShowReportArgs) -> dict[str, Any]:
    from tandem.ledger.errors import LedgerError
    from tandem.reports.status import write_report

    uri = argument.uri
    folder = ls.workspaces.for_uri(uri) if uri is not None else None
    if folder is None:
        folders = ls.workspaces.refresh_all()
        if not folders:
            raise JsonRpcInvalidParams("tandem.showReport needs a workspace folder")
        folder = folders[0]
    try:
        path = write_report(folder.root, folder.settings)
    except (LedgerError, OSError) as error:
        raise JsonRpcInvalidParams(f"{SHOW_REPORT}: cannot write the report: {error}") from error
    document_uri = from_fs_path(str(path)) or path.as_uri()
    window = ls.client_capabilities.window
    if window is not None and window.show_document is not None and window.show_document.support:
        shown = ls.window_show_document_async(
            types.ShowDocumentParams(uri=document_uri, take_focus=True)
        )
        try:  # the report is written either way; a client that never answers must not hang us
            await asyncio.wait_for(shown, 10)
        except Exception as error:
            log.info("showDocument failed: %s", error)
    return {"uri": document_uri}


def register(server: TandemServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def on_hover(ls: TandemServer, params: types.HoverParams) -> types.Hover | None:
        try:
            return hover(ls, params)
        except Exception:  # a hover must never take the server down, nor show a traceback
            log.exception("tandem: hover failed at %s", params.text_document.uri)
            return None

    @server.command(ESTIMATE)
    def on_estimate(ls: TandemServer, *arguments: Any) -> dict[str, Any]:
        return estimate(ls, parse_argument(ESTIMATE, arguments, EstimateArgs))

    @server.command(STATUS)
    def on_status(ls: TandemServer, *arguments: Any) -> dict[str, Any]:
        parse_argument(STATUS, arguments, StatusArgs)
        return status(ls)

    @server.command(SHOW_REPORT)
    async def on_show_report(ls: TandemServer, *arguments: Any) -> dict[str, Any]:
        return await show_report(ls, parse_argument(SHOW_REPORT, arguments, ShowReportArgs))
