"""Cost previews in the editor: the hover at the cursor and the ``tandem.estimate`` command.

Thin translations of the core's preview (:mod:`tandem.session.preview`). The hover covers the
code unit at the cursor (a client sends no selection with a hover); the estimate command takes
the selection's range, or the whole document without one.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from tandem.lsp.flow_actions import ESTIMATE
from tandem.lsp.indexing import locate
from tandem.lsp.positions import document_lines, line_at, line_range, lines_range
from tandem.lsp.server import TandemServer

if TYPE_CHECKING:
    from tandem.lsp.arguments import EstimateArgs
    from tandem.session.preview import Preview

log = logging.getLogger(__name__)


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
    skipped = folder.index.skipped(rel)
    if skipped is not None:  # answered without reading the buffer
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=f"Tandem: {skipped}")
        )
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
    skipped = folder.index.skipped(rel)
    if skipped is not None:
        raise JsonRpcInvalidParams(f"{ESTIMATE}: {skipped}")
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
        from tandem.lsp.arguments import EstimateArgs, parse_argument

        return estimate(ls, parse_argument(ESTIMATE, arguments, EstimateArgs))
