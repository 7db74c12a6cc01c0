"""The workspace folders a language server serves: per folder its settings, live slicing index,
ledger view and preview cache. Multi-root: a document belongs to the deepest folder holding it.

No LSP types here: the server's handlers translate URIs and positions and call this.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

if TYPE_CHECKING:
    from tandem.config import LoadedSettings, Settings
    from tandem.reports.status import LedgerView
    from tandem.session.preview import Preview
    from tandem.session.settings import SettingsState
    from tandem.slicing.live import LiveIndex
    from tandem.slicing.result import Slice

PREVIEW_CACHE_SIZE = 64
LOCATED_KEPT = 1024


def path_from_uri(uri: str) -> Path | None:
    """The local path of a ``file:`` URI (None for any other scheme)."""
    # urllib.request pulls in http.client and email: imported here, after ``initialize``
    from urllib.request import url2pathname

    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    # url2pathname unquotes on every platform: unquoting first would read a file named
    # ``%41.py`` as ``A.py``
    return Path(url2pathname(parsed.path))


def _index_inputs(settings: Settings) -> tuple[object, ...]:
    """The settings an index is built from: when these change the index is rebuilt."""
    return (settings.exclusions.model_dump_json(), settings.context.max_file_bytes)


@dataclass
class Folder:
    """One workspace folder."""

    root: Path
    loaded: LoadedSettings
    generation: int
    index: LiveIndex
    ledger: LedgerView
    previews: OrderedDict[tuple[object, ...], Preview] = field(default_factory=OrderedDict)

    @property
    def settings(self) -> Settings:
        return self.loaded.settings

    def relative(self, path: Path) -> str | None:
        """``path`` relative to the root with forward slashes, or None when outside."""
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except (ValueError, OSError):
            return None

    def slice(self, rel: str, start_line: int, end_line: int) -> Slice:
        """The slice of 1-based lines of ``rel``, open buffers as edited."""
        return self.index.slice(rel, start_line, end_line)

    def preview(
        self,
        rel: str,
        start_line: int,
        end_line: int,
        *,
        version: int | None,
        request: str | None = None,
    ) -> Preview:
        """The preview of a range, reused while the document's version and settings hold.

        Raises ``PreviewError`` when nothing can be previewed there.
        """
        from tandem.session.preview import build_preview

        key = (rel, version, self._place(rel, start_line, end_line), request)
        found = self.previews.get(key)
        if found is not None:
            self.previews.move_to_end(key)
            return found
        try:
            today = self.ledger.today_usd()
        except Exception:  # a broken ledger must not cost the user the preview
            from decimal import Decimal

            today = Decimal(0)
        result = build_preview(
            self.index,
            rel,
            start_line,
            end_line,
            request=request,
            history=self.ledger,
            today_usd=today,
        )
        self.previews[key] = result
        while len(self.previews) > PREVIEW_CACHE_SIZE:
            self.previews.popitem(last=False)
        return result

    def _place(self, rel: str, start_line: int, end_line: int) -> tuple[int, int]:
        """The lines a preview is cached under: for a single line, the innermost unit holding
        it, so moving the cursor inside a function reuses the function's preview."""
        from tandem.slicing.records import FileRecord

        if start_line != end_line:
            return start_line, end_line
        record = self.index.record(rel)
        if not isinstance(record, FileRecord):
            return start_line, end_line
        holding = [u for u in record.units if u.start_line <= start_line <= u.end_line]
        if not holding:
            return start_line, end_line
        unit = min(holding, key=lambda u: u.end_line - u.start_line)
        return unit.start_line, unit.end_line

    def changed(self) -> None:
        """Something the previews depend on changed (a buffer, a file, the ledger)."""
        self.previews.clear()


_SYSTEM_FOLDERS = (Path("/dev"), Path("/proc"), Path("/sys"))


def unindexable_reason(root: Path) -> str | None:
    """Why a workspace folder must not be walked (not a folder, a filesystem root, a system
    folder or the home folder), or None. An editor opened on ``/`` or ``~`` would otherwise make
    the index read the whole machine or every project of the user."""
    try:
        resolved = root.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop
        return "it cannot be resolved"
    if resolved.exists() and not resolved.is_dir():
        return "it is not a folder"
    if resolved == Path(resolved.anchor):
        return "it is the root of the filesystem"
    if any(resolved == folder or folder in resolved.parents for folder in _SYSTEM_FOLDERS):
        return "it is a system folder"
    try:
        home: Path | None = Path.home().resolve()
    except (OSError, RuntimeError, KeyError):  # no home folder can be determined
        home = None
    if resolved == home:
        return "it is your home folder"
    return None


class Workspaces:
    """Every folder the server serves, kept in step with the client's settings."""

    def __init__(self, settings_state: SettingsState) -> None:
        self.settings_state = settings_state
        self.folders: dict[Path, Folder] = {}
        self._located: dict[str, tuple[Path, str]] = {}
        """uri -> (folder root, relative path), so a hover does not resolve its path again."""

    def _new_folder(self, root: Path, loaded: LoadedSettings) -> Folder:
        # Imported here: the server starts (and answers initialize) before any grammar loads.
        from tandem.reports.status import LedgerView
        from tandem.slicing.live import LiveIndex

        return Folder(
            root=root,
            loaded=loaded,
            generation=self.settings_state.generation,
            index=LiveIndex(root, loaded.settings),
            ledger=LedgerView(loaded.settings, root),
        )

    def add(self, root: Path) -> Folder:
        self._located.clear()  # a deeper folder may now hold known documents
        root = root.resolve()
        if root not in self.folders:
            self.folders[root] = self._new_folder(root, self.settings_state.load_for(root))
        return self.folders[root]

    def remove(self, root: Path) -> None:
        self._located.clear()
        folder = self.folders.pop(root.resolve(), None)
        if folder is not None:
            folder.ledger.close()

    def refresh(self, folder: Folder) -> Folder:
        """Reload the folder's settings if the client's changed; rebuild its index if needed.

        The new index starts unbuilt (``index.ready`` is False); open buffers carry over.
        """
        if folder.generation == self.settings_state.generation:
            return folder
        loaded = self.settings_state.load_for(folder.root)
        if _index_inputs(loaded.settings) != _index_inputs(folder.settings):
            folder.loaded = loaded
            return self.rebuild(folder.root)
        folder.loaded = loaded
        folder.generation = self.settings_state.generation
        folder.index.settings = loaded.settings
        folder.ledger.close()
        folder.ledger = type(folder.ledger)(loaded.settings, folder.root)
        folder.changed()
        return folder

    def rebuild(self, root: Path) -> Folder:
        """A fresh, unbuilt index for the folder (its ignore files changed)."""
        old = self.folders[root]
        fresh = self._new_folder(root, old.loaded)
        fresh.index.open = old.index.open
        old.ledger.close()
        self.folders[root] = fresh
        return fresh

    def for_path(self, path: Path) -> Folder | None:
        """The deepest folder holding ``path`` (settings refreshed), or None."""
        try:
            resolved = path.resolve()
        except OSError:
            return None
        best: Folder | None = None
        for root, folder in self.folders.items():
            inside = resolved == root or root in resolved.parents
            if inside and (best is None or len(root.parts) > len(best.root.parts)):
                best = folder
        return self.refresh(best) if best is not None else None

    def for_uri(self, uri: str) -> Folder | None:
        path = path_from_uri(uri)
        return self.for_path(path) if path is not None else None

    def locate(self, uri: str) -> tuple[Folder, str] | None:
        """The folder of ``uri`` and the document's path relative to it."""
        known = self._located.get(uri)
        if known is not None and known[0] in self.folders:
            return self.refresh(self.folders[known[0]]), known[1]
        path = path_from_uri(uri)
        folder = self.for_path(path) if path is not None else None
        if folder is None or path is None:
            return None
        rel = folder.relative(path)
        if rel is None:
            return None
        if len(self._located) >= LOCATED_KEPT:
            self._located.clear()
        self._located[uri] = (folder.root, rel)
        return folder, rel

    def refresh_all(self) -> list[Folder]:
        return [self.refresh(folder) for folder in list(self.folders.values())]
