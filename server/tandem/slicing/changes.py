"""What an anchor changes: the changed files and lines of a range, a diff or the working tree.

Excluded files are named in ``excluded`` and never read; a diff that does not match the tree is a
``SliceError``.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path

from tandem.slicing.diff import Deletion, DiffError, FileDiff, check_hunks, parse_diff
from tandem.slicing.exclusions import Exclusions
from tandem.slicing.files import source_lines
from tandem.slicing.git import (
    GitError,
    inside_work_tree,
    names_commit,
    tracked_changes,
    untracked_files,
)
from tandem.slicing.languages import language_for_path
from tandem.slicing.result import Anchor, DiffAnchor, FileRangeAnchor, SliceError

EXCLUDED_NOTE = "excluded (settings globs, .gitignore or .tandemignore); not read"


@dataclass
class Change:
    """One changed file: its changed lines (new side), removals, and the text on both sides."""

    path: str
    lines: set[int] = field(default_factory=set)
    deletions: list[Deletion] = field(default_factory=list)
    added_text: list[str] = field(default_factory=list)
    override: str | None = None  # unsaved buffer text of a range anchor


def changes_from_anchor(
    repo: Path,
    anchor: Anchor,
    warnings: list[str],
    exclusions: Exclusions,
    excluded: set[str],
) -> list[Change]:
    """The changed files of ``anchor``; excluded files are listed in ``excluded``, never read."""

    def is_excluded(rel: str) -> bool:
        if exclusions.excluded(rel):
            excluded.add(rel)
            warnings.append(f"{rel}: {EXCLUDED_NOTE}")
            return True
        return False

    if isinstance(anchor, FileRangeAnchor):
        rel = _relative(repo, anchor.path)
        if anchor.end_line < anchor.start_line:
            raise SliceError(
                f"bad line range {anchor.start_line}-{anchor.end_line}: the end is before the start"
            )
        if is_excluded(rel):
            return []
        if anchor.text is None and not (repo / rel).is_file():
            raise SliceError(f"file not found in the repository: {rel}")
        return [
            Change(
                path=rel,
                lines=set(range(anchor.start_line, anchor.end_line + 1)),
                override=anchor.text,
            )
        ]
    diff_text = (
        anchor.diff
        if isinstance(anchor, DiffAnchor)
        else _working_tree_diff(repo, anchor.base, exclusions)
    )
    try:
        file_diffs = parse_diff(diff_text)
    except DiffError as exc:
        raise SliceError(str(exc)) from exc
    if diff_text.strip() and not file_diffs:
        raise SliceError(
            "the diff has no file headers (--- a/PATH / +++ b/PATH); is it a unified diff?"
        )
    changes: list[Change] = []
    for fd in file_diffs:
        if fd.new_path is None:
            continue  # a deleted file touches nothing that still exists
        rel = _relative(repo, fd.new_path)
        if is_excluded(rel):
            continue
        if _links_outside(repo, rel):
            warnings.append(f"{rel}: skipped, a symlink to outside the repository")
            continue
        if fd.binary:
            warnings.append(f"{fd.new_path}: binary change, not sliced")
            continue
        changes.append(_change_from_file_diff(repo, fd))
    return changes


def _relative(repo: Path, path: str) -> str:
    p = Path(path)
    if p.is_absolute():
        try:
            return p.resolve().relative_to(repo).as_posix()
        except ValueError as exc:
            raise SliceError(f"{path} is outside the repository {repo}") from exc
    rel = posixpath.normpath(p.as_posix())
    if rel == ".." or rel.startswith("../"):
        raise SliceError(f"{path} is outside the repository {repo}")
    return rel


def _links_outside(repo: Path, rel: str) -> bool:
    path = repo / rel
    try:
        return path.is_symlink() and not path.resolve().is_relative_to(repo)
    except (OSError, RuntimeError):
        return False  # a loop: reading it later reports the loop


def _change_from_file_diff(repo: Path, fd: FileDiff) -> Change:
    rel = _relative(repo, fd.path)
    path = repo / rel
    if not path.is_file():
        first = fd.hunks[0].header if fd.hunks else "(no hunk)"
        raise SliceError(
            f"diff does not match the tree: hunk {first!r} changes {rel}, which is not in {repo}"
        )
    if language_for_path(rel) is not None and fd.hunks:
        try:
            lines = source_lines(path.read_bytes().decode("utf-8", "replace"))
        except OSError as exc:
            raise SliceError(f"cannot read {rel}: {exc.strerror}") from exc
        try:
            check_hunks(fd, lines)
        except DiffError as exc:
            raise SliceError(str(exc)) from exc
    return Change(
        path=rel,
        lines=fd.added_lines(),
        deletions=fd.deletions(),
        added_text=fd.changed_text("+") + fd.changed_text("-"),
    )


def _working_tree_diff(repo: Path, base: str, exclusions: Exclusions) -> str:
    """The working tree against ``base`` as one diff: tracked changes, then each untracked
    source file as a new file."""
    try:
        if not inside_work_tree(repo):
            raise SliceError(
                f"{repo} is not a git repository, so --working-tree cannot work; "
                "use --diff FILE or --file F --lines A-B instead"
            )
        if base.startswith("-"):
            raise SliceError(f"bad base revision {base!r}")
        if not names_commit(repo, base):
            raise SliceError(f"unknown base revision {base!r} (try HEAD, a branch or a commit id)")
        diff = tracked_changes(repo, base)
        untracked = untracked_files(repo)
    except GitError as error:
        # git that could not run or finish is reported in Python's words, as it always was.
        detail = f"git failed: {error.not_run}" if error.not_run is not None else str(error)
        raise SliceError(detail) from error
    for rel in untracked:
        if not rel or language_for_path(rel) is None or exclusions.excluded(rel):
            continue  # an excluded untracked file is never read
        try:
            text = (repo / rel).read_bytes().decode("utf-8", "replace")
        except OSError:
            continue
        lines = source_lines(text)
        body = "".join(f"+{line}\n" for line in lines)
        diff += f"--- /dev/null\n+++ b/{rel}\n@@ -0,0 +1,{len(lines)} @@\n{body}"
    return diff
