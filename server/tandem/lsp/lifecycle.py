"""The server's lifecycle and settings: initialize, initialized, configuration changes."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.uris import to_fs_path

from tandem.lsp.server import TandemServer

if TYPE_CHECKING:
    from tandem.config import LoadedSettings

log = logging.getLogger(__name__)


def report_settings(ls: TandemServer, loaded: LoadedSettings) -> None:
    """Bad settings: one message to the user, each problem in the log; never an exception."""
    if not loaded.problems:
        return
    lines = [str(problem) for problem in loaded.problems]
    for line in lines:
        log.warning("invalid setting: %s", line)
    ls.window_show_message(
        types.ShowMessageParams(
            type=types.MessageType.Warning,
            message="Tandem: invalid settings, defaults used instead:\n" + "\n".join(lines),
        )
    )


def workspace_root(params: types.InitializeParams) -> Path | None:
    if params.workspace_folders:
        path = to_fs_path(params.workspace_folders[0].uri)
    elif params.root_uri:
        path = to_fs_path(params.root_uri)
    else:
        path = params.root_path
    return Path(path) if path else None


def initialize(ls: TandemServer, params: types.InitializeParams) -> None:
    """Settings from the workspace's file and the client's initializationOptions, loaded when
    first needed (at ``initialized`` at the latest), so the answer does not wait for them."""
    state = ls.session.settings_state
    state.workspace = workspace_root(params)
    state.init_options = params.initialization_options
    state.stale()


def initialized(ls: TandemServer, params: types.InitializedParams) -> None:
    loaded = ls.session.settings_state.current
    log.info("tandem ready; settings from %s", ", ".join(loaded.sources))
    report_settings(ls, loaded)


def did_change_configuration(ls: TandemServer, params: types.DidChangeConfigurationParams) -> None:
    state = ls.session.settings_state
    state.client_settings = params.settings
    report_settings(ls, state.reload())


def register(server: TandemServer) -> None:
    server.feature(types.INITIALIZE)(initialize)
    server.notifications.on(types.INITIALIZED)(initialized)
    server.notifications.on(types.WORKSPACE_DID_CHANGE_CONFIGURATION)(did_change_configuration)
