"""What the flow commands share: documents as the editor has them, folders, slices, the FlowEnv.

The document a command is about, the workspace folder a file or task belongs to, the slice of
an anchor, and the flow environment a step runs in (cancellable jobs are :mod:`tandem.lsp.jobs`,
command arguments :mod:`tandem.lsp.arguments`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace import TextDocument

from tandem.flow.edit_files import read_repo_file, unreadable_reason
from tandem.flow.env import FlowEnv, build_flow_env
from tandem.ledger.location import configured_ledger
from tandem.ledger.recorder import GuardedRecorder
from tandem.lsp.draft_delivery import DocState
from tandem.lsp.indexing import ensure_built, folder_paths
from tandem.lsp.jobs import Job
from tandem.lsp.server import TandemServer
from tandem.lsp.session import Session
from tandem.slicing.result import Anchor, FileRangeAnchor, Slice

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
    text = read_repo_file(file)  # exact bytes; a binary file is marked so no edit touches it
    return DocState(path, from_fs_path(str(file)) or file.as_uri(), text, None)


def read_text(ls: TandemServer, root: Path, path: str) -> str | None:
    """A file's text as the editor has it; None when absent, binary or not UTF-8."""
    text = doc_state(ls, root, path).text
    return None if unreadable_reason(text) is not None else text


def encoding_of(ls: TandemServer) -> str:
    return str(ls.workspace.position_encoding or types.PositionEncodingKind.Utf16)


def workspace_roots(ls: TandemServer) -> list[Path]:
    roots = folder_paths(ls)
    workspace = ls.session.settings_state.workspace
    if workspace is not None and workspace not in roots:
        roots.append(workspace)
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


def too_large(ls: TandemServer, uri: str) -> str | None:
    """Why the open buffer cannot be sliced (over ``context.max_file_bytes``), if it cannot."""
    located = ls.session.workspaces.locate(uri)
    return located[0].index.skipped(located[1]) if located is not None else None


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
    skipped = too_large(ls, uri)
    if skipped is not None:  # refused before its text is read
        raise JsonRpcInvalidParams(f"{command}: {skipped}")
    return Target(uri, file, root, file.relative_to(root).as_posix(), document)


def root_of_task(ls: TandemServer, task_id: str) -> Path:
    """The workspace folder holding the task; InvalidParams when none does."""
    for root in workspace_roots(ls):
        if ls.session.catalog(root).store.exists(task_id):
            return root
    raise JsonRpcInvalidParams(f"no task {task_id} in the workspace folders")


# ----- slices --------------------------------------------------------------------------------


async def slice_of(ls: TandemServer, root: Path, anchor: Anchor) -> Slice:
    """The slice of ``anchor`` in the folder ``root``. A range is sliced through the folder's
    live index once its background build is done (as hovers are: nothing walked or reread, open
    buffers' unsaved text wins); before that, and for a diff of the saved files, from the disk
    in a worker thread. Raises ``SliceError``."""
    from tandem.slicing import slice_repository

    settings = ls.session.settings_state.current.settings
    folder = ls.session.workspaces.for_path(root)
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
    """The slice of a command's target; InvalidParams when it cannot be sliced or touches no
    code unit."""
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


# ----- the flow environment ------------------------------------------------------------------


def open_env(
    ls: TandemServer, state: Session, root: Path, job: Job | None, *, review: bool = False
) -> tuple[FlowEnv, GuardedRecorder]:
    settings = state.settings_state.current.settings
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


@contextmanager
def recording(state: Session, root: Path) -> Iterator[GuardedRecorder]:
    """The folder's ledger for outcomes recorded outside a step (a draft applied, a finding
    acted on), closed afterwards; a ledger that fails is logged, never raised."""
    recorder = GuardedRecorder(
        configured_ledger(state.settings_state.current.settings.ledger, root)
    )
    try:
        yield recorder
    finally:
        recorder.close()


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
