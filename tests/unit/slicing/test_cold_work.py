"""What a cold slice skips: files it need not parse, and caches that still follow every change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from slice_repos import RepoBuilder, write_files

from tandem.config import Settings
from tandem.slicing import shared_index, slice_repository
from tandem.slicing.index import CACHE_VERSION, RepoIndex, forget_parsed
from tandem.slicing.records import FileRecord, identifiers
from tandem.slicing.result import FileRangeAnchor

MAX = Settings().context.max_file_bytes


def test_only_sibling_files_up_to_the_first_that_may_define_a_callee_are_parsed(
    make_repo: RepoBuilder,
) -> None:
    repo = make_repo(
        {
            "pkg/a.py": "def run(x):\n    return helper(x) + 1\n",
            "pkg/b.py": "def helper(x: int) -> int:\n    return x * 2\n",
            "pkg/c.py": "def unrelated(y: int) -> int:\n    return y\n",
            "pkg/ab.py": "helpers = [1]\n",  # spells it only inside another name
            "pkg/d.py": "def helper(x: int) -> str:\n    return str(x)\n",  # after the first
        }
    )
    settings = Settings()
    index = RepoIndex(repo, MAX)
    anchor = FileRangeAnchor(path="pkg/a.py", start_line=2, end_line=2)
    result = slice_repository(repo, anchor, settings, index=index)
    assert [(c.path, c.signature) for c in result.callees] == [
        ("pkg/b.py", "def helper(x: int) -> int")
    ]
    assert index.known("pkg/b.py") is not None
    for unparsed in ("pkg/c.py", "pkg/ab.py", "pkg/d.py"):  # read for the name at most
        assert index.known(unparsed) is None, unparsed


def test_a_reserved_word_is_no_callee_and_no_sibling_is_parsed_for_it(
    make_repo: RepoBuilder,
) -> None:
    java = "src/main/java/p/"
    repo = make_repo(
        {
            f"{java}A.java": (
                "class A {\n  int run(int x) {\n    if (x > 0) { for (;;) { return (helper(x)); } }"
                "\n    return 0;\n  }\n}\n"
            ),
            f"{java}B.java": "class B {\n  static int helper(int x) { return x; }\n}\n",
            f"{java}C.java": "class C {\n  int f(int y) { if (y > 1) { return y; } return 0; }\n}",
            "web/a.js": (
                "function run(m, k, s) {\n  if (k) { delete (m[k]); }\n  return s.delete(k);\n}"
            ),
            "web/b.js": "class Store {\n  delete(k) {\n    return k;\n  }\n}\n",
        }
    )
    index = RepoIndex(repo, MAX)
    anchor = FileRangeAnchor(path=f"{java}A.java", start_line=3, end_line=3)
    result = slice_repository(repo, anchor, Settings(), index=index)
    assert [(c.path, c.name) for c in result.callees] == [(f"{java}B.java", "B.helper")]
    assert index.known(f"{java}C.java") is None  # it spells ``if``, and defines only f
    index = RepoIndex(repo, MAX)
    anchor = FileRangeAnchor(path="web/a.js", start_line=2, end_line=3)
    result = slice_repository(repo, anchor, Settings(), index=index)
    # JavaScript may name a member so (``s.delete(k)``): its reserved words are looked up
    assert [(c.path, c.name) for c in result.callees] == [("web/b.js", "Store.delete")]


def test_identifiers_are_ascii_names_and_other_bytes_split_them() -> None:
    data = "naïve_x = $el + café2 # h\xe9\n".encode() + b"\xff\xfeok_1"
    assert identifiers(data) == frozenset({"na", "ve_x", "$el", "caf", "h", "ok_1"})


def _test_files(n: int) -> dict[str, str | bytes]:
    files: dict[str, str | bytes] = {"pkg/core.py": "def feed(x):\n    return x + 1\n"}
    for k in range(n):
        files[f"tests/test_m{k}.py"] = (
            "from pkg.core import feed\n\n\n"
            f"def test_feed_{k}():\n    assert feed({k}) == {k + 1}\n\n\n"
            f"def test_other_{k}():\n    value = {k}\n    assert value >= 0\n"
        )
    return files


def _records(index: RepoIndex, rels: list[str]) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    for rel in rels:
        rec = index.record(rel)
        assert isinstance(rec, FileRecord)
        out.append((rec.path, rec.blob, rec.units, rec.idents, rec.has_errors, rec.text))
    return out


def test_files_readied_together_give_the_records_of_one_by_one(
    make_repo: RepoBuilder, tmp_path_factory: pytest.TempPathFactory
) -> None:
    files = _test_files(6)
    repo = make_repo(files)
    rels = [f"tests/test_m{k}.py" for k in range(6)]
    one_by_one = _records(RepoIndex(repo, MAX, persist=False), rels)
    forget_parsed()
    together = RepoIndex(repo, MAX)
    together.prefetch(rels)  # parsed here
    assert _records(together, rels) == one_by_one
    together.save()
    forget_parsed()  # a new process; a clone: every version from the shared store at once
    clone = write_files(tmp_path_factory.mktemp("clone"), files)
    from_store = RepoIndex(clone, MAX)
    from_store.prefetch(rels)
    assert from_store.stats["parsed"] == 0
    assert _records(from_store, rels) == one_by_one


def test_the_cache_file_and_the_shared_store_hold_the_same_compact_json(
    make_repo: RepoBuilder,
) -> None:
    files = _test_files(3)
    repo = make_repo(files)
    for rel in files:  # versions no other test made, so this one parses them
        (repo / rel).write_text(f"{files[rel]!s}\n# {repo.name}\n")
    rels = [f"tests/test_m{k}.py" for k in range(3)]
    forget_parsed()
    first = RepoIndex(repo, MAX)
    _records(first, rels[:2])
    first.save()
    forget_parsed()  # a later process: two versions from the cache file, one parsed anew
    later = RepoIndex(repo, MAX)
    _records(later, rels)
    assert later.stats["parsed"] == 1
    later.save()
    text = later.cache_path.read_text(encoding="utf-8")
    whole = json.loads(text)
    assert text == json.dumps(whole, separators=(",", ":"))
    assert whole["version"] == CACHE_VERSION and len(whole["blobs"]) == 3
    stored = shared_index.default_store(CACHE_VERSION).get_many(list(whole["blobs"]))
    assert stored == whole["blobs"]


def test_the_shared_store_answers_many_keys_in_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shared_index, "_BATCH", 2)
    store = shared_index.SharedIndex(tmp_path / "store.sqlite")
    store.put(
        {
            f"k{i}": shared_index.entry_json({"units": [], "idents": [], "errors": i})
            for i in range(5)
        }
    )
    got = store.get_many(["k0", "k2", "k4", "k1", "missing"])
    assert got == {f"k{i}": {"units": [], "idents": [], "errors": i} for i in (0, 1, 2, 4)}


def test_a_file_changed_after_it_was_read_ahead_is_read_again(make_repo: RepoBuilder) -> None:
    repo = make_repo(_test_files(1))
    index = RepoIndex(repo, MAX, persist=False)
    index.prefetch(["tests/test_m0.py"])
    (repo / "tests/test_m0.py").write_text("def test_new():\n    assert True\n")
    rec = index.record("tests/test_m0.py")
    assert isinstance(rec, FileRecord)
    assert [u.name for u in rec.units] == ["test_new"]


def test_a_warm_shared_store_never_hides_a_change_in_a_clone_or_in_place(
    make_repo: RepoBuilder, tmp_path_factory: pytest.TempPathFactory
) -> None:
    files = _test_files(3)
    repo = make_repo(files)
    anchor = FileRangeAnchor(path="pkg/core.py", start_line=2, end_line=2)
    before = slice_repository(repo, anchor, Settings())
    assert "test_feed_9" not in {t.name for t in before.tests}
    forget_parsed()  # a new process; the user's shared store stays warm
    clone = write_files(tmp_path_factory.mktemp("clone"), files)
    added = "\n\ndef test_feed_9():\n    assert feed(9) == 10\n"
    (clone / "tests/test_m1.py").write_text(str(files["tests/test_m1.py"]) + added)
    assert "test_feed_9" in {t.name for t in slice_repository(clone, anchor, Settings()).tests}
    forget_parsed()
    (repo / "tests/test_m2.py").write_text(str(files["tests/test_m2.py"]) + added)
    assert "test_feed_9" in {t.name for t in slice_repository(repo, anchor, Settings()).tests}


def test_the_shared_store_commits_without_waiting_for_the_disk(tmp_path: Path) -> None:
    store = shared_index.SharedIndex(tmp_path / "store.sqlite")
    store.put({"k": shared_index.entry_json({"units": [], "idents": [], "errors": False})})
    db = store._open()
    assert db is not None
    assert db.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_a_new_cache_version_removes_the_stores_of_older_versions(tmp_path: Path) -> None:
    for name in ("slicing-v3.sqlite", "slicing-v4.sqlite", "slicing-v4.sqlite-wal"):
        (tmp_path / name).write_bytes(b"old")
    for name in ("slicing-v9.sqlite", "notes.txt", "other-v1.sqlite"):
        (tmp_path / name).write_bytes(b"keep")
    store = shared_index.SharedIndex(tmp_path / "slicing-v5.sqlite")
    store.put({"k": shared_index.entry_json({"units": [], "idents": [], "errors": False})})
    left = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("slicing-v5"))
    assert left == ["notes.txt", "other-v1.sqlite", "slicing-v9.sqlite"]
    assert store.get("k") == {"units": [], "idents": [], "errors": False}
