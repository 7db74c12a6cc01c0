"""The repository walk, reused within a process while no walked folder changed.

A folder's mtime changes when an entry is added, removed or renamed in it, so a walk whose
folders (and nested ``.gitignore`` files) still carry the stamps they had is still the walk:
checking them costs one ``stat`` per folder instead of listing and filtering every file. A
stamp is trusted only when it is older than the walk by a settling margin (see
:func:`tandem.slicing.file_stamps.settled`): a change in the same timestamp tick as the walk would
keep the stamp. Content changes do not matter here: the walk lists names, not content.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tandem.slicing.file_stamps import Stamp, file_stamp, settled, settled_time
from tandem.slicing.files import RepoFiles, walk_repository

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec

    from tandem.slicing.exclusions import Exclusions

_LIMIT = 16  # repositories remembered per process


@dataclass(frozen=True)
class _Walk:
    spec: GitIgnoreSpec  # the root rules the walk started from (compiled once per process)
    uses: tuple[bool, bool]  # whether nested .gitignore and .tandemignore files count
    folders: tuple[tuple[str, int], ...]  # absolute folder path, mtime_ns
    ignores: tuple[tuple[str, Stamp], ...]  # nested ignore file path, stamp
    nested: tuple[GitIgnoreSpec, ...]  # the rules the walk added from nested ignore files
    sources: tuple[str, ...]  # the sources the walk added to the exclusions
    files: RepoFiles

    def current(self) -> bool:
        for path, mtime in self.folders:
            try:
                if os.stat(path).st_mtime_ns != mtime:  # noqa: PTH116 (one per folder, fast)
                    return False
            except OSError:
                return False
        return all(file_stamp(path) == stamp for path, stamp in self.ignores)


_WALKS: dict[str, _Walk] = {}


def forget_walks() -> None:
    """Drop the remembered walks (tests)."""
    _WALKS.clear()


def walk_repository_cached(repo: Path, exclusions: Exclusions) -> RepoFiles:
    """``walk_repository(repo, exclusions)``, reused while its folders are unchanged.

    As the walk does, the rules of nested ignore files are added to ``exclusions``.
    """
    if exclusions.nested:  # not the state a walk starts from: walk as asked
        return walk_repository(repo, exclusions)
    root = str(repo)
    found = _WALKS.get(root)
    if (
        found is not None
        and found.spec is exclusions.spec
        and found.uses == (exclusions.use_gitignore, exclusions.use_tandemignore)
        and found.current()
    ):
        exclusions.nested.extend(found.nested)
        exclusions.sources.extend(found.sources)
        return found.files.copy()
    walked_at = time.time_ns()
    known_sources = len(exclusions.sources)
    walk = walk_repository(repo, exclusions)
    added = tuple(exclusions.sources[known_sources:])
    if not _remember(root, walk, exclusions, added, walked_at):
        _WALKS.pop(root, None)
    return walk


def _remember(
    root: str, walk: RepoFiles, exclusions: Exclusions, added: tuple[str, ...], walked_at: int
) -> bool:
    folders: list[tuple[str, int]] = []
    ignores: list[tuple[str, Stamp]] = []
    for rel in walk.folders:
        path = f"{root}/{rel}" if rel else root
        try:
            mtime = os.stat(path).st_mtime_ns  # noqa: PTH116
        except OSError:
            return False
        if not settled_time(mtime, walked_at):  # a folder changed around the walk
            return False
        folders.append((path, mtime))
    for rel in walk.ignore_files:
        stamp = file_stamp(f"{root}/{rel}")
        if stamp is None or not settled(stamp, walked_at):
            return False
        ignores.append((f"{root}/{rel}", stamp))
    if len(_WALKS) >= _LIMIT:
        _WALKS.clear()
    _WALKS[root] = _Walk(
        exclusions.spec,
        (exclusions.use_gitignore, exclusions.use_tandemignore),
        tuple(folders),
        tuple(ignores),
        tuple(exclusions.nested),
        added,
        walk.copy(),
    )
    return True
