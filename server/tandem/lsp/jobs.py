"""Cancellable model-backed work with work-done progress, for the flow commands.

A :class:`Job` runs one model-backed command with work-done progress. ``$/cancelRequest`` for
the ``workspace/executeCommand`` request and the progress's cancel button
(``window/workDoneProgress/cancel``) both cancel the asyncio task running it, so the provider's
HTTP request is aborted and the flow records a ``cancelled`` step in the ledger.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from concurrent.futures import Future
from types import TracebackType
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled

from tandem.lsp.pygls_overrides import request_future
from tandem.lsp.server import TandemServer

log = logging.getLogger(__name__)


class Job:
    """``async with Job(ls, "Tandem: plan") as job:`` — progress while the body runs, and the
    body's task cancelled by ``$/cancelRequest`` or the progress cancel button. A cancellation
    leaves as ``JsonRpcRequestCancelled``."""

    def __init__(self, ls: TandemServer, title: str) -> None:
        self.ls = ls
        self.title = title
        self.token: str | None = None
        self.active = False
        self.cancelled_by: str | None = None
        self._task: asyncio.Task[Any] | None = None

    def _cancel(self, source: str) -> None:
        if self.active and self._task is not None and not self._task.done():
            self.cancelled_by = source
            self._task.cancel()

    def _on_request_done(self, future: Future[Any]) -> None:
        if future.cancelled():
            self._cancel("$/cancelRequest")

    def _on_progress_done(self, future: Future[Any]) -> None:
        if future.cancelled():
            self._cancel("the progress cancel button")

    async def __aenter__(self) -> Job:
        self._task = asyncio.current_task()
        self.active = True
        # $/cancelRequest cancels the executeCommand request's future, but not the task running
        # the command: link them.
        in_request, request = request_future(self.ls.protocol)
        if request is not None:
            request.add_done_callback(self._on_request_done)
        elif in_request:  # answered already: cancelled before the call began
            self.active = False
            raise JsonRpcRequestCancelled(f"{self.title}: cancelled before the call began")
        capabilities = self.ls.client_capabilities
        if capabilities.window is not None and capabilities.window.work_done_progress:
            token = f"tandem-{uuid.uuid4().hex[:12]}"
            try:
                await asyncio.wait_for(self.ls.work_done_progress.create_async(token), 5)
            except Exception as error:  # a client refusing progress must not stop the work
                log.info("no progress for %s: %s", self.title, error)
            else:
                self.token = token
                self.ls.work_done_progress.begin(
                    token, types.WorkDoneProgressBegin(title=self.title, cancellable=True)
                )
                cancel = self.ls.work_done_progress.tokens.get(token)
                if cancel is not None:
                    cancel.add_done_callback(self._on_progress_done)
        return self

    def report(self, message: str) -> None:
        if self.token is not None and self.active:
            self.ls.work_done_progress.report(
                self.token, types.WorkDoneProgressReport(message=message)
            )

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.active = False
        if self.token is not None:
            ending = "cancelled" if self.cancelled_by else ("failed" if error else "done")
            self.ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=ending))
        if isinstance(error, asyncio.CancelledError) and self.cancelled_by is not None:
            if self._task is not None:
                self._task.uncancel()
            raise JsonRpcRequestCancelled(
                f"{self.title}: cancelled by {self.cancelled_by}; the step is recorded as cancelled"
            ) from None
