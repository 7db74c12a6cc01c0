"""The settings a running server uses: file, initializationOptions and client configuration.

Pure bookkeeping with no LSP types, so the server's settings behaviour is testable on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tandem.config import LoadedSettings

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
    generation: int = 0
    """Bumped by every reload, so per-folder settings know when to load again."""
    loaded: LoadedSettings | None = None
    """The settings in force; None until first needed (``initialize`` answers before the
    settings models are imported) or after :meth:`stale`."""

    @property
    def current(self) -> LoadedSettings:
        return self.loaded if self.loaded is not None else self.reload()

    def stale(self) -> None:
        """The sources changed: load them again when next needed."""
        self.loaded = None
        self.generation += 1

    def overrides(self) -> list[tuple[str, Any]]:
        overrides: list[tuple[str, Any]] = []
        if self.init_options not in (None, {}):
            overrides.append((INIT_SOURCE, unwrap_client_settings(self.init_options)))
        if self.client_settings not in (None, {}):
            overrides.append((CLIENT_SOURCE, unwrap_client_settings(self.client_settings)))
        return overrides

    def reload(self) -> LoadedSettings:
        from tandem.config import load_settings

        self.loaded = load_settings(workspace=self.workspace, overrides=self.overrides())
        self.generation += 1
        return self.loaded

    def load_for(self, folder: Path) -> LoadedSettings:
        """The settings of one workspace folder: its own file, then the client's overrides."""
        from tandem.config import load_settings

        return load_settings(workspace=folder, overrides=self.overrides())
