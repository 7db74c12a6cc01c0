"""Workspace folders and documents kept in step with the editor: buffers, saves, files, folders.

After ``initialized`` each workspace folder gets its live index (:mod:`tandem.lsp.indexing`);
open buffers, saves, watched-file events and folder changes then keep each index current.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types
from pygls.uris import to_fs_path

from tandem.lsp.documents import document_length
from tandem.lsp.indexing import (
    IGNORE_FILES,
    SETTINGS_FILES,
    add_folder,
    ensure_built,
    folder_paths,
    locate,
    register_watcher,
)
from tandem.lsp.lifecycle import report_settings
from tandem.lsp.server import TandemServer
from tandem.lsp.warmup import warm_up


def start(ls: TandemServer, params: types.InitializedParams) -> None:
    """After ``initialized``: one folder per workspace folder, each indexed in the background."""
    session = ls.session
    folders = [folder for path in folder_paths(ls) if (folder := add_folder(ls, path))]
    settings = folders[0].settings if folders else session.settings_state.current.settings
    session.warm_ups.add(asyncio.ensure_future(asyncio.to_thread(warm_up, settings)))
    register_watcher(ls)


def document_changed(ls: TandemServer, uri: str) -> None:
    """The document's buffer, as the editor has it now, goes into its folder's index; one over
    the folder's ``context.max_file_bytes`` only as its length (its text is never joined)."""
    located = locate(ls, uri)
    if located is not None:
        folder, rel = located
        document = ls.workspace.get_text_document(uri)
        length = document_length(document)
        if length is not None and length > folder.index.max_file_bytes:
            folder.index.open_oversized(rel, length, document.version)
        else:
            folder.index.open_document(rel, document.source, document.version)
        folder.changed()


def did_open(ls: TandemServer, params: types.DidOpenTextDocumentParams) -> None:
    document_changed(ls, params.text_document.uri)


def did_change(ls: TandemServer, params: types.DidChangeTextDocumentParams) -> None:
    document_changed(ls, params.text_document.uri)


def did_save(ls: TandemServer, params: types.DidSaveTextDocumentParams) -> None:
    located = locate(ls, params.text_document.uri)
    if located is not None:
        located[0].index.file_changed(located[1])
    document_changed(ls, params.text_document.uri)


def did_close(ls: TandemServer, params: types.DidCloseTextDocumentParams) -> None:
    located = ls.session.workspaces.locate(params.text_document.uri)
    if located is not None:
        folder, rel = located
        folder.index.close_document(rel)
        folder.index.file_changed(rel)  # the disk may differ from the closed buffer
        folder.changed()


def did_change_watched_files(ls: TandemServer, params: types.DidChangeWatchedFilesParams) -> None:
    workspaces = ls.session.workspaces
    reload_settings = False
    rebuild: set[Path] = set()
    for event in params.changes:
        located = workspaces.locate(event.uri)
        if located is None:
            continue
        folder, rel = located
        name = rel.rsplit("/", 1)[-1]
        if rel in SETTINGS_FILES:
            reload_settings = True
        elif name in IGNORE_FILES:
            rebuild.add(folder.root)
        elif event.type == types.FileChangeType.Deleted:
            folder.index.file_deleted(rel)
        else:
            folder.index.file_changed(rel)
        folder.changed()
    if reload_settings:
        report_settings(ls, ls.session.settings_state.reload())
    for root in rebuild:
        ensure_built(ls, workspaces.rebuild(root))


def did_change_workspace_folders(
    ls: TandemServer, params: types.DidChangeWorkspaceFoldersParams
) -> None:
    workspaces = ls.session.workspaces
    for removed in params.event.removed:
        path = to_fs_path(removed.uri)
        if path:
            workspaces.remove(Path(path))
    for added in params.event.added:
        path = to_fs_path(added.uri)
        if path:
            add_folder(ls, Path(path))


def register(server: TandemServer) -> None:
    on = server.notifications.on
    on(types.INITIALIZED)(start)
    on(types.TEXT_DOCUMENT_DID_OPEN)(did_open)
    on(types.TEXT_DOCUMENT_DID_CHANGE)(did_change)
    on(types.TEXT_DOCUMENT_DID_SAVE)(did_save)
    on(types.TEXT_DOCUMENT_DID_CLOSE)(did_close)
    on(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)(did_change_watched_files)
    on(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)(did_change_workspace_folders)
