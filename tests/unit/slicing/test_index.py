"""The index: content-addressed (git blob ids), persisted under .tandem/cache, reparsing only
what changed; open documents reparse incrementally and agree with a fresh parse."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slice_repos import (
    GO_REPO,
    JAVA_REPO,
    PYTHON_REPO,
    RUST_REPO,
    TS_REPO,
    RepoBuilder,
    git,
    write_files,
)
from slice_repos import git_commit_all as commit

from tandem.config import Settings
from tandem.slicing import slice_repository
from tandem.slicing.edit_reparse import Document, TextEdit
from tandem.slicing.extract import extract_units
from tandem.slicing.index import CACHE_FILE, RepoIndex, forget_parsed
from tandem.slicing.languages import language_for_path
from tandem.slicing.records import FileRecord, blob_id
from tandem.slicing.result import FileRangeAnchor

MAX = 2_000_000


def test_the_cache_key_is_the_git_blob_id(make_repo: RepoBuilder) -> None:
    repo = make_repo(PYTHON_REPO)
    data = (repo / "pkg" / "shapes.py").read_bytes()
    expected = subprocess.run(
        ["git", "hash-object", "--stdin"], input=data, capture_output=True, check=True
    ).stdout.decode()
    assert blob_id(data) == expected.strip()
    record = RepoIndex(repo, MAX, persist=False).record("pkg/shapes.py")
    assert isinstance(record, FileRecord) and record.blob == expected.strip()


def test_the_index_is_persisted_under_tandem_cache_and_reused(make_repo: RepoBuilder) -> None:
    repo = make_repo(PYTHON_REPO)
    first = RepoIndex(repo, MAX)
    for rel in ("pkg/shapes.py", "tests/test_shapes.py"):
        first.record(rel)
    first.save()
    assert (repo / ".tandem" / "cache" / CACHE_FILE).is_file()
    assert first.stats == {"hits": 0, "parsed": 2}
    forget_parsed()  # a new process: only the cache file remains
    second = RepoIndex(repo, MAX)
    again = second.record("pkg/shapes.py")
    assert second.stats == {"hits": 1, "parsed": 0}
    fresh = RepoIndex(repo, MAX, persist=False).record("pkg/shapes.py")
    assert isinstance(again, FileRecord) and isinstance(fresh, FileRecord)
    assert (again.units, again.idents) == (fresh.units, fresh.idents)


def test_a_changed_file_is_reparsed_alone_and_mtimes_do_not_matter(
    make_repo: RepoBuilder,
) -> None:
    repo = make_repo(PYTHON_REPO)
    paths = ["pkg/shapes.py", "tests/test_shapes.py", "tests/test_unrelated.py"]
    index = RepoIndex(repo, MAX)
    for rel in paths:
        index.record(rel)
    index.save()
    forget_parsed()
    os.utime(repo / "tests" / "test_shapes.py", (1, 1))  # touched, same content
    shapes = repo / "pkg" / "shapes.py"
    shapes.write_text(shapes.read_text() + "\n\ndef added():\n    return 1\n")
    again = RepoIndex(repo, MAX)
    records = [again.record(rel) for rel in paths]
    assert again.stats == {"hits": 2, "parsed": 1}
    assert isinstance(records[0], FileRecord)
    assert "added" in {u.name for u in records[0].units}


def test_a_new_cache_version_deletes_the_older_cache_file(make_repo: RepoBuilder) -> None:
    repo = make_repo(PYTHON_REPO)
    cache = repo / ".tandem" / "cache"
    cache.mkdir(parents=True)
    (cache / "index-v1.json").write_text("{}")
    index = RepoIndex(repo, MAX)
    index.record("pkg/shapes.py")
    index.save()
    assert sorted(p.name for p in cache.iterdir()) == [".gitignore", CACHE_FILE]


def test_a_process_reuses_parsed_versions_without_reading_the_cache_file(
    make_repo: RepoBuilder,
) -> None:
    repo = make_repo(PYTHON_REPO)
    first = RepoIndex(repo, MAX)
    first.record("pkg/shapes.py")
    first.save()
    (repo / ".tandem" / "cache" / CACHE_FILE).write_text("{not json")
    second = RepoIndex(repo, MAX)
    assert isinstance(second.record("pkg/shapes.py"), FileRecord)
    assert second.stats == {"hits": 1, "parsed": 0}


def test_identical_content_at_another_path_is_a_cache_hit(make_repo: RepoBuilder) -> None:
    source = "def shared():\n    return 1\n"
    repo = make_repo({"a/one.py": source, "b/two.py": source, "tests/test_one.py": source})
    index = RepoIndex(repo, MAX)
    for rel in ("a/one.py", "b/two.py", "tests/test_one.py"):
        index.record(rel)
    # A test file's units differ (test flags), so it is parsed on its own.
    assert index.stats == {"hits": 1, "parsed": 2}


def test_slicing_writes_the_cache_which_git_never_sees(make_repo: RepoBuilder) -> None:
    repo = make_repo({**PYTHON_REPO, ".gitignore": "*.log\n"})
    commit(repo)
    slice_repository(
        repo, FileRangeAnchor(path="pkg/shapes.py", start_line=24, end_line=24), Settings()
    )
    cache = repo / ".tandem" / "cache" / CACHE_FILE
    assert cache.is_file()
    assert json.loads(cache.read_text())["version"] >= 2
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""


def test_a_corrupt_cache_is_ignored_and_rewritten(make_repo: RepoBuilder) -> None:
    repo = make_repo(PYTHON_REPO)
    cache = repo / ".tandem" / "cache" / CACHE_FILE
    cache.parent.mkdir(parents=True)
    cache.write_text("{not json")
    index = RepoIndex(repo, MAX)
    assert isinstance(index.record("pkg/shapes.py"), FileRecord)
    index.save()
    assert json.loads(cache.read_text())["version"] >= 2


# ---- open documents: incremental reparse ------------------------------------------------


def edit_for(old: str, start: int, end: int, insert: str) -> tuple[str, TextEdit]:
    """Replace old[start:end] (character offsets) with ``insert``; the edit in bytes/points."""
    new = old[:start] + insert + old[end:]

    def point(text: str, offset: int) -> tuple[int, int]:
        before = text[:offset].encode("utf-8")
        row = before.count(b"\n")
        return row, len(before) - (before.rfind(b"\n") + 1)

    start_byte = len(old[:start].encode("utf-8"))
    return new, TextEdit(
        start_byte=start_byte,
        old_end_byte=len(old[:end].encode("utf-8")),
        new_end_byte=start_byte + len(insert.encode("utf-8")),
        start_point=point(old, start),
        old_end_point=point(old, end),
        new_end_point=point(new, start + len(insert)),
    )


def test_an_edit_to_an_open_document_yields_the_units_of_a_fresh_parse() -> None:
    old = textwrap.dedent(str(PYTHON_REPO["pkg/shapes.py"])).lstrip("\n")
    doc = Document("pkg/shapes.py", old)
    at = old.index("def clamp")
    new, edit = edit_for(old, at, at, "def inserted(a, b):\n    return a\n\n\n")
    doc.apply(new, edit)
    assert doc.units().units == extract_units("pkg/shapes.py", new, "python").units
    assert "inserted" in {u.name for u in doc.units().units}


SOURCES = {
    "pkg/shapes.py": PYTHON_REPO["pkg/shapes.py"],
    "src/cart.ts": TS_REPO["src/cart.ts"],
    "src/Button.tsx": TS_REPO["src/Button.tsx"],
    "server/client.go": GO_REPO["server/client.go"],
    "src/parser.rs": RUST_REPO["src/parser.rs"],
    "src/main/java/com/acme/Invoice.java": JAVA_REPO["src/main/java/com/acme/Invoice.java"],
}


@settings(max_examples=40, deadline=None)
@given(
    path=st.sampled_from(sorted(SOURCES)),
    edits=st.lists(
        st.tuples(
            st.floats(0, 1),
            st.integers(0, 30),
            st.sampled_from(["", "x", "\n", "{", "}", "fn f() {}\n", "def g():\n  pass\n", "é"]),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_any_sequence_of_edits_agrees_with_a_fresh_parse(
    path: str, edits: list[tuple[float, int, str]]
) -> None:
    text = textwrap.dedent(str(SOURCES[path])).lstrip("\n")
    language = language_for_path(path)
    assert language is not None
    doc = Document(path, text)
    for where, length, insert in edits:
        start = int(where * len(text))
        text, edit = edit_for(text, start, min(len(text), start + length), insert)
        doc.apply(text, edit)
    fresh = extract_units(path, text, language)
    incremental = doc.units()
    if fresh.has_errors:
        # Tree-sitter's error recovery depends on the parse history, so on broken code an
        # incremental tree may group the damage differently; it must still parse and say so.
        assert incremental.has_errors
    else:
        assert incremental.units == fresh.units


def test_a_copy_of_the_repository_reuses_the_user_caches_parses(
    make_repo: RepoBuilder, tmp_path_factory: pytest.TempPathFactory
) -> None:
    repo = make_repo(PYTHON_REPO)
    first = RepoIndex(repo, MAX)
    first.record("pkg/shapes.py")
    first.save()
    forget_parsed()  # a new process, a fresh tree without .tandem/cache: the user cache remains
    copy = tmp_path_factory.mktemp("copy")
    write_files(copy, PYTHON_REPO)
    second = RepoIndex(copy, MAX)
    again = second.record("pkg/shapes.py")
    assert second.stats == {"hits": 1, "parsed": 0}
    fresh = RepoIndex(copy, MAX, persist=False).record("pkg/shapes.py")
    assert isinstance(again, FileRecord) and isinstance(fresh, FileRecord)
    assert (again.units, again.idents) == (fresh.units, fresh.idents)
    second.save()  # what came from the user cache lands in the tree's own cache file too
    assert (copy / ".tandem" / "cache" / CACHE_FILE).is_file()


def test_an_unusable_user_cache_turns_itself_off_and_slicing_goes_on(
    make_repo: RepoBuilder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("TANDEM_CACHE_DIR", str(blocker / "cache"))
    repo = make_repo(PYTHON_REPO)
    index = RepoIndex(repo, MAX)
    assert isinstance(index.record("pkg/shapes.py"), FileRecord)
    index.save()
    assert index.stats == {"hits": 0, "parsed": 1}
