"""Rendering a slice to text within a token budget.

The text is deterministic: sections in a fixed order, each unit headed by its path, line range
and name, each source line prefixed by its 1-based number and a tab; tests shown by signature are
listed one per line. Over budget it degrades in order:
test bodies become test signatures (lowest-ranked first), then callee signatures are dropped
(last first), then changed files of unsupported languages (sent as plain text) are cut to the
lines that fit. Touched units are never dropped; when they alone exceed the budget a warning
says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tandem.cost.tokens import count_tokens


@dataclass
class Block:
    """A unit of text in the slice."""

    path: str
    name: str
    start_line: int
    end_line: int
    lines: list[str]  # the source lines start_line..end_line
    note: str = ""
    signature: str = ""
    shown: frozenset[int] | None = None  # the lines shown (None: all); see tandem.slicing.elide
    hidden: str = "unchanged"  # what the elided lines are, in their marker


def _marker(block: Block, first: int, last: int) -> str:
    """The line standing for elided lines: no line number, so it reads as no source line."""
    count = last - first + 1
    plural = "s" if count > 1 else ""
    return f"...\t({count} {block.hidden} line{plural}, {first}-{last}, not shown)"


_MARKER = re.compile(r"^\s*(?:\d+\t)?\.\.\.\t\(\d+ \w+ lines?, \d+-\d+, not shown\)\s*$", re.M)


def elision_marker(text: str) -> str | None:
    """The first elided-lines marker in ``text`` (as the slice writes it, perhaps copied with a
    line number in front), or None."""
    found = _MARKER.search(text)
    return found.group(0).strip() if found else None


@dataclass
class Rendered:
    text: str
    tokens: int
    warnings: list[str] = field(default_factory=list)


def shown_lines(block: Block, *, numbers: bool = True) -> list[str]:
    """The block's lines as shown: each elided run is one marker line; with ``numbers``, each
    source line is prefixed by its number and a tab (cat -n style; a tab is one token)."""
    out: list[str] = []
    gap = 0  # the first line of the elided run being passed, or 0
    for n, line in enumerate(block.lines, start=block.start_line):
        if block.shown is not None and n not in block.shown:
            gap = gap or n
            continue
        if gap:
            out.append(_marker(block, gap, n - 1))
            gap = 0
        out.append(f"{n}\t{line}" if numbers else line)
    if gap:
        out.append(_marker(block, gap, block.start_line + len(block.lines) - 1))
    return out


def numbered(block: Block) -> str:
    """The block headed by its path, line range, name and note, its lines numbered."""
    head = f"--- {block.path}:{block.start_line}-{block.end_line} {block.name}"
    if block.note:
        head += f"  ({block.note})"
    return "\n".join([head, *shown_lines(block)])


def _head(block: Block, n_lines: int) -> Block:
    """The first ``n_lines`` of ``block``, its header saying it was cut."""
    return Block(
        block.path,
        f"{block.name} (cut to fit the budget)",
        block.start_line,
        block.start_line + n_lines - 1,
        block.lines[:n_lines],
        note=block.note,
    )


def signature_line(block: Block) -> str:
    """One line: where the test is and its signature (with its name when the signature lacks
    it). Consecutive lines form a list under one heading. Why the test is related is left out:
    on small files it was a quarter of the slice, and the planner needs where the tests are."""
    sig = block.signature or (block.lines[0].strip() if block.lines else "")
    last = block.name.split(" > ")[-1].split("::")[-1].split(".")[-1]
    if " > " in block.name and last in sig:
        sig = block.name  # ``describe > title``: its ``it("title")`` would say it twice
    elif not sig or last not in sig:
        sig = f"{block.name}: {sig}" if sig else block.name
    return f"{block.path}:{block.start_line}-{block.end_line}  {sig}"


SIGNATURES_HEADING = "Signatures only (bodies omitted: lower-ranked, or over the budget):"


def render(
    touched: list[Block],
    callees: list[str],
    tests: list[Block],
    plain: list[Block],
    budget: int,
    *,
    test_bodies: int | None = None,
) -> Rendered:
    """The slice text and its exact token count under ``budget``.

    ``test_bodies`` keeps the bodies of only that many best-ranked tests; the others are shown
    by signature from the start (the budget can still turn more into signatures).
    """
    warnings: list[str] = []
    touched_text = [numbered(b) for b in touched]
    plain_text = [numbered(b) for b in plain]
    test_full = [numbered(b) for b in tests]
    shown = len(tests) if test_bodies is None else max(0, test_bodies)
    test_sig = [signature_line(b) for b in tests]
    test_mode = [k < shown for k in range(len(tests))]
    callee_keep = len(callees)

    def assemble() -> str:
        parts = ["## Touched code"]
        parts += touched_text or ["(nothing touched)"]
        if plain_text:
            parts += ["## Other changed files (plain text, not sliced)", *plain_text]
        if callee_keep:
            parts += ["## Signatures of called functions", "\n".join(callees[:callee_keep])]
        if tests:
            # Bodies always come first: the policy and the budget both omit from the end.
            parts.append("## Related tests (best first)")
            parts += [full for full, mode in zip(test_full, test_mode, strict=True) if mode]
            listed = [sig for sig, mode in zip(test_sig, test_mode, strict=True) if not mode]
            if listed:
                parts.append("\n".join([SIGNATURES_HEADING, *listed]))
        return "\n\n".join(parts) + "\n"

    text = assemble()
    tokens = count_tokens(text)
    i = len(tests) - 1
    while tokens > budget and i >= 0:
        test_mode[i] = False
        i -= 1
        text = assemble()
        tokens = count_tokens(text)
    if i < len(tests) - 1:
        warnings.append("over budget: some related tests are shown as signatures only")
    dropped = 0
    while tokens > budget and callee_keep > 0:
        callee_keep -= 1
        dropped += 1
        text = assemble()
        tokens = count_tokens(text)
    if dropped:
        warnings.append(f"over budget: dropped {dropped} callee signature(s)")
    while tokens > budget and plain_text:
        # An unsliced file is cut to the lines that fit (a binary search) before it is dropped.
        block = plain[len(plain_text) - 1]
        low, high = 0, len(block.lines)
        while low < high:
            middle = (low + high + 1) // 2
            plain_text[-1] = numbered(_head(block, middle))
            if count_tokens(assemble()) <= budget:
                low = middle
            else:
                high = middle - 1
        if low == 0:
            plain_text.pop()
            warnings.append(f"over budget: dropped the unsliced file {block.path}")
        else:
            plain_text[-1] = numbered(_head(block, low))
            warnings.append(
                f"over budget: the unsliced file {block.path} is cut to its first {low} lines"
            )
        text = assemble()
        tokens = count_tokens(text)
    if tokens > budget:
        warnings.append(
            f"over budget: the slice is {tokens} tokens (budget {budget}); touched units are "
            "never dropped, so they are all included"
        )
    return Rendered(text=text, tokens=tokens, warnings=warnings)
