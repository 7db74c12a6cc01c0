"""The settings a running server uses: file, initializationOptions and client configuration.

Pure bookkeeping with no LSP types, so the server's settings behaviour is testable on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tandem.config import LoadedSettings, load_settings

INIT_SOURCE = "initializationOptions"
CLIENT_SOURCE = "workspace/didChangeConfiguration"


def unwrap_client_settings(raw: Any) -> Any:
    """Clients send either the settings tree or ``{"tandem": tree}``; accept both."""
    if isinstance(raw, dict) and set(raw) == {"tandem"}:
        return raw["tandem"]
    return raw


@dataclass
class SettingsState:
    workspace: Path | None = None
    init_options: Any = None
    client_settings: Any = None
    current: LoadedSettings = field(default_factory=lambda: load_settings())
    generation: int = 0
    """Bumped by every reload, so per-folder settings know when to load again."""

    def overrides(self) -> list[tuple[str, Any]]:
        overrides: list[tuple[str, Any]] = []
        if self.init_options not in (None, {}):
            overrides.append((INIT_SOURCE, unwrap_client_settings(self.init_options)))
        if self.client_settings not in (None, {}):
            overrides.append((CLIENT_SOURCE, unwrap_client_settings(self.client_settings)))
        return overrides

    def reload(self) -> LoadedSettings:
        self.current = load_settings(workspace=self.workspace, overrides=self.overrides())
        self.generation += 1
        return self.current

    def load_for(self, folder: Path) -> LoadedSettings:
        """The settings of one workspace folder: its own file, then the client's overrides."""
        return load_settings(workspace=folder, overrides=self.overrides())
