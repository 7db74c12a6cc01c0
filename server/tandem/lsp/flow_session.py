"""What the flow commands share inside the server: documents as the editor has them, the
workspace a file belongs to, the flow environment, and cancellable jobs (their arguments are
:mod:`tandem.lsp.arguments`).

A :class:`Job` runs one model-backed command with work-done progress. ``$/cancelRequest`` for
the ``workspace/executeCommand`` request and the progress's cancel button
(``window/workDoneProgress/cancel``) both cancel the asyncio task running it, so the provider's
HTTP request is aborted and the flow records a ``cancelled`` step in the ledger.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams, JsonRpcRequestCancelled
from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace import TextDocument

from tandem.config import ModelSettings
from tandem.flow.env import FlowEnv, build_flow_env
from tandem.flow.taskstore import TaskStore
from tandem.ledger.store import GuardedRecorder, configured_ledger
from tandem.lsp.draft_delivery import DocState
from tandem.lsp.flow_tasks import TaskCatalog
from tandem.lsp.review_diagnostics import PlacedFinding
from tandem.lsp.server import TandemServer
from tandem.providers.base import Provider

log = logging.getLogger(__name__)


# ----- documents and workspaces --------------------------------------------------------------


def open_document(ls: TandemServer, file: Path) -> TextDocument | None:
    documents: list[TextDocument] = list(ls.workspace.text_documents.values())
    return next((d for d in documents if d.path and Path(d.path) == file), None)


def uri_of(ls: TandemServer, file: Path) -> str:
    document = open_document(ls, file)
    return document.uri if document is not None else from_fs_path(str(file)) or file.as_uri()


def doc_state(ls: TandemServer, root: Path, path: str) -> DocState:
    """A repository file as the editor has it: the open buffer, else the file on disk."""
    file = root / path
    document = open_document(ls, file)
    if document is not None:
        return DocState(path, document.uri, document.source, document.version)
    try:
        text = file.read_text(encoding="utf-8") if file.is_file() else None
    except (OSError, UnicodeDecodeError):
        text = None
    return DocState(path, from_fs_path(str(file)) or file.as_uri(), text, None)


def read_text(ls: TandemServer, root: Path, path: str) -> str | None:
    return doc_state(ls, root, path).text


def workspace_roots(ls: TandemServer) -> list[Path]:
    from tandem.lsp.workspace import folder_paths

    roots = folder_paths(ls)
    if ls.settings_state.workspace is not None and ls.settings_state.workspace not in roots:
        roots.append(ls.settings_state.workspace)
    return roots


def root_for(ls: TandemServer, file: Path) -> Path | None:
    """The innermost workspace folder holding ``file``."""
    holding = [root for root in workspace_roots(ls) if file.is_relative_to(root)]
    return max(holding, key=lambda root: len(root.parts), default=None)


@dataclass(frozen=True)
class Target:
    """The document a command is about: its uri, file, workspace root and relative path."""

    uri: str
    file: Path
    root: Path
    path: str
    document: TextDocument | None

    @property
    def text(self) -> str:
        if self.document is not None:
            return self.document.source
        return self.file.read_text(encoding="utf-8")


def target_of(ls: TandemServer, command: str, uri: str) -> Target:
    """The document behind ``uri``; InvalidParams for an unknown document or one outside the
    workspace."""
    fs_path = to_fs_path(uri) if uri.startswith("file:") else None
    if not fs_path:
        raise JsonRpcInvalidParams(f"{command}: {uri!r} is not a file:// document")
    file = Path(fs_path)
    document = open_document(ls, file)
    if document is None and not file.is_file():
        raise JsonRpcInvalidParams(f"{command}: unknown document {uri} (not open, no such file)")
    root = root_for(ls, file)
    if root is None:
        raise JsonRpcInvalidParams(f"{command}: {uri} is outside the workspace folders")
    return Target(uri, file, root, file.relative_to(root).as_posix(), document)


# ----- state shared by the flow features -----------------------------------------------------


@dataclass
class FlowState:
    catalogs: dict[Path, TaskCatalog] = field(default_factory=dict)
    providers: dict[tuple[str, str], Provider] = field(default_factory=dict)
    findings: dict[str, list[PlacedFinding]] = field(default_factory=dict)
    kept_drafts: dict[str, Path] = field(default_factory=dict)
    """Task id → workspace root, for drafts refused on a stale version (to re-apply)."""

    def catalog(self, root: Path) -> TaskCatalog:
        if root not in self.catalogs:
            self.catalogs[root] = TaskCatalog(TaskStore(root))
        return self.catalogs[root]

    def provider_for(self, root: Path, alias: str, model: ModelSettings) -> Provider:
        """One provider per root and model settings for the server's life: a fake provider's
        queue of replies carries over from one command to the next, and aliases with the same
        settings share it (as ``--fake-replies`` does in the CLI)."""
        key = (str(root), model.model_dump_json())
        if key not in self.providers:
            from tandem.providers.registry import build_provider

            replies: Path | None = None
            if model.provider == "fake" and model.fake_replies:
                replies = Path(model.fake_replies).expanduser()
                replies = replies if replies.is_absolute() else root / replies
            self.providers[key] = build_provider(
                alias, model, dict(os.environ), fake_replies=replies
            )
        return self.providers[key]


def open_env(
    ls: TandemServer, state: FlowState, root: Path, job: Job | None, *, review: bool = False
) -> tuple[FlowEnv, GuardedRecorder]:
    settings = ls.settings_state.current.settings
    recorder = GuardedRecorder(configured_ledger(settings.ledger, root))
    env = build_flow_env(
        settings,
        root,
        store=state.catalog(root).store,
        recorder=recorder,
        providers=lambda alias, model: state.provider_for(root, alias, model),
        history=recorder,
        progress=job.report if job is not None else None,
        review_requested=review,
        confirm=lambda question: ask_user(ls, question),
    )
    return env, recorder


SEND = "Send"


async def ask_user(ls: TandemServer, question: str) -> bool:
    """A step above ``budgets.confirm_above_usd`` is sent only on the user's "Send"."""
    answer = await ls.window_show_message_request_async(
        types.ShowMessageRequestParams(
            type=types.MessageType.Warning,
            message=f"Tandem: {question}",
            actions=[types.MessageActionItem(title=SEND), types.MessageActionItem(title="Cancel")],
        )
    )
    return answer is not None and answer.title == SEND


# ----- cancellable work with progress --------------------------------------------------------


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
        protocol = self.ls.protocol
        # pygls keeps each request's future here; the executeCommand request's future is
        # cancelled by $/cancelRequest, but not the task running the command: link them.
        futures: dict[Any, Future[Any]] = getattr(protocol, "_request_futures", {})
        request = futures.get(protocol.msg_id) if protocol.msg_id is not None else None
        if request is not None:
            request.add_done_callback(self._on_request_done)
        elif protocol.msg_id is not None:  # answered already: cancelled before the call began
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
