"""The one Session owning every piece of state the language server keeps between messages.

Handlers get it as ``ls.session``; nothing else holds server state (no module globals, no state
captured in closures). The open documents' text is pygls' (``ls.workspace``), as the protocol
keeps it; everything Tandem adds lives here:

- settings: the file, initializationOptions and client configuration (``settings_state``);
- folders: per workspace folder its settings, live slicing index, ledger view and previews;
- background work: index builds per folder, folders refused for indexing, warm-ups;
- the flow: each folder's task catalog, the providers made for it, the review findings shown as
  diagnostics, and drafts kept to re-apply.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tandem.session.settings import SettingsState
from tandem.session.workspaces import Workspaces

if TYPE_CHECKING:  # the flow's modules load after ``initialize`` is answered (issue 18)
    from tandem.config import ModelSettings
    from tandem.lsp.flow_tasks import TaskCatalog
    from tandem.lsp.review_diagnostics import PlacedFinding
    from tandem.providers.base import Provider


@dataclass
class Session:
    """All mutable state of one running server."""

    settings_state: SettingsState = field(default_factory=SettingsState)
    workspaces: Workspaces = field(init=False)
    """Per workspace folder: settings, live slicing index, ledger view (``for_uri``)."""

    index_builds: dict[Path, asyncio.Task[None]] = field(default_factory=dict)
    """The background index build of each folder root (running or done)."""
    unindexable_warned: set[Path] = field(default_factory=set)
    """Folder roots refused for indexing (a filesystem root...), warned about once."""
    warm_ups: set[asyncio.Future[None]] = field(default_factory=set)
    """Warm-ups running in a thread after ``initialized`` (kept so they are not collected)."""

    catalogs: dict[Path, TaskCatalog] = field(default_factory=dict)
    providers: dict[tuple[str, str], Provider] = field(default_factory=dict)
    findings: dict[str, list[PlacedFinding]] = field(default_factory=dict)
    """Document uri → the review findings published on it."""
    kept_drafts: dict[str, Path] = field(default_factory=dict)
    """Task id → workspace root, for drafts refused on a stale version (to re-apply)."""

    def __post_init__(self) -> None:
        self.workspaces = Workspaces(self.settings_state)

    def catalog(self, root: Path) -> TaskCatalog:
        if root not in self.catalogs:
            from tandem.flow.taskstore import TaskStore
            from tandem.lsp.flow_tasks import TaskCatalog

            self.catalogs[root] = TaskCatalog(TaskStore(root))
        return self.catalogs[root]

    def provider_for(self, root: Path, alias: str, model: ModelSettings) -> Provider:
        """One provider per root and model settings for the server's life: a fake provider's
        queue of replies carries over from one command to the next, and aliases with the same
        settings share it (as ``--fake-replies`` does in the CLI)."""
        key = (str(root), model.model_dump_json())
        if key not in self.providers:
            from tandem.providers.registry import build_provider, configured_replies

            self.providers[key] = build_provider(
                alias, model, dict(os.environ), fake_replies=configured_replies(model, root)
            )
        return self.providers[key]
