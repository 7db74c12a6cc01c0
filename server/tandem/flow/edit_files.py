"""The files a draft edits: read exactly (bytes kept), snapshotted with their units, written back.

A file is read as UTF-8 with its line endings untouched (``\\r\\n`` stays ``\\r\\n``), so an edit
changes only what it names. A binary file (a NUL byte near its start) or one that is not UTF-8 is
never decoded lossily: it is recorded as *unreadable*, with the reason, and every edit of it is
refused. In a persisted snapshot (``{path: text | None}``) such a file is a text that starts with
a NUL byte followed by the reason: no readable file can start that way, since a NUL makes a file
binary.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from tandem.slicing.codeunits import CodeUnit, find_units, language_for

_UNREADABLE = "\x00unreadable: "
BINARY_PROBE = 8000
"""Bytes looked at for a NUL (git's rule for telling binary files)."""


def unreadable_text(reason: str) -> str:
    """How an unreadable file is kept in a persisted snapshot."""
    return _UNREADABLE + reason


def unreadable_reason(text: str | None) -> str | None:
    """Why a snapshot text stands for an unreadable file, or None for a real text."""
    if text is None or not text.startswith(_UNREADABLE):
        return None
    return text[len(_UNREADABLE) :]


def decode_file(data: bytes) -> str:
    """The text of a file's bytes, or the unreadable marker (binary, not UTF-8)."""
    if b"\0" in data[:BINARY_PROBE]:
        return unreadable_text("a binary file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        return unreadable_text(f"not UTF-8 text (byte {error.start} is not valid UTF-8)")


def read_repo_file(file: Path) -> str | None:
    """A file's text exactly as stored; None when absent; the unreadable marker otherwise."""
    try:
        return decode_file(file.read_bytes()) if file.is_file() else None
    except OSError as error:
        return unreadable_text(f"unreadable ({error.strerror})")


def split_lines(text: str) -> list[str]:
    """Lines as tree-sitter counts them: each ends at ``\\n`` (``\\r\\n`` stays inside the line;
    a form feed or U+2028 does not end a line), the last may have no line break."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


@dataclass(frozen=True)
class FileSnapshot:
    """One file as it was when the task began; ``text`` is None when it does not exist or
    cannot be read as text (then ``unreadable`` says why)."""

    path: str
    text: str | None
    units: tuple[CodeUnit, ...] = ()
    unreadable: str | None = None

    @property
    def exists(self) -> bool:
        return self.text is not None or self.unreadable is not None

    def unit(self, name: str) -> CodeUnit | None:
        """The unit called ``name``; where two share it (a property's getter and setter), the
        first in the file, which is also the one the drafter is shown. Spaces around the name
        are not significant unless they tell two units apart."""
        exact = next((unit for unit in self.units if unit.name == name), None)
        if exact is not None:
            return exact
        return next((unit for unit in self.units if unit.name.strip() == name.strip()), None)

    def definitions(self) -> list[CodeUnit]:
        """The functions and classes (statements left out), as named to a model."""
        return [unit for unit in self.units if unit.is_definition]


@dataclass(frozen=True)
class Snapshot:
    files: dict[str, FileSnapshot]

    def get(self, path: str) -> FileSnapshot:
        return self.files.get(path, FileSnapshot(path=path, text=None))


def snapshot_text(path: str, text: str | None) -> FileSnapshot:
    """A file snapshot with its units found by tree-sitter (none for unsupported languages)."""
    reason = unreadable_reason(text)
    if reason is not None:
        return FileSnapshot(path=path, text=None, unreadable=reason)
    language = language_for(path)
    units = tuple(find_units(text, language, path)) if text is not None and language else ()
    return FileSnapshot(path=path, text=text, units=units)


def read_snapshot(repo: Path, paths: Iterable[str]) -> dict[str, str | None]:
    """Each safe repository-relative path as :func:`read_repo_file` reads it."""
    return {path: read_repo_file(repo / path) for path in sorted(set(paths)) if is_safe_path(path)}


def take_snapshot(repo: Path, paths: Iterable[str]) -> Snapshot:
    """Read each repository-relative path (missing files are recorded as absent)."""
    stored = read_snapshot(repo, paths)
    return files_snapshot({path: snapshot_text(path, text) for path, text in stored.items()})


def files_snapshot(files: dict[str, FileSnapshot]) -> Snapshot:
    return Snapshot(files=dict(files))


def is_safe_path(path: str) -> bool:
    """Repository-relative, forward slashes, never escaping the root (nor into ``.git``)."""
    if not path or path.startswith("/") or "\\" in path or ":" in path.split("/")[0]:
        return False
    parts = PurePosixPath(path).parts
    return ".." not in parts and ".git" not in parts and "\0" not in path


class WriteRefused(Exception):
    """A write that would overwrite or remove something it was not computed for."""


def write_files(repo: Path, files: dict[str, str], removed: Iterable[str] = ()) -> list[str]:
    """Write edited files under ``repo`` (bytes exactly as given, UTF-8) and remove the files
    ``removed`` names; returns the paths written or removed. Paths that are not safe repository
    paths are skipped; a path through a symbolic link refuses the whole write, before any file is
    touched."""
    for path in sorted({*files, *removed}):
        if is_safe_path(path) and not inside_repo(repo, path):
            raise WriteRefused(
                f"{path} leads outside the repository (a symbolic link); not written"
            )
    done: list[str] = []
    for path, text in sorted(files.items()):
        if not is_safe_path(path):
            continue
        target = repo / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8"))
        done.append(path)
    for path in sorted(set(removed) - set(files)):
        target = repo / path
        if is_safe_path(path) and target.is_file():
            target.unlink()
            done.append(path)
    return done


def inside_repo(repo: Path, path: str) -> bool:
    """Whether ``repo/path`` stays inside ``repo`` once symbolic links are followed (the file
    itself is never a link: writing would follow it)."""
    target = repo / path
    if target.is_symlink():
        return False
    return target.parent.resolve().is_relative_to(repo.resolve())
