"""The shortest text an oracle edit must quote: the ``old`` of a patch, an insertion's anchor."""

from __future__ import annotations

from collections.abc import Iterator


def occurrences(text: str, old: str) -> int:
    """How many times ``old`` occurs in ``text``, overlaps counted, stopping at 2."""
    count, index = 0, text.find(old)
    while index != -1 and count < 2:
        count += 1
        index = text.find(old, index + 1)
    return count


def common_prefix(first: str, second: str) -> str:
    size = 0
    while size < min(len(first), len(second)) and first[size] == second[size]:
        size += 1
    return first[:size]


def unique_anchor(region: str, at: int, *, after: bool) -> str:
    """The shortest text ending (``after``) or starting at ``at`` that occurs once in
    ``region``: words of the line ``at`` splits, then whole lines."""
    for cut in _back(region, at) if after else _forward(region, at):
        anchor = region[cut:at] if after else region[at:cut]
        if occurrences(region, anchor) == 1:
            return anchor
    return ""


def _back(text: str, at: int) -> Iterator[int]:
    """Cuts left of ``at``, nearest first: word starts on ``at``'s own line (when it splits
    one), then line starts."""
    line = text.rfind("\n", 0, at) + 1
    yield from (i for i in range(at - 1, line, -1) if _word(text[i]) and not _word(text[i - 1]))
    cut = line if line < at else text.rfind("\n", 0, at - 1) + 1 if at else -1
    while cut >= 0:
        yield cut
        cut = text.rfind("\n", 0, cut - 1) + 1 if cut else -1


def _forward(text: str, at: int) -> Iterator[int]:
    """Cuts right of ``at``, nearest first: word ends on ``at``'s own line (when it splits
    one), then line ends."""
    found = text.find("\n", at)
    end = len(text) if found == -1 else found + 1
    if at and text[at - 1] != "\n":
        yield from (i for i in range(at + 1, end) if _word(text[i - 1]) and not _word(text[i]))
    cut = end if end > at else -1
    while cut > at:
        yield cut
        found = text.find("\n", cut)
        nxt = len(text) if found == -1 else found + 1
        cut = nxt if nxt > cut else -1


def _word(char: str) -> bool:
    return char.isalnum() or char == "_"


class _Cuts:
    """Where ``old`` may start or end: at any word boundary inside the lines that change
    (characters [lo, hi)), only at line boundaries in the context around them."""

    def __init__(self, text: str, lo: int, hi: int) -> None:
        self.text, self.lo, self.hi = text, lo, hi

    def _inside(self, at: int) -> bool:
        return self.lo <= at <= self.hi and self.lo < self.hi

    def start(self, a: int) -> int:
        """The last allowed start at or before ``a``."""
        text = self.text
        if not self._inside(a):
            return text.rfind("\n", 0, a) + 1 if a and text[a - 1] != "\n" else a
        while (a > self.lo and _mid_word(text, a)) or text[a - 1 : a] == "\r":
            a -= 1
        return a

    def end(self, b: int) -> int:
        """The first allowed end at or after ``b``."""
        text = self.text
        if not self._inside(b):
            if b == 0 or text[b - 1] == "\n":
                return b
            found = text.find("\n", b)
            return len(text) if found == -1 else found + 1
        while (b < self.hi and _mid_word(text, b)) or text[b - 1 : b] == "\r":
            b += 1
        return b

    def wider_start(self, a: int) -> int:
        """One step left of ``a``: a word, a run of blanks or one other character inside the
        changed lines, a whole line in the context."""
        text = self.text
        if a == 0:
            return 0
        if not self._inside(a - 1):
            return text.rfind("\n", 0, a - 1) + 1
        kind = _kind(text[a - 1])
        a -= 1
        while kind and a > self.lo and _kind(text[a - 1]) == kind:
            a -= 1
        return self.start(a)

    def wider_end(self, b: int) -> int:
        text = self.text
        if b == len(text):
            return b
        if not self._inside(b + 1):
            found = text.find("\n", b)
            return len(text) if found == -1 else found + 1
        kind = _kind(text[b])
        b += 1
        while kind and b < self.hi and _kind(text[b]) == kind:
            b += 1
        return self.end(b)


def _mid_word(text: str, at: int) -> bool:
    return 0 < at < len(text) and _word(text[at - 1]) and _word(text[at])


def _kind(char: str) -> str:
    """Characters that make one step together: a word, a run of blanks (not a line break)."""
    if _word(char):
        return "word"
    return "blank" if char in " \t" else ""


def shortest_old(
    region: str, offset: int, old: str, new: str, changed: tuple[int, int]
) -> tuple[int, int]:
    """The span [a, b) of ``old`` to send: it holds every character that differs from
    ``new``, is not empty, occurs exactly once in ``region`` (where ``old`` starts at
    ``offset``), and cuts only word boundaries of the changed lines (``old``'s characters
    ``changed``) or whole lines of context."""
    prefix, limit = 0, min(len(old), len(new))
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    cuts = _Cuts(old, *changed)
    a, b = cuts.start(prefix), cuts.end(len(old) - suffix)
    left = True
    while b <= a or occurrences(region, old[a:b]) != 1 or region.find(old[a:b]) != offset + a:
        if a == 0 and b == len(old):
            break
        if (left and a > 0) or b == len(old):
            a = cuts.wider_start(a)
        else:
            b = cuts.wider_end(b)
        left = not left
    return a, b
