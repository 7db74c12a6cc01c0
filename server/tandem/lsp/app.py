"""Builds the Tandem language server from its feature list; no feature imports this module.

Each feature is a module with a ``register(server)`` function: requests and commands are
registered with pygls directly, notifications through ``server.notifications`` (one pygls
handler per method, fanned out to every feature that subscribed; see :mod:`tandem.lsp.server`).
A test can build a server with any feature left out: ``create_server(features=[...])``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import ClassVar

from lsprotocol import types

from tandem.lsp import (
    code_actions,
    draft_commands,
    hover,
    lifecycle,
    outcome_commands,
    plan_command,
    report_commands,
    review_command,
    review_findings,
    workspace,
)
from tandem.lsp.server import TandemServer

Feature = Callable[[TandemServer], None]

FEATURES: tuple[Feature, ...] = (
    lifecycle.register,
    workspace.register,
    hover.register,
    report_commands.register,
    outcome_commands.register,
    plan_command.register,
    draft_commands.register,
    review_command.register,
    review_findings.register,
    code_actions.register,
)
"""Every feature, in the order notifications reach them and commands are advertised."""


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


def create_server(features: Iterable[Feature] = FEATURES) -> TandemServer:
    server = TandemServer()
    for register in features:
        register(server)
    logging.getLogger("tandem").addHandler(ClientLogHandler(server))
    return server
