"""Review findings as published diagnostics: replaced by a new review, moved as the code changes.

The findings live in the Session (``findings``: document uri → placed findings); placing and
shifting them is :mod:`tandem.lsp.review_diagnostics`. This feature follows ``didChange`` so a
finding moves with its line, and is dropped when its own line is edited.
"""

from __future__ import annotations

import logging
from pathlib import Path

from lsprotocol import types

from tandem.lsp.flow_session import encoding_of, uri_of
from tandem.lsp.review_diagnostics import (
    PlacedFinding,
    line_change,
    lsp_diagnostic,
    shift_findings,
)
from tandem.lsp.server import TandemServer

log = logging.getLogger(__name__)


def publish(ls: TandemServer, uris: set[str]) -> None:
    findings = ls.session.findings
    encoding = encoding_of(ls)
    for uri in sorted(uris):
        items = findings.get(uri, [])
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri, diagnostics=[lsp_diagnostic(item, encoding) for item in items]
            )
        )
        if not items:
            findings.pop(uri, None)


def replace_findings(
    ls: TandemServer, root: Path, task_id: str, covered: set[str], placed: list[PlacedFinding]
) -> None:
    """A new review's findings replace the task's earlier ones and any on the files it covers."""
    findings = ls.session.findings
    covered_uris = {uri_of(ls, root / path) for path in covered}
    touched: set[str] = set()
    for uri, items in list(findings.items()):
        kept = [i for i in items if i.task_id != task_id and uri not in covered_uris]
        if len(kept) != len(items):
            findings[uri] = kept
            touched.add(uri)
    for item in placed:
        uri = uri_of(ls, root / item.path)
        findings.setdefault(uri, []).append(item)
        touched.add(uri)
    publish(ls, touched)


def follow_changes(ls: TandemServer, params: types.DidChangeTextDocumentParams) -> None:
    """Move findings with the code; drop those whose line was edited; republish."""
    uri = params.text_document.uri
    items = ls.session.findings.get(uri)
    if not items:
        return
    document = ls.workspace.get_text_document(uri)
    changes = [line_change(change) for change in params.content_changes]
    ls.session.findings[uri] = shift_findings(items, changes, document.lines)
    publish(ls, {uri})


def did_change(ls: TandemServer, params: types.DidChangeTextDocumentParams) -> None:
    try:
        follow_changes(ls, params)
    except Exception:
        log.exception("moving review findings failed")


def register(server: TandemServer) -> None:
    server.notifications.on(types.TEXT_DOCUMENT_DID_CHANGE)(did_change)
