"""The live slicing index of each workspace folder, built in the background with progress.

A folder's index is built after ``initialized`` (or when a folder is added, or its ignore files
or index settings change) a file at a time with work-done progress, yielding to requests between
files. Settings changes are picked up on the next request (``Workspaces.refresh``), rebuilding
the index only when exclusions or size limits moved. The builds in flight live in the Session.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.capabilities import get_capability
from pygls.uris import to_fs_path

from tandem.lsp.server import TandemServer
from tandem.session.workspaces import Folder, unindexable_reason

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)

REPORT_EVERY_SECONDS = 0.2
GIVE_UP_AFTER = 10_000
"""Files a folder's walk may pass without finding one to slice before it is not indexed: a
folder of documents, media or build output is not a project."""
WATCHER_ID = "tandem-watched-files"
SETTINGS_FILES = frozenset({"tandem.toml", "pyproject.toml"})
IGNORE_FILES = frozenset({".gitignore", ".tandemignore"})
WATCHED_NAMES = SETTINGS_FILES | IGNORE_FILES


def folder_paths(ls: TandemServer) -> list[Path]:
    """The client's workspace folders (or its root) as local paths; a path holding a NUL
    (``file:///a%00b``) names no folder on any system and is left out."""
    paths = []
    for folder in ls.workspace.folders.values():
        path = to_fs_path(folder.uri)
        if path and "\x00" not in path:
            paths.append(Path(path))
    root = ls.workspace.root_path
    if not paths and root and "\x00" not in root:
        paths.append(Path(root))
    return paths


def _supports_progress(ls: TandemServer) -> bool:
    return bool(get_capability(ls.client_capabilities, "window.work_done_progress", False))


async def _create_progress(ls: TandemServer, title: str) -> str | None:
    if not _supports_progress(ls):
        return None
    token = f"tandem-index-{uuid.uuid4().hex[:12]}"
    try:
        await ls.work_done_progress.create_async(token)
    except Exception as error:  # a client that refuses progress still gets an index
        log.info("no progress for %s: %s", title, error)
        return None
    ls.work_done_progress.begin(
        token, types.WorkDoneProgressBegin(title=title, percentage=0, cancellable=False)
    )
    return token


async def build_index(ls: TandemServer, folder: Folder) -> None:
    """Walk and parse the folder a file at a time, yielding to requests between files."""
    index = folder.index
    token = await _create_progress(ls, f"Tandem: indexing {folder.root.name}")
    started = time.monotonic()
    message = "stopped"  # the server may stop (cancelling this task) before the build ends
    try:
        if index.files is None:
            from tandem.slicing.files import NotAProject, RepoFiles, walk_repository

            try:
                index.files = await asyncio.to_thread(
                    walk_repository, index.repo, index.exclusions, give_up_after=GIVE_UP_AFTER
                )
            except NotAProject as error:
                index.files = RepoFiles()  # as for a refused folder: slices hold touched code
                refuse(ls, folder.root, str(error))
                message = f"not indexed: {error}"
                return
            finally:
                index.exclusions.walked()
        last = 0.0
        done = total = 0
        for done, total in index.build_steps():
            now = time.monotonic()
            if token is not None and now - last >= REPORT_EVERY_SECONDS:
                last = now
                ls.work_done_progress.report(
                    token,
                    types.WorkDoneProgressReport(
                        message=f"{done}/{total} files", percentage=done * 100 // max(total, 1)
                    ),
                )
            await asyncio.sleep(0)
        index.ready = True
        folder.changed()
        message = f"{total} files in {time.monotonic() - started:.1f}s"
        log.info("tandem: indexed %s: %s", folder.root, message)
    except Exception:
        log.exception("tandem: indexing %s failed; slices read files on demand", folder.root)
        message = "failed; see the log"
    finally:
        if token is not None:
            ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message=message))


def refuse(ls: TandemServer, root: Path, reason: str) -> None:
    """Tell the user, once per folder, in one line, that it is not indexed and why."""
    if root in ls.session.unindexable_warned:
        return
    ls.session.unindexable_warned.add(root)
    line = f"Tandem: not indexing {root}: {reason}; open a project folder"
    log.warning("%s", line)
    try:
        ls.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Warning, message=line)
        )
    except Exception:  # a client that cannot be told still has the log line
        log.debug("could not show the message", exc_info=True)


def add_folder(ls: TandemServer, root: Path) -> Folder | None:
    """A workspace folder the client named, served and indexed; None (the user told once) when
    it is not a folder at all, e.g. a file: it would take every request about that file."""
    if root.exists() and not root.is_dir():
        refuse(ls, root, "it is not a folder")
        return None
    folder = ls.session.workspaces.add(root)
    ensure_built(ls, folder)
    return folder


def ensure_built(ls: TandemServer, folder: Folder) -> None:
    """Start the folder's background build unless it is built or being built."""
    session = ls.session
    running = session.index_builds.get(folder.root)
    if folder.index.ready or (running is not None and not running.done()):
        return
    refused = unindexable_reason(folder.root)
    if refused is not None:
        from tandem.slicing.files import RepoFiles

        folder.index.files = RepoFiles()  # nothing is walked: slices hold the touched code only
        refuse(ls, folder.root, refused)
        return
    session.index_builds[folder.root] = asyncio.ensure_future(build_index(ls, folder))


def locate(ls: TandemServer, uri: str) -> tuple[Folder, str] | None:
    """The (settings-refreshed) folder of ``uri`` and its relative path; starts a rebuild if
    a settings change asked for one."""
    located = ls.session.workspaces.locate(uri)
    if located is not None:
        ensure_built(ls, located[0])
    return located


def register_watcher(ls: TandemServer) -> None:
    """Ask a client that can for ``didChangeWatchedFiles`` on the files the index reads."""
    dynamic = get_capability(
        ls.client_capabilities, "workspace.did_change_watched_files.dynamic_registration", False
    )
    if not dynamic:
        return
    from tandem.slicing.languages import EXTENSIONS

    # Source files the index reads, and the files that change what it reads; not "**/*",
    # which would send every build artefact and dependency folder's churn.
    suffixes = ",".join(sorted(extension.lstrip(".") for extension in EXTENSIONS))
    patterns = [f"**/*.{{{suffixes}}}", *(f"**/{name}" for name in sorted(WATCHED_NAMES))]
    options = types.DidChangeWatchedFilesRegistrationOptions(
        watchers=[types.FileSystemWatcher(glob_pattern=pattern) for pattern in patterns]
    )
    registration = types.Registration(
        id=WATCHER_ID,
        method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
        register_options=options,
    )

    def done(future: Future[None]) -> None:
        if not future.cancelled() and future.exception() is not None:
            log.info("watched files not registered: %s", future.exception())

    future = ls.client_register_capability(types.RegistrationParams(registrations=[registration]))
    future.add_done_callback(done)
