"""A real ``tandem serve`` over stdio answers initialize under VS Code and Neovim profiles."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

SERVER_ROOT = Path(__file__).resolve().parents[2] / "server"
ENV = {**os.environ, "PYTHONPATH": str(SERVER_ROOT)}


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=[sys.executable, "-m", "tandem", "serve", "--stdio"], server_env=ENV
    ),
    params=["visual-studio-code", "neovim"],
)
async def client(request: pytest.FixtureRequest, lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    params = types.InitializeParams(
        capabilities=client_capabilities(request.param),
        initialization_options={"budgets": {"small": {"max_usd": -5}}},
    )
    await lsp_client.initialize_session(params)
    yield
    await lsp_client.shutdown_session()


async def test_bad_initialization_options_are_reported_not_fatal(client: LanguageClient) -> None:
    await client.wait_for_notification(types.WINDOW_SHOW_MESSAGE)
    message = client.messages[-1].message
    assert "budgets.small.max_usd" in message and "-5" in message


async def test_configuration_change_applies_and_bad_values_are_reported(
    client: LanguageClient,
) -> None:
    await client.wait_for_notification(types.WINDOW_SHOW_MESSAGE)
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"tandem": {"routes": {"plan": {"low": "x"}}}})
    )
    await client.wait_for_notification(types.WINDOW_SHOW_MESSAGE)
    assert "routes.plan.low" in client.messages[-1].message
