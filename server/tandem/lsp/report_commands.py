"""Spend and reports from the editor: the ``tandem.status`` and ``tandem.showReport`` commands."""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.uris import from_fs_path

from tandem.lsp.server import TandemServer

if TYPE_CHECKING:
    from tandem.lsp.arguments import ShowReportArgs

log = logging.getLogger(__name__)

STATUS = "tandem.status"
SHOW_REPORT = "tandem.showReport"


def status(ls: TandemServer) -> dict[str, Any]:
    from tandem.ledger.errors import LedgerError
    from tandem.reports.status import current_task

    today = Decimal(0)
    targets: set[str] = set()
    latest = None
    advice: list[str] = []
    for folder in ls.session.workspaces.refresh_all():
        if str(folder.ledger.target) not in targets:
            targets.add(str(folder.ledger.target))
            folder.ledger.forget()
            try:
                today += folder.ledger.today_usd()
            except LedgerError as error:
                log.warning("tandem: cannot read the ledger of %s: %s", folder.root, error)
            advice += folder.ledger.advice(folder.settings)
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
        "advice": advice,
    }


async def show_report(ls: TandemServer, argument: ShowReportArgs) -> dict[str, Any]:
    from tandem.ledger.errors import LedgerError
    from tandem.reports.status import write_report

    uri = argument.uri
    folder = ls.session.workspaces.for_uri(uri) if uri is not None else None
    if folder is None:
        folders = ls.session.workspaces.refresh_all()
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
    @server.command(STATUS)
    def on_status(ls: TandemServer, *arguments: Any) -> dict[str, Any]:
        from tandem.lsp.arguments import StatusArgs, parse_argument

        parse_argument(STATUS, arguments, StatusArgs)
        return status(ls)

    @server.command(SHOW_REPORT)
    async def on_show_report(ls: TandemServer, *arguments: Any) -> dict[str, Any]:
        from tandem.lsp.arguments import ShowReportArgs, parse_argument

        return await show_report(ls, parse_argument(SHOW_REPORT, arguments, ShowReportArgs))
