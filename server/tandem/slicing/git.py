"""The one place Tandem runs git: one runner, one time limit, one error, and the questions asked.

Every caller goes through ``run_git``, so git runs in the repository folder, decodes its output
as UTF-8 (an invalid byte becomes U+FFFD instead of an exception) and gets the same time limit.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

GIT_TIMEOUT_SECONDS = 60
# Plain text for a diff parser: no colour codes, no external diff tool from the user's config.
_PLAIN_DIFF = ("diff", "--no-color", "--no-ext-diff")


class GitError(Exception):
    """git gave no usable answer: it could not run or finish, or it refused the question.

    ``bad_revision``: the caller passed something that is not a revision. ``not_run``: why git
    did not run or finish, as Python reported it (``None`` when git ran and refused).
    """

    def __init__(
        self,
        message: str,
        *,
        bad_revision: bool = False,
        not_run: OSError | subprocess.TimeoutExpired | None = None,
    ) -> None:
        super().__init__(message)
        self.bad_revision = bad_revision
        self.not_run = not_run


def run_git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``git ARGS`` in ``repo``, whatever its exit code; GitError when git cannot run or finish."""
    try:
        return subprocess.run(
            ["git", *args],
            cwd=repo,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except OSError as error:
        raise GitError(f"cannot run git: {error.strerror}", not_run=error) from error
    except subprocess.TimeoutExpired as error:
        raise GitError(
            f"git {args[0]} took longer than {GIT_TIMEOUT_SECONDS} seconds", not_run=error
        ) from error


def git_diff(repo: Path, *revisions: str) -> str:
    """The unified diff a review reads: the working tree against ``revisions``, or between two.

    Paths are relative to the top of the work tree and renames follow the user's git settings.
    """
    shown = " ".join(revisions)
    for revision in revisions:
        if revision.startswith("-"):
            raise GitError(f"{revision!r} is not a revision", bad_revision=True)
    done = run_git(repo, *_PLAIN_DIFF, *revisions)
    if done.returncode != 0:
        raise GitError(f"git diff {shown} failed: {first_line(done.stderr)}")
    if not done.stdout.strip():
        raise GitError(f"no changes since {shown}: nothing to review")
    return done.stdout


def inside_work_tree(repo: Path) -> bool:
    """Whether ``repo`` is inside a git work tree."""
    done = run_git(repo, "rev-parse", "--is-inside-work-tree")
    return done.returncode == 0 and done.stdout.strip() == "true"


def names_commit(repo: Path, revision: str) -> bool:
    """Whether ``revision`` names a commit of the repository."""
    done = run_git(repo, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    return done.returncode == 0


def tracked_changes(repo: Path, base: str) -> str:
    """The diff the slicer reads: tracked files of ``repo``'s folder against ``base``.

    Paths are relative to ``repo`` (``--relative``), and a renamed file is a removal plus a new
    file (``--no-renames``), so every line of a moved file counts as changed.
    """
    done = run_git(repo, *_PLAIN_DIFF, "--relative", "--no-renames", base, "--")
    if done.returncode != 0:
        raise GitError(f"git diff failed: {first_line(done.stderr)}")
    return done.stdout


def untracked_files(repo: Path) -> list[str]:
    """Files git neither tracks nor ignores, relative to ``repo`` (read even if git fails)."""
    return run_git(repo, "ls-files", "--others", "--exclude-standard").stdout.splitlines()


def first_line(stderr: str) -> str:
    """Git's reason, without the advice lines it adds below it."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[0] if lines else "no reason given"
