"""The pygls internals Tandem overrides are the ones of the pygls release they were checked on."""

from __future__ import annotations

from importlib.metadata import version

import pytest
from pygls.protocol import LanguageServerProtocol
from pygls.workspace import TextDocument, Workspace

from tandem.lsp.pygls_overrides import PYGLS_VERSION
from tandem.lsp.server import TandemServer


def test_the_installed_pygls_is_the_release_the_overrides_were_checked_against() -> None:
    installed = version("pygls")
    assert installed == PYGLS_VERSION, (
        f"pygls {installed} is installed, but tandem/lsp/pygls_overrides.py was checked against "
        f"{PYGLS_VERSION}: re-check every override there against the new release, then move "
        "PYGLS_VERSION"
    )


@pytest.mark.parametrize(
    ("upstream", "member"),
    [
        (LanguageServerProtocol, "_send_data"),
        (LanguageServerProtocol, "_execute_handler"),
        (LanguageServerProtocol, "_handle_response"),
        (LanguageServerProtocol, "_send_response"),
        (LanguageServerProtocol, "_send_handler_result"),
        (LanguageServerProtocol, "lsp_initialize"),
        (LanguageServerProtocol, "lsp_text_document__did_change"),
        (LanguageServerProtocol, "get_message_type"),
        (LanguageServerProtocol, "handle_message"),
        (LanguageServerProtocol, "msg_id"),
        (Workspace, "_create_text_document"),
        (TextDocument, "source"),
        (TextDocument, "lines"),
        (TextDocument, "_apply_incremental_change"),
    ],
)
def test_each_overridden_member_still_exists_upstream(upstream: type, member: str) -> None:
    assert hasattr(upstream, member), f"pygls' {upstream.__name__} has no {member} any more"


@pytest.mark.parametrize(
    "attribute",
    ["_request_futures", "_result_types", "_converter", "_shutdown", "_workspace"],
)
def test_the_protocol_state_the_overrides_read_is_still_there(attribute: str) -> None:
    assert hasattr(TandemServer().protocol, attribute)


def test_the_document_state_the_bounded_workspace_reads_is_still_there() -> None:
    workspace = Workspace(None)
    assert hasattr(workspace, "_sync_kind") and hasattr(workspace, "_position_codec")
    document = workspace.get_text_document("untitled:x")
    assert hasattr(document, "_source") and hasattr(document, "_position_codec")
