"""Every unit id a slice gives the planner names a unit the draft's edits can replace, at the
line the slice showed, in every language (the flow's snapshot and the slice share one finder)."""

from __future__ import annotations

import pytest
from slice_repos import GO_REPO, JAVA_REPO, PYTHON_REPO, RUST_REPO, TS_REPO, RepoBuilder

from tandem.config import Settings
from tandem.flow.edits import take_snapshot
from tandem.slicing.languages import language_for_path
from tandem.slicing.result import FileRangeAnchor
from tandem.slicing.slicer import slice_repository

REPOS = {"python": PYTHON_REPO, "ts": TS_REPO, "go": GO_REPO, "rust": RUST_REPO, "java": JAVA_REPO}


@pytest.mark.parametrize("repo_name", sorted(REPOS))
def test_every_touched_unit_of_a_slice_resolves_in_the_edit_snapshot(
    repo_name: str, make_repo: RepoBuilder, settings: Settings
) -> None:
    files = REPOS[repo_name]
    repo = make_repo(files)
    sources = [path for path in files if language_for_path(path) is not None]
    checked = 0
    for path in sources:
        for line, _ in enumerate((repo / path).read_text().splitlines(), start=1):
            anchor = FileRangeAnchor(path=path, start_line=line, end_line=line)
            context = slice_repository(repo, anchor, settings)
            snapshot = take_snapshot(repo, {unit.path for unit in context.touched})
            for touched in context.touched:
                file = snapshot.get(touched.path)
                named = [u for u in file.units if u.name == touched.name]
                assert named, f"{touched.path}::{touched.name}"
                assert touched.start_line in [u.start_line for u in named]
                # Where a name is shared (a struct and its impl blocks), the first is edited.
                assert file.unit(touched.name) == named[0]
                checked += 1
    assert checked > len(sources)
