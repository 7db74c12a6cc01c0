"""An open document's lines kept in blocks, so an edit copies one block, not every line."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Sequence
from itertools import accumulate, chain
from typing import overload

BLOCK_LINES = 1024
"""Lines per block: an edit copies about this many line references plus one per block."""


class Lines(Sequence[str]):
    """An immutable sequence of lines (a handler holding it across an ``await`` keeps its
    snapshot); :meth:`splice` returns a new one sharing every block the change left alone.

    A tuple of 2 million lines (a 20 MB buffer) costs about 20 ms to copy on each keystroke,
    because every line's reference count is touched; here a keystroke copies one block and the
    tuple of about 2,000 blocks.
    """

    __slots__ = ("_blocks", "_length", "_starts")

    def __init__(self, blocks: tuple[tuple[str, ...], ...] = ()) -> None:
        self._blocks = tuple(block for block in blocks if block)
        self._starts = list(accumulate((len(block) for block in self._blocks), initial=0))
        self._length = self._starts[-1]

    @classmethod
    def of(cls, lines: Sequence[str]) -> Lines:
        return cls(_blocks_of(lines))

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[str]:
        return chain.from_iterable(self._blocks)

    def __eq__(self, other: object) -> bool:
        """Equal to any sequence of the same lines (a tuple, pygls' list)."""
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(other) == self._length and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # equal to lists, which are unhashable

    def __repr__(self) -> str:
        return f"Lines({len(self)} lines in {len(self._blocks)} blocks)"

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[str, ...]: ...

    def __getitem__(self, index: int | slice) -> str | tuple[str, ...]:
        if isinstance(index, slice):
            start, stop, step = index.indices(self._length)
            if step != 1:
                return tuple(self[i] for i in range(start, stop, step))
            return self._range(start, stop)
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError("line index out of range")
        block = bisect_right(self._starts, index) - 1
        return self._blocks[block][index - self._starts[block]]

    def _range(self, start: int, stop: int) -> tuple[str, ...]:
        if start >= stop:
            return ()
        first = bisect_right(self._starts, start) - 1
        last = bisect_right(self._starts, stop - 1) - 1
        if first == last:
            offset = self._starts[first]
            return self._blocks[first][start - offset : stop - offset]
        parts = [self._blocks[first][start - self._starts[first] :]]
        parts += self._blocks[first + 1 : last]
        parts.append(self._blocks[last][: stop - self._starts[last]])
        return tuple(chain.from_iterable(parts))

    def splice(self, low: int, high: int, new: Sequence[str]) -> Lines:
        """These lines with ``[low:high]`` replaced by ``new`` (``low <= high <= len``)."""
        if not self._blocks:
            return Lines(_blocks_of(tuple(new)))
        first = min(bisect_right(self._starts, low) - 1, len(self._blocks) - 1)
        last = max(first, min(bisect_right(self._starts, high - 1) - 1, len(self._blocks) - 1))
        head = self._blocks[first][: low - self._starts[first]]
        tail = self._blocks[last][high - self._starts[last] :]
        middle = _blocks_of(head + tuple(new) + tail)
        return Lines(self._blocks[:first] + middle + self._blocks[last + 1 :])


def _blocks_of(lines: Sequence[str]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(lines[i : i + BLOCK_LINES]) for i in range(0, len(lines), BLOCK_LINES))
