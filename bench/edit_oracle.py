"""The edits a perfect drafter would return for one file of a real commit, in three styles.

Used by ``bench/edit_replay.py``. Given a file before and after a commit and git's hunks
(``git diff -U0``), it derives the oracle reply in Tandem's handoff:

- **units**: one ``replace_unit`` per changed unit (the innermost unit that holds the change and
  that an edit can name), ``insert_unit`` for a unit added between others, ``delete_unit`` for
  units removed outright; whatever no unit edit reproduces falls back to ``patch`` when the
  product has that kind.
- **patch**: one ``patch`` per hunk (hunks two lines apart or closer are merged), ``old`` being
  the changed lines widened by context until it occurs exactly once in its target (the innermost
  nameable unit holding it, else the file); where the hunk only adds text, ``insert_after`` or
  ``insert_before`` next to the shortest unique anchor instead, when that costs less (the
  anchor is written once, not in both ``old`` and ``new``).
- **mixed**: what the draft prompt asks for: per unit, the cheaper of its unit edit and its
  patches (in output tokens).

The parts: ``edit_hunks`` (kinds, hunks, edits and their cost), ``edit_units`` (the unit style),
``edit_patches`` (the patch style), ``edit_quotes`` (the shortest text a patch or an insertion
quotes); this module picks per file.

Every candidate is checked with the product's own edit code before it is kept: a unit edit is
used only if applying it alone to the snapshot gives exactly the file with its hunks applied.
Edits are plain dicts (``kind``, ``target``, ``old``, ``new``, ``reason``): the reply as a model
would write it, counted as compact JSON.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from edit_hunks import (
    KINDS,
    MERGE_GAPS,
    EditDict,
    Hunk,
    edit,
    reply_tokens,
    splice,
    split_lines,
    to_edit,
)
from edit_patches import Patch, patch_edit, patches
from edit_units import insertion, split_hunks, unit_edit, unit_groups
from tandem.flow.edits import FileSnapshot, Snapshot, apply_edits, snapshot_text


@dataclass
class FileEdits:
    """The oracle's edits of one file in each style; ``miss`` says why a style has none."""

    units: list[EditDict] | None = None
    patch: list[EditDict] | None = None
    mixed: list[EditDict] | None = None
    whole: list[EditDict] = field(default_factory=list)
    miss: dict[str, str] = field(default_factory=dict)
    replaced: list[tuple[int, int]] = field(default_factory=list)
    """(tokens of a replace_unit, tokens of the patches making the same change), per unit
    changed in place."""


def modified_file(
    file: FileSnapshot, post_text: str, hunks: Sequence[Hunk], kinds: frozenset[str]
) -> FileEdits:
    """The three styles for a file changed in place (its hunks from ``git diff -U0``): for
    each, the cheapest reply over the ways of grouping hunks into patches, and with or without
    ``insert_unit`` for lines added between units, that reproduces the file."""
    best: FileEdits | None = None
    for gap in MERGE_GAPS:
        for inserts in (False, True):
            made = _modified_file(file, post_text, hunks, kinds, gap, inserts)
            best = made if best is None else _cheapest(best, made, file, post_text)
    assert best is not None
    return best


def _cheapest(first: FileEdits, second: FileEdits, file: FileSnapshot, post: str) -> FileEdits:
    """Per style, the cheaper of two replies that reproduce ``post`` (the first on a tie)."""
    out = first
    for style in ("units", "patch", "mixed"):
        mine, theirs = getattr(first, style), getattr(second, style)
        if theirs is None or not _reproduces(file, theirs, post):
            continue
        if mine is None or reply_tokens(theirs) < reply_tokens(mine):
            out = _with(out, style, theirs, second)
    return out


def _with(base: FileEdits, style: str, edits: list[EditDict], source: FileEdits) -> FileEdits:
    copy = FileEdits(base.units, base.patch, base.mixed, base.whole, dict(base.miss))
    copy.replaced = source.replaced if style == "mixed" else base.replaced
    setattr(copy, style, edits)
    copy.miss.pop(style, None)
    return copy


def _reproduces(file: FileSnapshot, edits: list[EditDict], post: str) -> bool:
    if any(e["kind"] not in KINDS for e in edits):
        return False
    result = apply_edits(Snapshot(files={file.path: file}), [to_edit(e) for e in edits], None)
    return not result.rejected and result.files.get(file.path) == post


def _modified_file(
    file: FileSnapshot,
    post_text: str,
    hunks: Sequence[Hunk],
    kinds: frozenset[str],
    gap: int,
    inserts: bool,
) -> FileEdits:
    pre = split_lines(file.text or "")
    post = split_lines(post_text)
    out = FileEdits(whole=[edit("new_file", file.path, post_text)])
    after = snapshot_text(file.path, post_text)
    hunks = split_hunks(file, after, hunks)
    made = patches(file, pre, post, hunks, gap)
    usable = made if made is not None and "patch" in kinds else []
    edits = [
        _patch_or_insert(file, pre, post, p, kinds if inserts else frozenset()) for p in usable
    ]
    out.patch = [patch_edit(pre, post, p) for p in made] if made is not None else None
    if made is None:
        out.miss["patch"] = "no unique context"
    groups = unit_groups(file, after, hunks)
    found = [unit_edit(file, pre, post, hunks, group, kinds) for group in groups]
    cover = [{i for i, p in enumerate(usable) if set(p.parts) & set(g.hunks)} for g in groups]
    cheaper = {
        g
        for g, (candidate, _, _) in enumerate(found)
        if candidate is not None
        and cover[g]
        and reply_tokens([edits[i] for i in sorted(cover[g])]) < reply_tokens([candidate])
    }
    for (candidate, _, _), ids in zip(found, cover, strict=True):
        if candidate is not None and candidate["kind"] == "replace_unit" and ids:
            alternative = [edits[i] for i in sorted(ids)]
            out.replaced.append((reply_tokens([candidate]), reply_tokens(alternative)))
    for style, prefer in (("units", set()), ("mixed", cheaper)):
        chosen = _select(found, cover, usable, prefer)
        if isinstance(chosen, str):
            out.miss[style] = chosen
            continue
        unit_edits, patch_ids = chosen
        setattr(out, style, [*unit_edits, *(edits[i] for i in sorted(patch_ids))])
    return out


def _patch_or_insert(
    file: FileSnapshot, pre: list[str], post: list[str], patch: Patch, kinds: frozenset[str]
) -> EditDict:
    """The patch, or an ``insert_unit`` after the unit the added lines follow when that
    reproduces the same lines and costs less (it needs no anchor text)."""
    made = patch_edit(pre, post, patch)
    hunk = patch.hunk
    if hunk.ps != hunk.pe or "insert_unit" not in kinds:
        return made
    candidate, _, _ = insertion(file, pre, post, hunk, splice(pre, post, [hunk]), kinds)
    if candidate is not None and reply_tokens([candidate]) < reply_tokens([made]):
        return candidate
    return made


Found = tuple[EditDict | None, str, tuple[int, int]]


def _select(
    found: Sequence[Found], cover: Sequence[set[int]], usable: Sequence[Patch], prefer: set[int]
) -> tuple[list[EditDict], set[int]] | str:
    """Unit edits for the groups that keep one, patches for the rest: a group whose patches
    also carry another group's hunks, or reach into its unit, takes that group along."""
    use = {g for g, (candidate, _, _) in enumerate(found) if candidate is None} | prefer
    while True:
        patch_ids = set().union(*(cover[g] for g in use)) if use else set()
        more = {
            g
            for g in range(len(found))
            if g not in use
            and (cover[g] & patch_ids or any(_touches(usable[i], found[g][2]) for i in patch_ids))
        }
        if not more:
            break
        use |= more
    for g in sorted(use):
        if not cover[g]:
            return found[g][1] or "patch kind missing"
    return [found[g][0] for g in range(len(found)) if g not in use], patch_ids  # type: ignore[misc]


def _touches(patch: Patch, span: tuple[int, int]) -> bool:
    lo, hi = span
    if lo == hi:
        return patch.lo < lo < patch.hi
    return patch.lo < hi and lo < patch.hi
