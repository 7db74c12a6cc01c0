"""Fixtures of the slicing tests: a fresh repository folder and default settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from slice_repos import RepoBuilder, write_files

from tandem.config import Settings


@pytest.fixture
def make_repo(tmp_path: Path) -> RepoBuilder:
    """A function writing files into a fresh repository folder (no git) and returning it."""
    root = tmp_path / "repo"
    root.mkdir()
    return lambda files: write_files(root, files)


@pytest.fixture
def settings() -> Settings:
    return Settings()


@pytest.fixture(autouse=True)
def _fresh_parse_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no parsed file versions in memory and its own user cache (only
    what is on disk counts)."""
    from tandem.slicing.index import forget_parsed

    monkeypatch.setenv("TANDEM_CACHE_DIR", str(tmp_path / "user-cache"))
    forget_parsed()
