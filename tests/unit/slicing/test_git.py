"""The one git runner: what a review and a working-tree slice each ask git, and how git fails."""

from __future__ import annotations

from pathlib import Path

import pytest
from slice_repos import git, git_commit_all, write_files

from tandem.slicing.git import GitError, git_diff, run_git, tracked_changes, untracked_files


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = write_files(tmp_path / "repo", {"pkg/core.py": "x = 1\n", "top.py": "y = 1\n"})
    git_commit_all(root)
    return root


def test_a_review_diff_names_paths_from_the_top_of_the_work_tree(repo: Path) -> None:
    (repo / "pkg" / "core.py").write_text("x = 2\n")
    (repo / "top.py").write_text("y = 2\n")
    assert "+++ b/pkg/core.py" in git_diff(repo / "pkg", "HEAD")
    assert "+++ b/top.py" in git_diff(repo / "pkg", "HEAD")


def test_a_slice_diff_keeps_to_the_folder_and_names_paths_from_it(repo: Path) -> None:
    (repo / "pkg" / "core.py").write_text("x = 2\n")
    (repo / "top.py").write_text("y = 2\n")
    diff = tracked_changes(repo / "pkg", "HEAD")
    assert "+++ b/core.py" in diff
    assert "top.py" not in diff


def test_a_slice_diff_shows_a_renamed_file_as_a_removal_and_a_new_file(repo: Path) -> None:
    git(repo, "mv", "top.py", "moved.py")
    diff = tracked_changes(repo, "HEAD")
    assert "--- a/top.py\n+++ /dev/null" in diff
    assert "--- /dev/null\n+++ b/moved.py" in diff


def test_untracked_files_leave_out_ignored_ones(repo: Path) -> None:
    write_files(repo, {".gitignore": "*.log\n", "new.py": "z = 1\n", "run.log": "noise\n"})
    assert sorted(untracked_files(repo)) == [".gitignore", "new.py"]


def test_a_review_of_an_unchanged_tree_has_nothing_to_review(repo: Path) -> None:
    with pytest.raises(GitError, match="no changes since HEAD: nothing to review"):
        git_diff(repo, "HEAD")


def test_an_option_is_refused_as_a_revision_before_git_runs(repo: Path) -> None:
    with pytest.raises(GitError, match="'--output=x' is not a revision") as caught:
        git_diff(repo, "--output=x")
    assert caught.value.bad_revision
    assert not (repo / "x").exists()


def test_git_that_cannot_run_is_a_git_error_saying_why(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "")
    with pytest.raises(GitError, match="cannot run git: No such file or directory") as caught:
        run_git(repo, "status")
    assert isinstance(caught.value.not_run, OSError)
    assert not caught.value.bad_revision


def test_every_git_command_has_the_same_time_limit(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    limits: list[object] = []

    def hangs(command: list[str], **options: object) -> None:
        limits.append(options.get("timeout"))
        raise subprocess.TimeoutExpired(command, 60)

    monkeypatch.setattr(subprocess, "run", hangs)
    with pytest.raises(GitError, match="git diff took longer than 60 seconds") as caught:
        git_diff(repo, "HEAD")
    assert isinstance(caught.value.not_run, subprocess.TimeoutExpired)
    with pytest.raises(GitError):
        tracked_changes(repo, "HEAD")
    assert limits == [60, 60]
