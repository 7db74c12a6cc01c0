"""The server is built from a feature list; each LSP method is bound once and fanned out."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from lsprotocol import types

from tandem.lsp import code_actions, lifecycle, review_findings, workspace
from tandem.lsp.app import FEATURES, ClientLogHandler, Feature, create_server
from tandem.lsp.server import TandemServer
from tandem.lsp.transport import Frame, FrameDecoder

ADVERTISED = {
    "codeActionProvider": {"codeActionKinds": ["refactor.rewrite", "source", "quickfix"]},
    "executeCommandProvider": {
        "commands": [
            "tandem.estimate",
            "tandem.status",
            "tandem.showReport",
            "tandem.plan",
            "tandem.draft",
            "tandem.reapplyDraft",
            "tandem.redraft",
            "tandem.review",
        ]
    },
    "hoverProvider": True,
    "positionEncoding": "utf-16",
    "textDocumentSync": {"change": 2, "openClose": True, "save": True},
    "workspace": {
        "fileOperations": {},
        "workspaceFolders": {"changeNotifications": True, "supported": True},
    },
}


class Wire:
    """A server whose outgoing messages are collected as JSON."""

    def __init__(self, server: TandemServer) -> None:
        self.server = server
        self.outgoing = FrameDecoder()
        self.received: list[dict[str, Any]] = []
        server.protocol.set_writer(self)

    def write(self, data: bytes) -> None:
        self.outgoing.feed(data)
        for event in self.outgoing.events():
            assert isinstance(event, Frame), event
            self.received.append(json.loads(event.body))

    def close(self) -> None:
        pass

    def send(self, message: dict[str, Any]) -> None:
        self.server.protocol.handle_body(json.dumps({"jsonrpc": "2.0", **message}).encode())

    def initialize(self) -> dict[str, Any]:
        self.send({"id": 1, "method": "initialize", "params": {"capabilities": {}}})
        reply = next(m for m in self.received if m.get("id") == 1)
        capabilities: dict[str, Any] = reply["result"]["capabilities"]
        return capabilities


@pytest.fixture
def build() -> Iterator[Any]:
    """``create_server``, with the log handlers it adds removed afterwards."""
    built: list[TandemServer] = []

    def make(features: tuple[Feature, ...] = FEATURES) -> TandemServer:
        built.append(create_server(features))
        return built[-1]

    yield make
    tandem_logger = logging.getLogger("tandem")
    for handler in list(tandem_logger.handlers):
        if isinstance(handler, ClientLogHandler) and handler.server in built:
            tandem_logger.removeHandler(handler)


def test_the_server_advertises_every_feature_and_command(build: Any) -> None:
    assert Wire(build()).initialize() == ADVERTISED


def test_each_notification_is_bound_once_and_reaches_every_feature_that_follows_it(
    build: Any,
) -> None:
    notifications = build().notifications
    assert notifications.subscribers(types.TEXT_DOCUMENT_DID_CHANGE) == (
        workspace.did_change,
        review_findings.did_change,
    )
    assert notifications.subscribers(types.INITIALIZED) == (
        lifecycle.initialized,
        workspace.start,
    )


def test_a_server_built_without_a_feature_serves_the_others(build: Any) -> None:
    left_out = (code_actions.register, review_findings.register)
    server = build(tuple(feature for feature in FEATURES if feature not in left_out))
    capabilities = Wire(server).initialize()
    assert "codeActionProvider" not in capabilities
    assert capabilities["executeCommandProvider"] == ADVERTISED["executeCommandProvider"]
    assert server.notifications.subscribers(types.TEXT_DOCUMENT_DID_CHANGE) == (
        workspace.did_change,
    )


def test_a_failing_subscriber_keeps_no_other_from_the_notification(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = TandemServer()
    seen: list[str] = []

    @server.notifications.on("tandem/test")
    def fail(ls: TandemServer, params: Any) -> None:
        raise ValueError("broken subscriber")

    @server.notifications.on("tandem/test")
    def follow(ls: TandemServer, params: Any) -> None:
        assert ls is server
        seen.append("followed")

    wire = Wire(server)
    wire.initialize()
    with caplog.at_level(logging.ERROR, logger="tandem"):
        wire.send({"method": "tandem/test", "params": {}})
    assert seen == ["followed"]
    assert "broken subscriber" in caplog.text


def test_a_subscriber_runs_synchronously() -> None:
    server = TandemServer()

    async def waits(ls: TandemServer, params: Any) -> None:
        pass

    with pytest.raises(TypeError, match="synchronously"):
        server.notifications.on(types.TEXT_DOCUMENT_DID_OPEN)(waits)  # type: ignore[arg-type]
