"""``slice_repository``: from an anchor (range, diff, working tree) to a rendered Slice."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tandem.slicing.callees import called_in, callees
from tandem.slicing.candidate_tests import records_with_tests
from tandem.slicing.changes import EXCLUDED_NOTE, Change, changes_from_anchor
from tandem.slicing.elide import (
    COMPACT_CONTEXT,
    CONTEXT,
    MIN_GAP,
    SLICE_SHARE,
    TEST_BODIES,
    around_changes,
    head_of_test,
)
from tandem.slicing.exclusions import Exclusions
from tandem.slicing.files import RepoFiles, read_source, source_lines
from tandem.slicing.index import RepoIndex
from tandem.slicing.languages import FAMILY, language_for_path
from tandem.slicing.records import FileRecord, identifiers
from tandem.slicing.related import Candidate, rank_tests
from tandem.slicing.related_scoring import ChangeInfo
from tandem.slicing.related_text import literal_phrases
from tandem.slicing.render import Block, Rendered, render, shown_lines
from tandem.slicing.result import (
    Anchor,
    CalleeSignature,
    FileRangeAnchor,
    RelatedTest,
    Slice,
    SliceError,
    TouchedUnit,
)
from tandem.slicing.touched import touched_units
from tandem.slicing.units import Unit
from tandem.slicing.walkcache import walk_repository_cached

if TYPE_CHECKING:
    from tandem.config import Settings


def slice_repository(
    repo: Path,
    anchor: Anchor,
    settings: Settings,
    *,
    budget_tokens: int | None = None,
    index: RepoIndex | None = None,
    files: RepoFiles | None = None,
    exclusions: Exclusions | None = None,
) -> Slice:
    """The touched units, related tests and callee signatures of ``anchor``, rendered.

    A long-lived caller (the language server) passes its own ``index``, the ``files`` it has
    already walked and the ``exclusions`` it loaded, so nothing is reread per request.
    """
    repo = Path(repo)
    if not repo.is_dir():
        raise SliceError(f"repository folder not found: {repo}")
    repo = repo.resolve()
    budget = budget_tokens if budget_tokens is not None else settings.context.budget_tokens
    if budget <= 0:
        raise SliceError(f"the token budget must be positive (got {budget})")
    if exclusions is None:
        exclusions = Exclusions.load(repo, settings.exclusions)
    warnings: list[str] = []
    # The walk comes first: it also loads nested .gitignore files, which apply to the anchor.
    walk = files if files is not None else walk_repository_cached(repo, exclusions)
    excluded: set[str] = set(walk.excluded)
    changes = changes_from_anchor(repo, anchor, warnings, exclusions, excluded)
    if index is None:
        index = RepoIndex(repo, settings.context.max_file_bytes)

    kept: list[Change] = []
    plain: list[Block] = []
    for change in changes:
        if language_for_path(change.path) is None:
            warnings.append(
                f"{change.path}: language not supported for slicing; sent as plain text"
            )
            src = read_source(
                repo / change.path, change.path, settings.context.max_file_bytes, repo
            )
            if isinstance(src, str):
                warnings.append(src)
            else:
                lines = source_lines(src.text)
                plain.append(Block(change.path, "(whole file)", 1, max(1, len(lines)), lines))
            continue
        kept.append(change)

    records: dict[str, FileRecord] = {}
    for change in kept:
        rec = index.record(change.path, change.override)
        if isinstance(rec, str):
            warnings.append(rec)
            continue
        if rec.warning:
            warnings.append(rec.warning)
        if rec.has_errors:
            warnings.append(f"{change.path}: syntax errors; slicing what parses")
        records[change.path] = rec

    touched = touched_units(kept, records)
    if not changes and not any(w.endswith(EXCLUDED_NOTE) for w in warnings):
        warnings.append("nothing changed: the diff is empty, so nothing is touched")
    elif not touched and records:
        warnings.append("no code unit is touched (only blank lines or comments changed?)")

    families = {FAMILY[r.language] for r in records.values()}
    test_records = records_with_tests(index, walk, records, families, warnings)

    info = ChangeInfo(files=set(records), touched=touched)
    for change in kept:
        for line in change.added_text:
            info.added_idents.update(identifiers(line.encode("utf-8")))
        if (changed := records.get(change.path)) is not None:
            text = changed.lines()
            new_lines = (text[n - 1] for n in sorted(change.lines) if 0 < n <= len(text))
            info.phrases |= literal_phrases(new_lines, FAMILY[changed.language])
    sources = index.sources(walk.files, families)
    ranked = rank_tests(info, test_records, settings.context.max_related_tests, sources)
    called = callees(index, walk, records, touched)

    marks = None if isinstance(anchor, FileRangeAnchor) else changed_lines(kept)
    touched_blocks = _touched_blocks(records, touched, marks)
    test_by_path = {r.path: r for r in test_records}
    test_blocks = [
        _block(
            test_by_path[c.path],
            c.unit.start_line,
            c.unit.end_line,
            c.unit.name,
            c.reason,
            signature=c.unit.signature,
            head=True,
        )
        for c in ranked
    ]
    bodies = bodies_shown(ranked)
    rendered = _render(touched_blocks, called, test_blocks, plain, budget, bodies)
    shown_files = {path: rec.text for path, rec in records.items()}
    shown_files.update({c.path: test_by_path[c.path].text for c in ranked[:bodies]})
    shown_chars = sum(map(len, shown_files.values()))
    shown_chars += sum(len("\n".join(b.lines)) for b in plain)
    if marks is not None and len(rendered.text) > SLICE_SHARE * shown_chars:
        touched_blocks = _touched_blocks(records, touched, marks, COMPACT_CONTEXT)
        rendered = _render(touched_blocks, called, test_blocks, plain, budget, bodies)
    warnings.extend(rendered.warnings)

    involved = {path: rec.text for path, rec in records.items()}
    for c in ranked:
        involved.setdefault(c.path, test_by_path[c.path].text)
    whole = sum(index.whole_tokens(text) for text in involved.values())
    whole += sum(index.whole_tokens("\n".join(b.lines)) for b in plain)
    index.save()
    return Slice(
        touched=[
            TouchedUnit(
                path=path,
                name=u.name,
                kind=u.kind,
                start_line=u.start_line,
                end_line=u.end_line,
                language=records[path].language,
            )
            for path, u in touched
        ],
        tests=[
            RelatedTest(
                path=c.path,
                name=c.unit.name,
                start_line=c.unit.start_line,
                end_line=c.unit.end_line,
                score=c.score,
                reason=c.reason,
            )
            for c in ranked
        ],
        callees=called,
        text=rendered.text,
        tokens=rendered.tokens,
        whole_file_tokens=whole,
        excluded=sorted(excluded),
        warnings=warnings,
    )


def _render(
    touched: list[Block],
    called: list[CalleeSignature],
    tests: list[Block],
    plain: list[Block],
    budget: int,
    bodies: int,
) -> Rendered:
    """The slice text, with the signatures of the functions its shown lines call."""
    code = "\n".join(line for b in touched for line in shown_lines(b, numbers=False))
    callee_lines = [f"{c.path}:{c.line}  {c.signature}" for c in called_in(code, called)]
    return render(touched, callee_lines, tests, plain, budget, test_bodies=bodies)


def bodies_shown(ranked: list[Candidate]) -> int:
    """How many of the best tests to show whole: the best one, an example for the drafter.

    A second body cost as much as the change itself and taught little (issue 19: with one body
    the median slice over 17 repositories shrinks by 7%, and the ranking is unchanged).
    """
    return min(TEST_BODIES, len(ranked))


def changed_lines(changes: list[Change]) -> dict[str, set[int]]:
    """The new-side lines of each file that a diff changed, and both lines around each removal."""
    marks: dict[str, set[int]] = {}
    for change in changes:
        lines = marks.setdefault(change.path, set(change.lines))
        for deletion in change.deletions:
            lines.update((deletion.point - 1, deletion.point))
    return marks


def _touched_blocks(
    records: dict[str, FileRecord],
    touched: list[tuple[str, Unit]],
    marks: dict[str, set[int]] | None,
    context: int = CONTEXT,
) -> list[Block]:
    """One block per run of touched units of a file that overlap or are at most ``MIN_GAP``
    lines apart (short fields, a field whose trailing comment the next one claims): each line
    is shown once, under one header naming the units."""
    blocks: list[Block] = []
    names: list[list[str]] = []
    for path, unit in touched:
        block = _touched_block(records[path], unit, marks, context)
        last = blocks[-1] if blocks else None
        if last is not None and last.path == path and block.start_line <= last.end_line + MIN_GAP:
            blocks[-1] = _joined(records[path], last, block)
            names[-1].append(unit.name)
        else:
            blocks.append(block)
            names.append([unit.name])
    for block, group in zip(blocks, names, strict=True):
        block.name = _group_name(group)
    return blocks


def _joined(rec: FileRecord, first: Block, second: Block) -> Block:
    """``first`` and the block after it as one: the lines either shows, and those between."""
    start, end = first.start_line, max(first.end_line, second.end_line)
    shown = set(range(first.end_line + 1, second.start_line))
    for block in (first, second):
        every = range(block.start_line, block.end_line + 1)
        shown.update(every if block.shown is None else block.shown)
    kinds = dict.fromkeys([*first.note.split(", "), *second.note.split(", ")])
    block = _block(rec, start, end, first.name, ", ".join(kinds))
    if len(shown) < end - start + 1:
        block.shown = frozenset(shown)
    return block


NAMES_IN_HEADER = 3
"""A block of several units names this many in its header, then how many more (the JSON and
the plan prompt list them all)."""


def _group_name(names: list[str]) -> str:
    """``A.x, y, z and 2 more`` for the units of one block: each name once, the container the
    first names not repeated."""
    distinct = list(dict.fromkeys(names))
    lead = distinct[0]
    shown = [lead]
    for name in distinct[1:]:
        for sep in (".", "::"):
            container = lead.rpartition(sep)[0]
            if container and name.startswith(container + sep):
                name = name.removeprefix(container + sep)
                break
        shown.append(name)
    more = len(shown) - NAMES_IN_HEADER
    if more > 0:
        return f"{', '.join(shown[:NAMES_IN_HEADER])} and {more} more"
    return ", ".join(shown)


def _touched_block(
    rec: FileRecord, unit: Unit, marks: dict[str, set[int]] | None, context: int = CONTEXT
) -> Block:
    """A touched unit: whole for a range anchor (the code the user pointed at), around its
    changes for a diff."""
    block = _block(rec, unit.start_line, unit.end_line, unit.name, unit.kind)
    if marks is None:
        return block
    changed = marks.get(rec.path, set())
    shown = around_changes(block.lines, unit.start_line, changed, unit.signature, context)
    if shown is not None:
        block.shown = shown
    return block


def _block(
    rec: FileRecord,
    start: int,
    end: int,
    name: str,
    note: str,
    signature: str = "",
    *,
    head: bool = False,
) -> Block:
    lines = rec.lines()[start - 1 : end]
    block = Block(rec.path, name, start, end, lines, note=note, signature=signature)
    if head:
        block.shown, block.hidden = head_of_test(lines, start), "more"
    return block
