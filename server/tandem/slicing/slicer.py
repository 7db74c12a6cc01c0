"""``slice_repository``: from an anchor (range, diff, working tree) to a rendered Slice."""

from __future__ import annotations

import itertools
import logging
import posixpath
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tandem.slicing.diff import Deletion, DiffError, FileDiff, check_hunks, parse_diff
from tandem.slicing.exclusions import Exclusions
from tandem.slicing.files import RepoFiles, read_source, source_lines
from tandem.slicing.index import FileRecord, RepoIndex, identifiers
from tandem.slicing.languages import FAMILY, language_for_path
from tandem.slicing.related import Candidate, ChangeInfo, rank_tests
from tandem.slicing.render import Block, render
from tandem.slicing.result import (
    Anchor,
    CalleeSignature,
    DiffAnchor,
    FileRangeAnchor,
    RelatedTest,
    Slice,
    TouchedUnit,
)
from tandem.slicing.units import Unit, is_test_file
from tandem.slicing.walkcache import walk_repository_cached

if TYPE_CHECKING:
    from tandem.config import Settings

log = logging.getLogger("tandem.slicing")

MAX_CALLEES = 12
TEST_BODIES = 2  # at most this many related tests shown whole; the rest by signature
STRONG_BODY = 0.75  # a test after the first is shown whole only when it scores this share of it
_CALL = re.compile(r"([A-Za-z_]\w*)\s*(?:<[^<>()\n]*>)?\s*\(")
_TEST_MARKERS: dict[str, tuple[bytes, ...]] = {
    "rust": (b"#[test", b"test]", b"cfg(test)"),
    "java": (b"@Test", b"@ParameterizedTest", b"@RepeatedTest", b"@TestFactory", b"TestCase"),
}
_KIND_RANK = {"function": 0, "class": 1, "statement": 2}
_EXCLUDED_NOTE = "excluded (settings globs, .gitignore or .tandemignore); not read"


class SliceError(Exception):
    """Bad input for slicing (a diff that does not match the tree, a missing file, ...)."""


@dataclass
class _Change:
    path: str
    lines: set[int] = field(default_factory=set)
    deletions: list[Deletion] = field(default_factory=list)
    added_text: list[str] = field(default_factory=list)
    override: str | None = None


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
    changes = _changes_from_anchor(repo, anchor, warnings, exclusions, excluded)
    if index is None:
        index = RepoIndex(repo, settings.context.max_file_bytes)

    kept: list[_Change] = []
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

    touched = _touched_units(kept, records)
    if not changes and not any(w.endswith(_EXCLUDED_NOTE) for w in warnings):
        warnings.append("nothing changed: the diff is empty, so nothing is touched")
    elif not touched and records:
        warnings.append("no code unit is touched (only blank lines or comments changed?)")

    families = {FAMILY[r.language] for r in records.values()}
    test_records = _test_records(index, walk, families, set(records), warnings)
    for path, rec in records.items():
        if path not in {r.path for r in test_records} and any(u.is_test for u in rec.units):
            test_records.append(rec)

    info = ChangeInfo(files=set(records), touched=touched)
    for change in kept:
        for line in change.added_text:
            info.added_idents.update(identifiers(line.encode("utf-8")))
    sources = index.sources(walk.files, families)
    ranked = rank_tests(info, test_records, settings.context.max_related_tests, sources)
    callees = _callees(index, walk, records, touched)

    touched_blocks = [
        _block(records[path], unit.start_line, unit.end_line, unit.name, unit.kind)
        for path, unit in touched
    ]
    test_by_path = {r.path: r for r in test_records}
    test_blocks = [
        _block(
            test_by_path[c.path],
            c.unit.start_line,
            c.unit.end_line,
            c.unit.name,
            f"score {c.score}: {c.reason}",
            signature=c.unit.signature,
        )
        for c in ranked
    ]
    callee_lines = [f"{c.path}:{c.line}  {c.signature}" for c in callees]
    rendered = render(
        touched_blocks, callee_lines, test_blocks, plain, budget, test_bodies=bodies_shown(ranked)
    )
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
        callees=callees,
        text=rendered.text,
        tokens=rendered.tokens,
        whole_file_tokens=whole,
        excluded=sorted(excluded),
        warnings=warnings,
    )


# ---- anchors -----------------------------------------------------------------------------


def _relative(repo: Path, path: str) -> str:
    p = Path(path)
    if p.is_absolute():
        try:
            return p.resolve().relative_to(repo).as_posix()
        except ValueError as exc:
            raise SliceError(f"{path} is outside the repository {repo}") from exc
    rel = posixpath.normpath(p.as_posix())
    if rel == ".." or rel.startswith("../"):
        raise SliceError(f"{path} is outside the repository {repo}")
    return rel


def _changes_from_anchor(
    repo: Path,
    anchor: Anchor,
    warnings: list[str],
    exclusions: Exclusions,
    excluded: set[str],
) -> list[_Change]:
    """The changed files of ``anchor``; excluded files are listed in ``excluded``, never read."""

    def is_excluded(rel: str) -> bool:
        if exclusions.excluded(rel):
            excluded.add(rel)
            warnings.append(f"{rel}: {_EXCLUDED_NOTE}")
            return True
        return False

    if isinstance(anchor, FileRangeAnchor):
        rel = _relative(repo, anchor.path)
        if anchor.end_line < anchor.start_line:
            raise SliceError(
                f"bad line range {anchor.start_line}-{anchor.end_line}: the end is before the start"
            )
        if is_excluded(rel):
            return []
        if anchor.text is None and not (repo / rel).is_file():
            raise SliceError(f"file not found in the repository: {rel}")
        return [
            _Change(
                path=rel,
                lines=set(range(anchor.start_line, anchor.end_line + 1)),
                override=anchor.text,
            )
        ]
    diff_text = (
        anchor.diff if isinstance(anchor, DiffAnchor) else _git_diff(repo, anchor.base, exclusions)
    )
    try:
        file_diffs = parse_diff(diff_text)
    except DiffError as exc:
        raise SliceError(str(exc)) from exc
    if diff_text.strip() and not file_diffs:
        raise SliceError(
            "the diff has no file headers (--- a/PATH / +++ b/PATH); is it a unified diff?"
        )
    changes: list[_Change] = []
    for fd in file_diffs:
        if fd.new_path is None:
            continue  # a deleted file touches nothing that still exists
        rel = _relative(repo, fd.new_path)
        if is_excluded(rel):
            continue
        if _links_outside(repo, rel):
            warnings.append(f"{rel}: skipped, a symlink to outside the repository")
            continue
        if fd.binary:
            warnings.append(f"{fd.new_path}: binary change, not sliced")
            continue
        changes.append(_change_from_file_diff(repo, fd))
    return changes


def _links_outside(repo: Path, rel: str) -> bool:
    path = repo / rel
    try:
        return path.is_symlink() and not path.resolve().is_relative_to(repo)
    except (OSError, RuntimeError):
        return False  # a loop: reading it later reports the loop


def _change_from_file_diff(repo: Path, fd: FileDiff) -> _Change:
    rel = _relative(repo, fd.path)
    path = repo / rel
    if not path.is_file():
        first = fd.hunks[0].header if fd.hunks else "(no hunk)"
        raise SliceError(
            f"diff does not match the tree: hunk {first!r} changes {rel}, which is not in {repo}"
        )
    if language_for_path(rel) is not None and fd.hunks:
        try:
            lines = source_lines(path.read_bytes().decode("utf-8", "replace"))
        except OSError as exc:
            raise SliceError(f"cannot read {rel}: {exc.strerror}") from exc
        try:
            check_hunks(fd, lines)
        except DiffError as exc:
            raise SliceError(str(exc)) from exc
    return _Change(
        path=rel,
        lines=fd.added_lines(),
        deletions=fd.deletions(),
        added_text=fd.changed_text("+") + fd.changed_text("-"),
    )


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", "-C", str(repo), *args],
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SliceError(f"git failed: {exc}") from exc


def _git_diff(repo: Path, base: str, exclusions: Exclusions) -> str:
    inside = _git(repo, "rev-parse", "--is-inside-work-tree")
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        raise SliceError(
            f"{repo} is not a git repository, so --working-tree cannot work; "
            "use --diff FILE or --file F --lines A-B instead"
        )
    if base.startswith("-"):
        raise SliceError(f"bad base revision {base!r}")
    verify = _git(repo, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
    if verify.returncode != 0:
        raise SliceError(f"unknown base revision {base!r} (try HEAD, a branch or a commit id)")
    result = _git(
        repo, "diff", "--relative", "--no-color", "--no-ext-diff", "--no-renames", base, "--"
    )
    if result.returncode != 0:
        raise SliceError(f"git diff failed: {result.stderr.strip()}")
    diff = result.stdout
    untracked = _git(repo, "ls-files", "--others", "--exclude-standard")
    for rel in untracked.stdout.splitlines():
        if not rel or language_for_path(rel) is None or exclusions.excluded(rel):
            continue  # an excluded untracked file is never read
        try:
            text = (repo / rel).read_bytes().decode("utf-8", "replace")
        except OSError:
            continue
        lines = source_lines(text)
        body = "".join(f"+{line}\n" for line in lines)
        diff += f"--- /dev/null\n+++ b/{rel}\n@@ -0,0 +1,{len(lines)} @@\n{body}"
    return diff


# ---- touched units, tests, callees -------------------------------------------------------


def bodies_shown(ranked: list[Candidate]) -> int:
    """How many of the best tests to show whole: examples for the drafter, so only strong ones.

    A weak second guess shown whole costs as much as the change itself and teaches nothing.
    """
    if not ranked:
        return 0
    top = ranked[0].score
    strong = itertools.takewhile(lambda c: c.score >= top * STRONG_BODY, ranked[1:TEST_BODIES])
    return 1 + sum(1 for _ in strong)


def _touched_units(
    changes: list[_Change], records: dict[str, FileRecord]
) -> list[tuple[str, Unit]]:
    """The units holding changed lines; inline test code only when nothing else changed."""
    primary: list[tuple[str, Unit]] = []
    fallback: list[tuple[str, Unit]] = []
    for change in changes:
        rec = records.get(change.path)
        if rec is None:
            continue
        chosen: dict[int, Unit] = {}
        for line in sorted(change.lines):
            unit = _best_unit(rec.units, [line])
            if unit is not None:
                chosen[id(unit)] = unit
        for deletion in sorted(change.deletions, key=lambda d: d.point):
            unit = _best_unit(rec.units, [deletion.point - 1, deletion.point])
            if unit is None:
                unit = _unit_that_lost(rec, deletion)
            if unit is not None:
                chosen[id(unit)] = unit
        test_modules = [u.name for u in rec.units if u.kind == "class" and u.in_test_region]
        test_file = is_test_file(rec.path, rec.language)
        for unit in sorted(chosen.values(), key=lambda u: (u.start_line, u.name)):
            in_test = not test_file and _is_inline_test_code(unit, test_modules)
            (fallback if in_test else primary).append((change.path, unit))
    return primary or fallback


def _is_inline_test_code(unit: Unit, test_modules: list[str]) -> bool:
    """A test, or code of a test module; not a ``#[cfg(test)]`` method of a production type,
    which is part of that type (compiled for its tests, but changed with it)."""
    if not unit.in_test_region:
        return False
    if unit.is_test or not unit.container:
        return True
    return any(
        unit.name.startswith(f"{module}::") or unit.name == module for module in test_modules
    )


def _unit_that_lost(rec: FileRecord, deletion: Deletion) -> Unit | None:
    """The unit that held removed lines where the new side no longer shows a unit around them.

    A run removed from the end of an indented body (Python's trailing ``return None``) sits after
    the unit's last line; removed decorators or attributes sit just before its first line. The
    removed text's own shape tells which: deeper indentation than the unit's first line, or a
    leading ``@`` / ``#[``.
    """
    removed = [line for line in deletion.lines if line.strip()]
    if not removed:
        return None
    lines = rec.lines()
    before = deletion.point - 1
    while before >= 1 and before <= len(lines) and not lines[before - 1].strip():
        before -= 1
    first = removed[0]
    depth = len(first) - len(first.lstrip())
    decorated = (
        _next_code_line(lines, deletion.point)
        if removed[-1].lstrip().startswith(("@", "#["))
        else None
    )
    for unit in sorted(rec.units, key=lambda u: (_KIND_RANK.get(u.kind, 3), -u.start_line)):
        header = lines[unit.start_line - 1] if unit.start_line <= len(lines) else ""
        header_depth = len(header) - len(header.lstrip())
        # A class unit is its header only: lines under it were members, units of their own.
        if unit.kind != "class" and unit.end_line == before and depth > header_depth:
            return unit
        if unit.start_line == decorated:
            return unit
    return None


def _next_code_line(lines: list[str], line: int) -> int:
    while line <= len(lines) and not lines[line - 1].strip():
        line += 1
    return line


def _best_unit(units: list[Unit], lines: list[int]) -> Unit | None:
    best: Unit | None = None
    for unit in units:
        if all(unit.contains(line) for line in lines) and (
            best is None or _KIND_RANK.get(unit.kind, 3) < _KIND_RANK.get(best.kind, 3)
        ):
            best = unit
    return best


def _test_records(
    index: RepoIndex,
    walk: RepoFiles,
    families: set[str],
    changed: set[str],
    warnings: list[str],
) -> list[FileRecord]:
    out: list[FileRecord] = []
    for rel in walk.files:
        language = walk.languages[rel]
        family = FAMILY[language]
        if family not in families:
            continue
        if family != "rust" and not is_test_file(rel, language):
            continue
        markers = _TEST_MARKERS.get(family)
        if markers and rel not in changed and not _has_marker(index, rel, markers):
            continue
        rec = index.record(rel)
        if isinstance(rec, str):
            if "language not supported" not in rec:
                warnings.append(rec)
            continue
        out.append(rec)
    return out


def _has_marker(index: RepoIndex, rel: str, markers: tuple[bytes, ...]) -> bool:
    """Whether the file holds a test marker; a record the index holds answers without a read
    (markers are ASCII, which decoding, even with replacement characters, leaves as it is)."""
    known = index.known(rel)
    if isinstance(known, FileRecord):
        found = _MARKER_HITS.get((known.blob, markers))
        if found is None:
            data = known.text.encode("utf-8")
            found = _MARKER_HITS[(known.blob, markers)] = any(m in data for m in markers)
            if len(_MARKER_HITS) > 50_000:
                _MARKER_HITS.clear()
        return found
    try:
        data = (index.repo / rel).read_bytes()
    except OSError:
        return False
    return any(m in data for m in markers)


_MARKER_HITS: dict[tuple[str, tuple[bytes, ...]], bool] = {}


def _callees(
    index: RepoIndex,
    walk: RepoFiles,
    records: dict[str, FileRecord],
    touched: list[tuple[str, Unit]],
) -> list[CalleeSignature]:
    called: list[str] = []
    own = {u.simple_name for _, u in touched}
    for path, unit in touched:
        if unit.kind != "function":
            continue
        rec = records[path]
        lines = rec.lines()[unit.start_line - 1 : unit.end_line]
        body = "\n".join(lines[1:]) if len(lines) > 1 else "\n".join(lines)
        for m in _CALL.finditer(body):
            name = m.group(1)
            if name not in own and name not in called:
                called.append(name)
    if not called:
        return []
    dirs = {p.rpartition("/")[0] for p in records}
    families = {FAMILY[r.language] for r in records.values()}
    pool: list[FileRecord] = list(records.values())
    for rel in walk.files:
        language = walk.languages[rel]
        if (
            rel in records
            or FAMILY[language] not in families
            or rel.rpartition("/")[0] not in dirs
            or is_test_file(rel, language)
        ):
            continue
        found = index.record(rel)
        if isinstance(found, FileRecord):
            pool.append(found)
    defs: dict[str, tuple[str, Unit]] = {}
    for rec in pool:
        for unit in rec.units:
            if unit.kind == "function" and not unit.in_test_region and unit.signature:
                defs.setdefault(unit.simple_name, (rec.path, unit))
    out: list[CalleeSignature] = []
    for name in called:
        if name in defs:
            path, unit = defs[name]
            out.append(
                CalleeSignature(
                    path=path, name=unit.name, signature=unit.signature, line=unit.start_line
                )
            )
        if len(out) >= MAX_CALLEES:
            break
    return out


def _block(
    rec: FileRecord, start: int, end: int, name: str, note: str, signature: str = ""
) -> Block:
    lines = rec.lines()[start - 1 : end]
    return Block(rec.path, name, start, end, lines, note=note, signature=signature)
