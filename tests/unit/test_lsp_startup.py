"""The language server answers ``initialize`` before it imports the flow, settings or SDKs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SERVER_ROOT = Path(__file__).resolve().parents[2] / "server"

DEFERRED = ("pydantic", "anthropic", "openai", "tree_sitter", "tandem.flow", "tandem.ledger")


def test_initialize_is_answered_without_the_modules_only_later_requests_need(
    tmp_path: Path,
) -> None:
    # In a fresh interpreter: the server as `tandem serve` builds it, then its initialize
    # handler on a workspace with a settings file (settings load later, at `initialized`).
    (tmp_path / "tandem.toml").write_text("[context]\nbudget_tokens = 4000\n")
    code = f"""
import sys
from lsprotocol import types
from tandem.cli import build_parser, named_module
from tandem.lsp.app import create_server
from tandem.lsp.lifecycle import initialize

build_parser((named_module(["serve"]),))
server = create_server()
initialize(server, types.InitializeParams(
    capabilities=types.ClientCapabilities(), root_uri={tmp_path.as_uri()!r}))
print(sorted(name for name in sys.modules if name.startswith({DEFERRED!r})))
print(server.session.settings_state.current.settings.context.budget_tokens)
"""
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(SERVER_ROOT)},
        check=True,
    ).stdout.splitlines()
    assert out == ["[]", "4000"]
