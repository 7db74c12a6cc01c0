"""The per-repository index: units and identifiers of each file, cached by content hash.

Keys are git blob ids (sha1 of ``"blob <len>\\0" + bytes``), never mtimes, so a checkout, a
copy or a touch does not invalidate anything and a changed file is reparsed alone. The cache
lives in ``<repo>/.tandem/cache/`` (git-ignored, never committed).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tandem.slicing.callers import RepoSources, SourceLookup
from tandem.slicing.file_stamps import Stamp, file_stamp, settled
from tandem.slicing.files import SourceText, read_source, too_large
from tandem.slicing.languages import LanguageName, language_for_path
from tandem.slicing.records import FileRecord, blob_id, cache_key, parse_entry
from tandem.slicing.shared_index import (
    SharedIndex,
    default_store,
    entry_json,
    remove_older_versions,
)
from tandem.slicing.units import Unit

log = logging.getLogger("tandem.slicing")

CACHE_VERSION = 5
CACHE_FILE = f"index-v{CACHE_VERSION}.json"


def _cache_key(rec: FileRecord) -> str:
    return cache_key(rec.blob, rec.path, rec.language)


@dataclass(frozen=True, slots=True)
class _Parsed:
    """What parsing a file version yields, shared by every record of that version."""

    units: list[Unit]
    idents: list[frozenset[str]]
    has_errors: bool


# Parsed file versions of this process, by cache key: a server slicing again and again pays
# neither for reading the cache file nor for rebuilding units and identifier sets.
_PARSED: dict[str, _Parsed] = {}
_PARSED_LIMIT = 50_000


def _remember(key: str, parsed: _Parsed) -> None:
    if len(_PARSED) >= _PARSED_LIMIT:
        _PARSED.clear()
    _PARSED[key] = parsed


def forget_parsed() -> None:
    """Drop this process's parsed file versions (tests use it to exercise the cache file)."""
    _PARSED.clear()
    _SEEN_RECORDS.clear()
    _SEEN_TEXTS.clear()


# What a file's stat says about its content, as git's index does: a file whose stamp (see
# ``file_stamps``) did not change since it was read is not read and hashed again by a later
# RepoIndex of this process. The cache stays keyed by blob id; this only skips rereading.
_SEEN_LIMIT = 50_000
_SEEN_RECORDS: dict[tuple[str, int, str], tuple[Stamp, FileRecord | str]] = {}
_SEEN_TEXTS: dict[tuple[str, int, str], tuple[Stamp, str | None]] = {}


def _seen_put(memo: dict[tuple[str, int, str], Any], key: tuple[str, int, str], value: Any) -> None:
    if len(memo) >= _SEEN_LIMIT:
        memo.clear()
    memo[key] = value


class RepoIndex:
    """Lazily parsed, content-addressed file records for one repository."""

    def __init__(self, repo: Path, max_file_bytes: int, *, persist: bool = True) -> None:
        self.repo = repo
        self._root = repo.resolve()
        self.max_file_bytes = max_file_bytes
        self.persist = persist
        self._cache: dict[str, dict[str, Any]] = {}
        self._loaded = not persist  # the cache file is read on the first memory miss
        self._dirty = False
        self._records: dict[str, FileRecord | str] = {}
        self._seen_key = (str(repo), max_file_bytes)
        # Parsed versions shared with the user's other trees (user cache); new ones go there too.
        self._shared: SharedIndex | None = default_store(CACHE_VERSION) if persist else None
        self._new: dict[str, dict[str, Any]] = {}
        # Files read by ``prefetch`` and not yet made records: stamp, read time, content.
        self._ahead: dict[str, tuple[Stamp | None, int, SourceText | str]] = {}
        self.stats = {"hits": 0, "parsed": 0}

    @property
    def cache_path(self) -> Path:
        return self.repo / ".tandem" / "cache" / CACHE_FILE

    def _load(self) -> None:
        self._loaded = True
        try:
            raw = json.loads(self.cache_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if isinstance(raw, dict) and raw.get("version") == CACHE_VERSION:
            blobs = raw.get("blobs")
            if isinstance(blobs, dict):
                self._cache = blobs

    def save(self) -> None:
        """Write the cache (only blobs still present are kept) if anything new was parsed."""
        if not self.persist or not self._dirty:
            return
        texts = {key: entry_json(entry) for key, entry in self._new.items()}
        if self._shared is not None:
            self._shared.put(texts)
            self._new = {}
        live = {_cache_key(r) for r in self._records.values() if isinstance(r, FileRecord)}
        blobs = {k: v for k, v in self._cache.items() if k in live or len(self._cache) < 20000}
        # Each new entry is serialised once, for both stores; joined, the text is the one
        # json.dumps(..., separators=(",", ":")) gives for the whole object.
        body = ",".join(
            f"{json.dumps(k)}:{texts.get(k) or entry_json(v)}" for k, v in blobs.items()
        )
        try:
            self.cache_path.parent.mkdir(parents=True, exist_ok=True)
            ignore = self.cache_path.parent / ".gitignore"
            if not ignore.exists():  # the cache is never committed, whatever the repo ignores
                ignore.write_text("# Tandem's slicing cache; never committed.\n*\n")
            if not self.cache_path.exists():
                remove_older_versions(self.cache_path)
            tmp = self.cache_path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(f'{{"version":{CACHE_VERSION},"blobs":{{{body}}}}}', encoding="utf-8")
            tmp.replace(self.cache_path)
        except OSError as exc:
            log.warning("could not write the slicing cache %s: %s", self.cache_path, exc)

    def forget(self, rel: str) -> None:
        """Drop what is known of ``rel`` (it changed or went away on disk); reread on next use."""
        self._records.pop(rel, None)
        self._ahead.pop(rel, None)
        _SEEN_RECORDS.pop((*self._seen_key, rel), None)
        _SEEN_TEXTS.pop((*self._seen_key, rel), None)

    def known(self, rel: str) -> FileRecord | str | None:
        """The disk record of ``rel`` if this index already holds it (no file is read)."""
        return self._records.get(rel)

    def source_text(self, rel: str) -> str | None:
        """The text the caller search reads (at most ``max_file_bytes``, no NUL byte in the
        first 8,000 bytes, invalid UTF-8 replaced); None when unreadable or skipped.

        The record this index holds, or a text read earlier in this process whose file stamp
        did not change, is reused: a repeated slice does not reread thousands of files.
        """
        known = self._records.get(rel)
        if isinstance(known, FileRecord):
            return known.text
        key = (*self._seen_key, rel)
        path = f"{key[0]}/{rel}"
        stamp = file_stamp(path)
        if stamp is not None:
            seen = _SEEN_RECORDS.get(key)
            if seen is not None and seen[0] == stamp and isinstance(seen[1], FileRecord):
                return seen[1].text
            seen_text = _SEEN_TEXTS.get(key)
            if seen_text is not None and seen_text[0] == stamp:
                return seen_text[1]
        read_at = time.time_ns()
        try:
            with open(path, "rb") as handle:  # noqa: PTH123 (a str path: no Path per file)
                data = handle.read()
        except OSError:
            return None
        text = None
        if len(data) <= self.max_file_bytes and b"\0" not in data[:8000]:
            text = data.decode("utf-8", "replace")
        if stamp is not None and settled(stamp, read_at):
            _seen_put(_SEEN_TEXTS, key, (stamp, text))
        return text

    def sources(self, files: list[str], families: set[str]) -> SourceLookup:
        """The non-test source files the related-test ranking searches for callers."""
        return RepoSources(self, files, families)

    def whole_tokens(self, text: str) -> int:
        """Tokens of a whole file, the figure a slice is compared with."""
        from tandem.cost.tokens import count_tokens

        return count_tokens(text)

    def record(self, rel: str, override: str | None = None) -> FileRecord | str:
        """The record of ``rel`` (or a warning string when it is skipped)."""
        if override is None and rel in self._records:
            return self._records[rel]
        language = language_for_path(rel)
        if language is None:
            return f"{rel}: language not supported for slicing"
        if override is not None:
            if len(override) > self.max_file_bytes:  # never encoded, hashed or parsed
                return too_large(rel, len(override), self.max_file_bytes, counted_chars=True)
            data = override.encode("utf-8")
            if len(data) > self.max_file_bytes:
                return too_large(rel, len(data), self.max_file_bytes)
            return self._from_source(rel, language, SourceText(data=data, text=override))
        found = self._from_disk(rel, language)
        self._records[rel] = found
        return found

    def prefetch(self, rels: Iterable[str]) -> None:
        """Ready the records of ``rels`` together: each file is read once here, and the
        versions this process and the cache file lack are asked of the shared store in one
        query (not one per file); those it lacks too are parsed. ``record`` then builds the
        records from what this left ready."""
        pending: dict[str, tuple[str, bytes, LanguageName]] = {}
        for rel in rels:
            language = language_for_path(rel)
            if language is None or rel in self._records or rel in self._ahead:
                continue
            stamp = file_stamp(f"{self._seen_key[0]}/{rel}")
            seen = _SEEN_RECORDS.get((*self._seen_key, rel))
            if stamp is not None and seen is not None and seen[0] == stamp:
                continue  # this process knows it
            read_at = time.time_ns()
            src = read_source(self.repo / rel, rel, self.max_file_bytes, self._root)
            self._ahead[rel] = (stamp, read_at, src)
            if not isinstance(src, str):
                key = cache_key(blob_id(src.data), rel, language)
                if key not in _PARSED:
                    pending[key] = (rel, src.data, language)
        if not self._loaded and pending:
            self._load()
        missing = [key for key in pending if key not in self._cache]
        if missing and self._shared is not None:
            found = self._shared.get_many(missing)
            if found:  # kept in this repository's cache file too
                self._cache.update(found)
                self._dirty = True
            missing = [key for key in missing if key not in found]
        for key in missing:
            self._parse_new(key, *pending[key])

    def _from_disk(self, rel: str, language: LanguageName) -> FileRecord | str:
        key = (*self._seen_key, rel)
        ahead = self._ahead.pop(rel, None)
        stamp = file_stamp(f"{key[0]}/{rel}")
        if ahead is not None and stamp is not None and ahead[0] == stamp:
            _, read_at, src = ahead  # read by prefetch, and unchanged since
        else:
            if stamp is not None:
                seen = _SEEN_RECORDS.get(key)
                if seen is not None and seen[0] == stamp:
                    if isinstance(seen[1], FileRecord):
                        self.stats["hits"] += 1
                    return seen[1]
            read_at = time.time_ns()
            src = read_source(self.repo / rel, rel, self.max_file_bytes, self._root)
        found = src if isinstance(src, str) else self._from_source(rel, language, src)
        if stamp is not None and settled(stamp, read_at):
            _seen_put(_SEEN_RECORDS, key, (stamp, found))
        return found

    def _from_source(self, rel: str, language: LanguageName, src: SourceText) -> FileRecord:
        blob = blob_id(src.data)
        key = cache_key(blob, rel, language)
        parsed = _PARSED.get(key)
        if parsed is None:
            if not self._loaded:
                self._load()
            cached = self._cache.get(key)
            if cached is None and self._shared is not None:
                cached = self._shared.get(key)
                if cached is not None:  # kept in this repository's cache file too
                    self._cache[key] = cached
                    self._dirty = True
            if cached is not None:
                parsed = _Parsed(
                    [Unit(*u) for u in cached["units"]],
                    [frozenset(s.split()) for s in cached["idents"]],
                    bool(cached["errors"]),
                )
                _remember(key, parsed)
        if parsed is not None:
            self.stats["hits"] += 1
        else:
            parsed = self._parse_new(key, rel, src.data, language)
        return FileRecord(
            rel,
            blob,
            language,
            parsed.units,
            parsed.idents,
            parsed.has_errors,
            src.text,
            src.warning,
        )

    def _parse_new(self, key: str, rel: str, data: bytes, language: LanguageName) -> _Parsed:
        """Parse a version no cache holds; its entry goes to the caches."""
        self.stats["parsed"] += 1
        entry, units, idents = parse_entry(rel, data, language)
        self._cache[key] = self._new[key] = entry
        self._dirty = True
        parsed = _Parsed(units, idents, bool(entry["errors"]))
        _remember(key, parsed)
        return parsed
