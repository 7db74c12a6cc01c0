"""``textDocument/codeAction``: the flow's actions at a cursor or selection, listed from memory.

The handler finds the document's folder and the tasks touching it, then hands them to the pure
converters of :mod:`tandem.lsp.flow_actions`. Nothing runs here: the work starts when the client
runs the chosen action's command.
"""

from __future__ import annotations

import logging
from pathlib import Path, PurePosixPath

from lsprotocol import types
from pygls.uris import to_fs_path

from tandem.lsp import flow_actions
from tandem.lsp.server import TandemServer

log = logging.getLogger(__name__)

KINDS = types.CodeActionOptions(
    code_action_kinds=[flow_actions.REWRITE, flow_actions.SOURCE_KIND, flow_actions.QUICKFIX]
)


def known_hint(ls: TandemServer, uri: str, line: int, version: int | None) -> str:
    """The plan's route and the task's typical cost when a preview of this line (e.g. from a
    hover) is already cached for this document version; never computes one."""
    try:
        located = ls.session.workspaces.locate(uri)
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


def code_actions(ls: TandemServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    from tandem.flow.taskstore import TASKS_DIR
    from tandem.lsp.flow_session import open_document, root_for, too_large

    uri = params.text_document.uri
    fs_path = to_fs_path(uri) if uri.startswith("file:") else None
    if not fs_path:
        return []
    file = Path(fs_path)
    document = open_document(ls, file)
    root = root_for(ls, file)
    if root is None or (document is None and not file.is_file()):
        return []
    skipped = too_large(ls, uri)
    if skipped is not None:
        return [flow_actions.refused_plan_action(skipped)]

    def line_text(line: int) -> str:  # only quick fixes need it: split lazily
        lines = document.lines if document is not None else ()
        return lines[line] if 0 <= line < len(lines) else ""

    path = file.relative_to(root).as_posix()
    catalog = ls.session.catalog(root)
    parts = PurePosixPath(path).parts
    if parts[:2] == TASKS_DIR.parts and len(parts) == 4 and parts[3] == "plan.md":
        return flow_actions.plan_document_actions(catalog.get(parts[2]))
    kept = frozenset(
        task for task, kept_root in ls.session.kept_drafts.items() if kept_root == root
    )
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


def code_action(ls: TandemServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    try:
        return code_actions(ls, params)
    except Exception:  # a code action list must never take the server down
        log.exception("code actions failed")
        return []


def register(server: TandemServer) -> None:
    server.feature(types.TEXT_DOCUMENT_CODE_ACTION, KINDS)(code_action)
