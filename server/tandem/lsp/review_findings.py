"""Review findings as published diagnostics: replaced by a new review, moved as the code changes.

The findings live in the Session (``findings``: document uri → placed findings); placing and
shifting them is :mod:`tandem.lsp.review_diagnostics`. This feature follows ``didChange`` so a
finding moves with its line, and is dropped when its own line is edited: the user acted on it,
which the ledger records as a catch.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.uris import to_fs_path

from tandem.lsp.server import TandemServer

if TYPE_CHECKING:  # loaded with the first review, after ``initialize`` is answered (issue 18)
    from tandem.lsp.review_diagnostics import PlacedFinding

log = logging.getLogger(__name__)


def publish(ls: TandemServer, uris: set[str]) -> None:
    from tandem.lsp.flow_session import encoding_of
    from tandem.lsp.review_diagnostics import lsp_diagnostic

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
    from tandem.lsp.flow_session import uri_of

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
    from tandem.lsp.review_diagnostics import line_change, shift_findings

    document = ls.workspace.get_text_document(uri)
    changes = [line_change(change) for change in params.content_changes]
    kept = shift_findings(items, changes, document.lines)
    ls.session.findings[uri] = kept
    publish(ls, {uri})
    still = {(item.task_id, item.round, item.index) for item in kept}
    edited = [item for item in items if (item.task_id, item.round, item.index) not in still]
    if edited:
        note_user_edits(ls, uri, edited)


def note_user_edits(ls: TandemServer, uri: str, edited: list[PlacedFinding]) -> None:
    """The user edited the lines these findings flag: each is a catch (unless already settled)."""
    from tandem.flow.catches import Catch
    from tandem.flow.outcomes import settle_catches
    from tandem.lsp.flow_session import recording, root_for

    fs_path = to_fs_path(uri)
    root = root_for(ls, Path(fs_path)) if fs_path else None
    if root is None:
        return
    by_review: dict[tuple[str, int], list[Catch]] = {}
    for item in edited:
        lines = (item.line + 1, item.line + 1)
        by_review.setdefault((item.task_id, item.round), []).append(
            Catch(item.index, item.path, lines, None)
        )
    with recording(ls.session, root) as outcomes:
        for (task_id, round_), found in by_review.items():
            settle_catches(outcomes, task_id, round_, found, "user_edit", "the user")


def did_change(ls: TandemServer, params: types.DidChangeTextDocumentParams) -> None:
    try:
        follow_changes(ls, params)
    except Exception:
        log.exception("moving review findings failed")


def register(server: TandemServer) -> None:
    server.notifications.on(types.TEXT_DOCUMENT_DID_CHANGE)(did_change)
