"""Create the Tandem language server and register every feature in one place."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from lsprotocol import types
from pygls.exceptions import FeatureRequestError
from pygls.lsp.server import LanguageServer

from tandem import __version__
from tandem.lsp.protocol import TandemProtocol
from tandem.session.settings import SettingsState
from tandem.session.workspaces import Workspaces

log = logging.getLogger(__name__)

Feature = Callable[["TandemServer"], None]
Hook = Callable[["TandemServer"], None]


class TandemServer(LanguageServer):
    """The pygls server plus the state the handlers share."""

    protocol: TandemProtocol

    def __init__(self) -> None:
        super().__init__("tandem", __version__, protocol_cls=TandemProtocol)
        self.settings_state = SettingsState()
        self.workspaces = Workspaces(self.settings_state)
        """Per workspace folder: settings, live slicing index, ledger view (``for_uri``)."""
        self.initialized_hooks: list[Hook] = []
        """Run after ``initialized`` (one handler per LSP method: features add hooks here)."""

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Failures outside a request go to the log, not to a popup per malformed message.

        A failed request already carries its error in its reply (and pygls logged it).
        """
        if source is not FeatureRequestError:
            log.error("%s", error)


class ClientLogHandler(logging.Handler):
    """Forwards Tandem's own log records to the client as ``window/logMessage``."""

    LEVELS: ClassVar[dict[int, types.MessageType]] = {
        logging.ERROR: types.MessageType.Error,
        logging.WARNING: types.MessageType.Warning,
        logging.INFO: types.MessageType.Info,
    }

    def __init__(self, server: TandemServer) -> None:
        super().__init__(level=logging.INFO)
        self.server = server

    def emit(self, record: logging.LogRecord) -> None:
        if self.server.protocol.writer is None:
            return
        kind = next(
            (kind for level, kind in self.LEVELS.items() if record.levelno >= level),
            types.MessageType.Log,
        )
        try:
            self.server.window_log_message(
                types.LogMessageParams(type=kind, message=self.format(record))
            )
        except Exception:  # a failing log transport must never take a handler down with it
            self.handleError(record)


def default_features() -> list[Feature]:
    from tandem.lsp import flow_commands, lifecycle, preview, workspace

    return [
        lifecycle.register,
        workspace.register,
        preview.register,
        flow_commands.register,  # keep last: it chains its didChange after any other feature's
    ]


def create_server(features: Iterable[Feature] | None = None) -> TandemServer:
    server = TandemServer()
    for register in default_features() if features is None else features:
        register(server)
    tandem_logger = logging.getLogger("tandem")
    tandem_logger.addHandler(ClientLogHandler(server))
    return server
