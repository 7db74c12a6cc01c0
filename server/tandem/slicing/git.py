"""``git diff`` as the text a review reads, or a clear reason why there is none."""

from __future__ import annotations

import subprocess
from pathlib import Path


class GitDiffError(Exception):
    """No diff to review; ``bad_revision`` when the caller passed something that is not one."""

    def __init__(self, message: str, *, bad_revision: bool = False) -> None:
        super().__init__(message)
        self.bad_revision = bad_revision


def git_diff(repo: Path, *revisions: str) -> str:
    """The unified diff of the working tree against ``revisions`` (or between two of them)."""
    shown = " ".join(revisions)
    for revision in revisions:
        if revision.startswith("-"):
            raise GitDiffError(f"{revision!r} is not a revision", bad_revision=True)
    try:
        done = subprocess.run(
            ["git", "diff", "--no-color", "--no-ext-diff", *revisions],
            cwd=repo,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as error:
        raise GitDiffError(f"cannot run git: {error.strerror}") from error
    if done.returncode != 0:
        raise GitDiffError(f"git diff {shown} failed: {done.stderr.strip()}")
    if not done.stdout.strip():
        raise GitDiffError(f"no changes since {shown}: nothing to review")
    return done.stdout
