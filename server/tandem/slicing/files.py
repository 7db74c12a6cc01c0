"""Reading repository files safely and walking the repository within its exclusions.

Skipped with a warning, never read into a slice: binary files (a NUL byte), files over the size
limit, minified bundles (very long lines), unreadable paths and symlink loops. Invalid UTF-8 is
decoded with replacement characters and a warning.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tandem.slicing.exclusions import IGNORE_FILES
from tandem.slicing.languages import LanguageName, language_for_path

if TYPE_CHECKING:
    from tandem.slicing.exclusions import Exclusions

MINIFIED_LINE_CHARS = 5000  # a line this long may be generated or minified code...
MINIFIED_SHARE = 0.5  # ...and such lines holding this share of the file mean it is,
MINIFIED_LINE_RATIO = 20  # when they are also more than one line in this many
_SKIP_DIRS = frozenset({".git", ".hg", ".svn", ".tandem", "__pycache__"})


def _mostly_long_lines(data: bytes) -> bool:
    """True for a bundle or generated file; a real source file with one long literal (a test
    with a long fixture string, even one holding most of the file's bytes) is still code worth
    slicing: long lines must also be more than one line in ``MINIFIED_LINE_RATIO``."""
    lines = data.split(b"\n")
    long_lines = [len(line) for line in lines if len(line) > MINIFIED_LINE_CHARS]
    many = len(long_lines) * MINIFIED_LINE_RATIO > len(lines)
    return many and sum(long_lines) > len(data) * MINIFIED_SHARE


def source_lines(text: str) -> list[str]:
    """The lines of ``text`` as tree-sitter numbers them: split at "\\n" only.

    ``str.splitlines`` also splits at form feeds, "\\x1c" and "\\u2028", which would shift every
    later line number against the parse tree's rows. A "\\r" before the newline is dropped.
    """
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if "\r" not in text:  # the common case: no per-line pass over a large file
        return lines
    return [line[:-1] if line.endswith("\r") else line for line in lines]


@dataclass(frozen=True)
class SourceText:
    """A file's content as bytes (what tree-sitter parses) and as text."""

    data: bytes
    text: str
    warning: str | None = None  # set when the text needed replacement characters


def too_large(rel: str, size: int, max_bytes: int, *, counted_chars: bool = False) -> str:
    """The warning for a file (or an editor buffer) over ``context.max_file_bytes``.

    ``counted_chars``: ``size`` is a count of characters (a buffer over the limit is never
    encoded), so its UTF-8 is at least that many bytes."""
    amount = f"at least {size:,} bytes" if counted_chars else f"{size:,} bytes"
    return (
        f"{rel}: skipped, too large to slice: {amount} is over context.max_file_bytes "
        f"({max_bytes:,}); raise it in tandem.toml to slice this file"
    )


def read_source(path: Path, rel: str, max_bytes: int, root: Path | None = None) -> SourceText | str:
    """The file's content, or a warning string saying why it is skipped.

    With ``root`` (the resolved repository folder), a symlink whose target lies outside it is
    skipped: a link to ``~/.aws/credentials`` must not smuggle a secret into a slice.
    """
    try:
        if root is not None and path.is_symlink():
            try:
                target = path.resolve(strict=True)
            except RuntimeError:  # Python < 3.13 reports a loop this way
                return f"{rel}: skipped, symlink loop"
            if not target.is_relative_to(root):
                return f"{rel}: skipped, a symlink to outside the repository"
        size = path.stat().st_size
    except OSError as exc:
        if exc.errno == 40:  # ELOOP
            return f"{rel}: skipped, symlink loop"
        return f"{rel}: skipped, cannot read ({exc.strerror})"
    if size > max_bytes:
        return too_large(rel, size, max_bytes)
    try:
        data = path.read_bytes()
    except OSError as exc:
        if exc.errno == 40:
            return f"{rel}: skipped, symlink loop"
        return f"{rel}: skipped, cannot read ({exc.strerror})"
    return decode_source(data, rel)


def decode_source(data: bytes, rel: str) -> SourceText | str:
    """Validate and decode file bytes (see the module docstring for the rules)."""
    if b"\0" in data[:8192]:
        return f"{rel}: skipped, binary file"
    if len(data) > MINIFIED_LINE_CHARS and _mostly_long_lines(data):
        return (
            f"{rel}: skipped, looks minified or generated "
            f"(mostly lines over {MINIFIED_LINE_CHARS} characters)"
        )
    try:
        return SourceText(data=data, text=data.decode("utf-8"))
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        return SourceText(
            data=text.encode("utf-8"),
            text=text,
            warning=f"{rel}: invalid UTF-8, decoded with replacement characters",
        )


@dataclass
class RepoFiles:
    """The supported-language files of a repository and what the walk left out."""

    files: list[str] = field(default_factory=list)  # repository-relative, sorted
    excluded: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    languages: dict[str, LanguageName] = field(default_factory=dict)  # of each file in files
    folders: list[str] = field(default_factory=list)  # walked, "" for the root, walk order
    ignore_files: list[str] = field(default_factory=list)  # in walked folders but the root

    def copy(self) -> RepoFiles:
        """A copy whose lists a caller may change without touching this one."""
        return RepoFiles(
            list(self.files),
            list(self.excluded),
            list(self.warnings),
            dict(self.languages),
            list(self.folders),
            list(self.ignore_files),
        )


class NotAProject(Exception):
    """A walk met its bound of files without finding one it could slice."""


def walk_repository(
    repo: Path, exclusions: Exclusions, max_excluded: int = 200, *, give_up_after: int = 0
) -> RepoFiles:
    """Every supported-language file not excluded; symlinked folders are not followed.

    ``excluded`` lists excluded files of any language and excluded folders (with a trailing
    slash, their content unlisted), at most ``max_excluded`` entries. With ``give_up_after``,
    a walk that has seen that many files without one to slice raises :class:`NotAProject`.
    """
    out = RepoFiles()
    root = str(repo)
    skip = len(root) + 1
    seen = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        rel_dir = dirpath[skip:].replace(os.sep, "/") if len(dirpath) > len(root) else ""
        if rel_dir:
            for ignore_file in IGNORE_FILES:  # before the folder's own entries are checked
                if ignore_file in filenames:
                    exclusions.add_nested_ignore(repo, rel_dir, ignore_file)
        prefix = f"{rel_dir}/" if rel_dir else ""
        kept = []
        for d in sorted(dirnames):
            if d in _SKIP_DIRS:
                continue
            rel = prefix + d
            if exclusions.excluded(rel, is_dir=True):
                if len(out.excluded) < max_excluded:
                    out.excluded.append(rel + "/")
                continue
            kept.append(d)
        dirnames[:] = kept
        for name in filenames:
            rel = prefix + name
            if exclusions.excluded(rel):
                # Listed whatever the language: the slice says which secrets it left out.
                if len(out.excluded) < max_excluded:
                    out.excluded.append(rel)
                continue
            language = language_for_path(name)
            if language is not None:
                out.files.append(rel)
                out.languages[rel] = language
        seen += len(filenames)
        if give_up_after and seen > give_up_after and not out.files:
            raise NotAProject(f"no file to slice among the first {give_up_after:,} files")
        # What a reused walk checks for changes (tandem.slicing.walkcache).
        out.folders.append(rel_dir)
        if rel_dir:
            out.ignore_files += [prefix + n for n in IGNORE_FILES if n in filenames]
    out.files.sort()
    out.excluded.sort()
    return out
