"""An open document's lines kept in blocks, so an edit copies one block, not every line."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Sequence
from itertools import accumulate, chain
from typing import overload

BLOCK_LINES = 1024
"""Lines per block: an edit copies about this many line references plus one per block."""
CHUNK_CHARS = 64 * 1024
"""A large text is cut into chunks of about this many characters, each split into lines only
when a line of it is first needed."""
_RARE_LINE_ENDS = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
"""Where ``str.splitlines`` also ends a line; a text holding none has only "\\n" to count."""


class _Chunk:
    """Lines of a large text not split yet: the text and how many lines it holds."""

    __slots__ = ("count", "text")

    def __init__(self, text: str, count: int) -> None:
        self.text = text
        self.count = count

    def __len__(self) -> int:
        return self.count


Block = tuple[str, ...] | _Chunk


class Lines(Sequence[str]):
    """An immutable sequence of lines (a handler holding it across an ``await`` keeps its
    snapshot); :meth:`splice` returns a new one sharing every block the change left alone.

    A tuple of 2 million lines (a 20 MB buffer) costs about 20 ms to copy on each keystroke,
    because every line's reference count is touched; here a keystroke copies one block and the
    tuple of about 2,000 blocks. A large text is not even split until an edit or a request
    needs one of its lines (:meth:`of_text`): splitting 20 MB costs about 100 ms.
    """

    __slots__ = ("_blocks", "_length", "_starts")

    def __init__(self, blocks: Sequence[Block] = ()) -> None:
        self._blocks: list[Block] = [block for block in blocks if len(block)]
        self._starts = list(accumulate((len(block) for block in self._blocks), initial=0))
        self._length = self._starts[-1]

    @classmethod
    def of(cls, lines: Sequence[str]) -> Lines:
        return cls(_blocks_of(lines))

    @classmethod
    def of_text(cls, text: str) -> Lines:
        """The lines ``text.splitlines(True)`` gives, split a chunk at a time when first read."""
        if len(text) < 4 * CHUNK_CHARS or any(end in text for end in _RARE_LINE_ENDS):
            return cls.of(text.splitlines(True))
        chunks: list[Block] = []
        start = 0
        while start < len(text):
            cut = text.find("\n", start + CHUNK_CHARS)
            stop = len(text) if cut < 0 else cut + 1
            piece = text[start:stop]
            chunks.append(_Chunk(piece, piece.count("\n") + (not piece.endswith("\n"))))
            start = stop
        return cls(chunks)

    def _block(self, number: int) -> tuple[str, ...]:
        block = self._blocks[number]
        if isinstance(block, _Chunk):  # split once; every Lines sharing the chunk keeps its own
            block = self._blocks[number] = tuple(block.text.splitlines(True))
        return block

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[str]:
        return chain.from_iterable(self._block(n) for n in range(len(self._blocks)))

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
        return self._block(block)[index - self._starts[block]]

    def _range(self, start: int, stop: int) -> tuple[str, ...]:
        if start >= stop:
            return ()
        first = bisect_right(self._starts, start) - 1
        last = bisect_right(self._starts, stop - 1) - 1
        if first == last:
            offset = self._starts[first]
            return self._block(first)[start - offset : stop - offset]
        parts = [self._block(first)[start - self._starts[first] :]]
        parts += [self._block(n) for n in range(first + 1, last)]
        parts.append(self._block(last)[: stop - self._starts[last]])
        return tuple(chain.from_iterable(parts))

    def splice(self, low: int, high: int, new: Sequence[str]) -> Lines:
        """These lines with ``[low:high]`` replaced by ``new`` (``low <= high <= len``)."""
        if not self._blocks:
            return Lines(_blocks_of(tuple(new)))
        first = min(bisect_right(self._starts, low) - 1, len(self._blocks) - 1)
        last = max(first, min(bisect_right(self._starts, high - 1) - 1, len(self._blocks) - 1))
        head = self._block(first)[: low - self._starts[first]]
        tail = self._block(last)[high - self._starts[last] :]
        middle = _blocks_of(head + tuple(new) + tail)
        return Lines([*self._blocks[:first], *middle, *self._blocks[last + 1 :]])


def _blocks_of(lines: Sequence[str]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(lines[i : i + BLOCK_LINES]) for i in range(0, len(lines), BLOCK_LINES))
