"""The server is built from a feature list; each LSP method is bound once and fanned out."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from lsprotocol import types
from server_wire import Wire

from tandem.lsp import code_actions, lifecycle, review_findings, workspace
from tandem.lsp.app import FEATURES, ClientLogHandler, Feature, create_server
from tandem.lsp.server import TandemServer

ADVERTISED = {
    "codeActionProvider": {"codeActionKinds": ["refactor.rewrite", "source", "quickfix"]},
    "executeCommandProvider": {
        "commands": [
            "tandem.estimate",
            "tandem.status",
            "tandem.showReport",
            "tandem.rateTask",
            "tandem.recordDefect",
            "tandem.findingActed",
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


def capabilities_of(server: TandemServer) -> dict[str, Any]:
    """What the server answers to ``initialize`` (without ``initialized``: no index is built)."""
    reply = Wire(server).request(1, "initialize", {"capabilities": {}})
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
    assert capabilities_of(build()) == ADVERTISED


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
    capabilities = capabilities_of(server)
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
        wire.notify("tandem/test", {})
    assert seen == ["followed"]
    assert "broken subscriber" in caplog.text


def test_a_subscriber_runs_synchronously() -> None:
    server = TandemServer()

    async def waits(ls: TandemServer, params: Any) -> None:
        pass

    with pytest.raises(TypeError, match="synchronously"):
        server.notifications.on(types.TEXT_DOCUMENT_DID_OPEN)(waits)  # type: ignore[arg-type]
