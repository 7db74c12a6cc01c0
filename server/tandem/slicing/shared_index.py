"""Parsed file versions shared by all of a user's repositories: a SQLite store in the user cache.

A fresh checkout, a copy or a worktree of a repository holds mostly file versions already parsed
elsewhere; this store lets a cold slice of such a tree skip parsing them. Entries are keyed like
the repository cache (git blob id, language, test file or not) and hold units and identifiers
only, never source text. The file name carries the cache version, so a format change starts a
new store (and removes the stores of older versions). Any SQLite error turns the store off for
the process: slicing never depends on it.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from pathlib import Path
from typing import Any

log = logging.getLogger("tandem.slicing")

# Entries kept; the oldest are dropped beyond it (about 1-2 KB each).
MAX_ENTRIES = 200_000
_BATCH = 500  # keys per query (SQLite allows 999 parameters before 3.32)


def entry_json(entry: dict[str, Any]) -> str:
    """An entry as the stores keep it: compact JSON."""
    return json.dumps(entry, separators=(",", ":"))


class SharedIndex:
    """A lazily opened, content-addressed store of parsed file versions."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._broken = False

    def _open(self) -> sqlite3.Connection | None:
        if self._db is not None or self._broken:
            return self._db
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not self.path.exists():
                remove_older_versions(self.path)
            db = sqlite3.connect(str(self.path), timeout=2.0, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            # A cache: a commit need not wait for the disk (a power cut may lose the last
            # entries, never the store's consistency); a cold slice's write takes half the time.
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("CREATE TABLE IF NOT EXISTS parsed (key TEXT PRIMARY KEY, entry TEXT)")
        except (OSError, sqlite3.Error) as exc:
            self._off(exc)
            return None
        self._db = db
        return db

    def _off(self, exc: Exception) -> None:
        log.warning("the shared slicing cache %s is off: %s", self.path, exc)
        self._broken = True
        self._db = None

    def get(self, key: str) -> dict[str, Any] | None:
        """The entry stored under ``key``, or None."""
        return self.get_many([key]).get(key)

    def get_many(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        """The entries stored under any of ``keys``, by key (one query per 500 keys)."""
        db = self._open()
        out: dict[str, dict[str, Any]] = {}
        if db is None:
            return out
        try:
            for start in range(0, len(keys), _BATCH):
                chunk = keys[start : start + _BATCH]
                marks = ",".join("?" * len(chunk))
                query = f"SELECT key, entry FROM parsed WHERE key IN ({marks})"
                for key, text in db.execute(query, chunk):
                    entry = json.loads(text)
                    if isinstance(entry, dict):
                        out[key] = entry
        except (sqlite3.Error, ValueError) as exc:
            self._off(exc)
            return {}
        return out

    def put(self, texts: dict[str, str]) -> None:
        """Store entries serialised by :func:`entry_json` (the repository cache file is written
        from the same text) in one transaction; drop the oldest beyond :data:`MAX_ENTRIES`."""
        if not texts:
            return
        db = self._open()
        if db is None:
            return
        rows = list(texts.items())
        try:
            with db:
                db.execute("BEGIN")
                db.executemany("INSERT OR REPLACE INTO parsed (key, entry) VALUES (?, ?)", rows)
                db.execute(
                    "DELETE FROM parsed WHERE rowid <= (SELECT max(rowid) FROM parsed) - ?",
                    (MAX_ENTRIES,),
                )
        except sqlite3.Error as exc:
            self._off(exc)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


_VERSIONED = re.compile(r"^(?P<stem>.+-v)(?P<version>\d+)(?P<suffix>\.[a-z]+)(-wal|-shm)?$")


def remove_older_versions(path: Path) -> None:
    """Delete the caches an older cache version left beside ``path`` (``slicing-v4.sqlite``
    beside ``slicing-v5.sqlite``, ``index-v4.json`` beside ``index-v5.json``): nothing reads
    them again, and a store can be hundreds of megabytes. A newer version's is left alone."""
    mine = _VERSIONED.match(path.name)
    if mine is None:
        return
    for other in path.parent.iterdir():
        found = _VERSIONED.match(other.name)
        if (
            found is not None
            and found["stem"] == mine["stem"]
            and found["suffix"] == mine["suffix"]
            and int(found["version"]) < int(mine["version"])
        ):
            other.unlink(missing_ok=True)


def default_store(version: int) -> SharedIndex:
    """The store of this user (``slicing-v<version>.sqlite`` in the user cache folder)."""
    from tandem.cost.vocab_cache import user_cache_dir

    return SharedIndex(user_cache_dir() / f"slicing-v{version}.sqlite")
