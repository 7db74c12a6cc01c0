"""Repeated slices in one process reuse what did not change: the walk while no folder changed,
a file's record and text while its stat did not change. Anything changed is read again, and a
change too recent to be told apart by timestamps is never trusted."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from slice_repos import PYTHON_REPO, RepoBuilder

from tandem.config import Settings
from tandem.slicing import file_stamps, slice_repository, walkcache
from tandem.slicing import index as index_module
from tandem.slicing.exclusions import Exclusions
from tandem.slicing.files import walk_repository
from tandem.slicing.index import RepoIndex
from tandem.slicing.records import FileRecord
from tandem.slicing.result import FileRangeAnchor

MAX = 2_000_000
SCALE = FileRangeAnchor(path="pkg/shapes.py", start_line=20, end_line=20)  # inside scale()
HOUR_AGO = time.time() - 3600


@pytest.fixture(autouse=True)
def _no_walks() -> None:
    walkcache.forget_walks()


def backdate_folders(repo: Path) -> None:
    """Folders as if written an hour ago (a folder's stamp is its mtime, which can be set)."""
    for folder in [repo, *(p for p in repo.rglob("*") if p.is_dir())]:
        os.utime(folder, (HOUR_AGO, HOUR_AGO))


def count_walks(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    walked: list[Path] = []

    def counting(repo: Path, exclusions: Exclusions) -> object:
        walked.append(repo)
        return walk_repository(repo, exclusions)

    monkeypatch.setattr(walkcache, "walk_repository", counting)
    return walked


def test_the_walk_is_reused_until_a_folder_changes(
    make_repo: RepoBuilder, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo({**PYTHON_REPO, ".tandem/cache/.keep": ""})
    backdate_folders(repo)
    walked = count_walks(monkeypatch)
    first = slice_repository(repo, SCALE, settings)
    again = slice_repository(repo, SCALE, settings)
    assert len(walked) == 1
    assert again.model_dump() == first.model_dump()

    (repo / "tests" / "test_scaling.py").write_text(
        "from pkg.shapes import scale\n\n\ndef test_scale_by_three():\n    assert scale(1, 3)\n"
    )
    after = slice_repository(repo, SCALE, settings)
    assert len(walked) == 2
    assert "test_scale_by_three" in [t.name for t in after.tests]


@pytest.mark.parametrize("ignore_file", [".gitignore", ".tandemignore"])
def test_a_reused_walk_applies_nested_ignore_files_until_one_changes(
    make_repo: RepoBuilder, settings: Settings, monkeypatch: pytest.MonkeyPatch, ignore_file: str
) -> None:
    repo = make_repo(
        {**PYTHON_REPO, f"vendor/{ignore_file}": "copy.py\n", "vendor/copy.py": "def scale():\n"}
    )
    backdate_folders(repo)
    monkeypatch.setattr(file_stamps, "SETTLED_NS", -(10**12))  # the .gitignore's ctime is now
    walked = count_walks(monkeypatch)
    anchor = FileRangeAnchor(path="vendor/copy.py", start_line=1, end_line=1)
    for _ in range(2):
        result = slice_repository(repo, anchor, settings)
        assert result.touched == [] and "vendor/copy.py" in result.excluded
    assert len(walked) == 1

    (repo / "vendor" / ignore_file).write_text("# nothing ignored\n")  # folder mtime kept
    os.utime(repo / "vendor", (HOUR_AGO, HOUR_AGO))
    result = slice_repository(repo, anchor, settings)
    assert len(walked) == 2 and "vendor/copy.py" not in result.excluded


def test_a_folder_changed_just_before_the_walk_is_walked_again(
    make_repo: RepoBuilder, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(PYTHON_REPO)  # folders written now: their stamps cannot vouch yet
    walked = count_walks(monkeypatch)
    slice_repository(repo, SCALE, settings)
    slice_repository(repo, SCALE, settings)
    assert len(walked) == 2


def test_records_are_reused_while_the_file_stat_is_unchanged(
    make_repo: RepoBuilder, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(PYTHON_REPO)
    monkeypatch.setattr(file_stamps, "SETTLED_NS", -(10**12))  # as if read a while later
    first = RepoIndex(repo, MAX, persist=False).record("pkg/shapes.py")
    reads: list[str] = []
    real_read = index_module.read_source
    monkeypatch.setattr(index_module, "read_source", lambda *a: reads.append(a[1]) or real_read(*a))
    second = RepoIndex(repo, MAX, persist=False)
    assert second.record("pkg/shapes.py") is first
    assert second.stats == {"hits": 1, "parsed": 0} and reads == []

    shapes = repo / "pkg" / "shapes.py"
    shapes.write_text(shapes.read_text() + "\n\ndef added():\n    return 1\n")
    third = RepoIndex(repo, MAX, persist=False).record("pkg/shapes.py")
    assert reads == ["pkg/shapes.py"]
    assert isinstance(third, FileRecord) and "added" in {u.name for u in third.units}


def test_a_file_rewritten_right_after_a_read_is_read_again(make_repo: RepoBuilder) -> None:
    repo = make_repo({"pkg/a.py": "def one():\n    return 1\n"})
    first = RepoIndex(repo, MAX, persist=False).record("pkg/a.py")
    (repo / "pkg" / "a.py").write_text("def two():\n    return 2\n")  # same size, same tick
    second = RepoIndex(repo, MAX, persist=False).record("pkg/a.py")
    assert isinstance(first, FileRecord) and isinstance(second, FileRecord)
    assert [u.name for u in second.units] == ["two"]


def test_the_caller_search_text_follows_the_file(
    make_repo: RepoBuilder, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo({"pkg/a.py": "def one():\n    return 1\n"})
    monkeypatch.setattr(file_stamps, "SETTLED_NS", -(10**12))
    assert RepoIndex(repo, MAX).source_text("pkg/a.py") == "def one():\n    return 1\n"
    (repo / "pkg" / "a.py").write_text("def one():\n    return 11\n")
    assert RepoIndex(repo, MAX).source_text("pkg/a.py") == "def one():\n    return 11\n"
    (repo / "pkg" / "a.py").write_bytes(b"\0binary")
    assert RepoIndex(repo, MAX).source_text("pkg/a.py") is None
