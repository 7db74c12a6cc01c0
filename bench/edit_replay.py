"""Oracle replay of real commits through Tandem's edit code (issue 16); prints, never a test.

For each commit of the manifests (``../shared/bench/related_tests/*.jsonl``, or any manifest in
that format), the files the commit changed are read at the parent (a snapshot, as the flow takes
one before a draft) and at the commit. The edits a perfect drafter would return for the whole
commit (source, tests, docs, config: every file) are derived by ``bench/edit_oracle.py`` in three
styles (whole units, patches, the prompt's mix), applied to the snapshot with the product's own
``apply_edits``, and the result is compared byte for byte with the commit's files. The same
commits are replayed with the edit kinds Tandem had before issue 16 (``replace_unit``,
``insert_unit``, ``add_test``, ``new_file``): the baseline, in the same run.

Per repository (and its language): the share of commits reproduced exactly (per style and for
the baseline), why the others were not (per commit, each reason once), and the output tokens of
the oracle's reply (compact JSON, o200k, the product's counter) in each style, whole files
included. ``macro`` is the unweighted mean of the repositories' figures; ``pooled`` takes all
commits together.

Run: ``python bench/edit_replay.py --manifests FILE... --mirrors DIR [--limit N] --json OUT``.
``DIR`` holds bare mirrors as ``<owner>+<name>`` or ``<owner>+<name>/repo``.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from edit_hunks import (
    BASELINE_KINDS,
    KINDS,
    EditDict,
    Hunk,
    edit,
    floor_edits,
    reply_tokens,
    to_edit,
)
from edit_oracle import FileEdits, modified_file
from tandem.flow.edits import Snapshot, apply_edits, snapshot_text
from tandem.flow.handoff import Scope, split_unit_id
from tandem.slicing.codeunits import language_for

STYLES = ("units", "patch", "mixed")


# ---- git -----------------------------------------------------------------------------------


class Mirror:
    """A bare mirror read with ``git cat-file --batch`` (one process) and ``git diff``."""

    def __init__(self, git_dir: Path) -> None:
        self.git_dir = git_dir
        self._batch = subprocess.Popen(
            ["git", "--git-dir", str(git_dir), "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    def git(self, *args: str) -> bytes:
        run = subprocess.run(
            ["git", "--git-dir", str(self.git_dir), *args], capture_output=True, check=False
        )
        if run.returncode != 0:
            raise RuntimeError(f"git {' '.join(args)}: {run.stderr.decode(errors='replace')}")
        return run.stdout

    def blob(self, sha: str) -> bytes:
        assert self._batch.stdin is not None and self._batch.stdout is not None
        self._batch.stdin.write(sha.encode() + b"\n")
        self._batch.stdin.flush()
        header = self._batch.stdout.readline().split()
        if len(header) < 3:
            raise RuntimeError(f"no blob {sha} in {self.git_dir}")
        data = self._batch.stdout.read(int(header[2]))
        self._batch.stdout.read(1)
        return data

    def close(self) -> None:
        if self._batch.stdin is not None:
            self._batch.stdin.close()
        self._batch.wait()


@dataclass
class Change:
    """One file of a commit: status A, M, D or R (rename, maybe with changes)."""

    status: str
    path: str
    new_path: str
    pre: bytes | None
    post: bytes | None
    mode: str = ""
    old_sha: str = ""
    new_sha: str = ""


ZERO = "0" * 40


def commit_changes(mirror: Mirror, parent: str, sha: str) -> list[Change]:
    raw = mirror.git("diff", "--raw", "-z", "-M", "--no-abbrev", parent, sha).split(b"\0")
    changes: list[Change] = []
    i = 0
    while i < len(raw) - 1:
        meta = raw[i].decode().lstrip(":").split()
        old_mode, new_mode, old_sha, new_sha, status = meta[0], meta[1], meta[2], meta[3], meta[4]
        path = raw[i + 1].decode("utf-8", "surrogateescape")
        new_path = path
        i += 2
        if status[0] in "RC":
            new_path = raw[i].decode("utf-8", "surrogateescape")
            i += 1
        mode = new_mode if new_mode != "000000" else old_mode
        changes.append(
            Change(
                status[0],
                path,
                new_path,
                mirror.blob(old_sha) if old_sha != ZERO else None,
                mirror.blob(new_sha) if new_sha != ZERO else None,
                mode,
                old_sha,
                new_sha,
            )
        )
    return changes


_HUNK = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@", re.MULTILINE)


def hunks_of(mirror: Mirror, old: str, new: str) -> list[Hunk]:
    """``git diff -U0`` hunks between two blobs, 0-based and half-open."""
    out = mirror.git("diff", "-U0", "--no-color", "--no-ext-diff", "--no-textconv", old, new)
    hunks = []
    for match in _HUNK.finditer(out):
        a, b = int(match.group(1)), int(match.group(2) or b"1")
        c, d = int(match.group(3)), int(match.group(4) or b"1")
        ps = a if b == 0 else a - 1
        qs = c if d == 0 else c - 1
        hunks.append(Hunk(ps, ps + b, qs, qs + d))
    return hunks


# ---- one commit ----------------------------------------------------------------------------


def text_of(data: bytes | None) -> tuple[str | None, str]:
    """The text of a blob, or why Tandem cannot edit it as text."""
    if data is None:
        return None, ""
    if b"\0" in data[:8000]:
        return None, "binary file"
    try:
        return data.decode("utf-8"), ""
    except UnicodeDecodeError:
        return None, "file not UTF-8"


@dataclass
class CommitEdits:
    """The oracle's edits of one commit per style, and why a style has none."""

    edits: dict[str, list[EditDict]] = field(default_factory=lambda: {s: [] for s in STYLES})
    whole: list[EditDict] = field(default_factory=list)
    misses: dict[str, list[str]] = field(default_factory=lambda: {s: [] for s in STYLES})
    snapshot: dict[str, str | None] = field(default_factory=dict)
    expected: dict[str, str | None] = field(default_factory=dict)
    scope_files: set[str] = field(default_factory=set)
    replaced: list[tuple[int, int]] = field(default_factory=list)


def derive(mirror: Mirror, changes: list[Change], kinds: frozenset[str]) -> CommitEdits:
    out = CommitEdits()
    for change in changes:
        pre, pre_problem = text_of(change.pre)
        post, post_problem = text_of(change.post)
        problem = pre_problem or post_problem
        if change.mode in ("120000", "160000"):
            problem = "symlink or submodule"
        out.scope_files |= {change.path, change.new_path}
        if problem:
            for style in STYLES:
                out.misses[style].append(problem)
            continue
        out.snapshot[change.path] = pre
        out.snapshot.setdefault(change.new_path, None)
        out.expected[change.path] = None
        out.expected[change.new_path] = post
        _file(mirror, change, pre, post, kinds, out)
    return out


def _file(
    mirror: Mirror,
    change: Change,
    pre: str | None,
    post: str | None,
    kinds: frozenset[str],
    out: CommitEdits,
) -> None:
    def add_all(edits: list[EditDict], needs: str) -> None:
        for style in STYLES:
            if needs in kinds:
                out.edits[style] += edits
            else:
                out.misses[style].append(f"{needs} missing ({_what(change)})")

    if change.status == "A":
        assert post is not None
        out.whole.append(edit("new_file", change.path, post))
        add_all([edit("new_file", change.path, post)], "new_file")
        return
    if change.status == "D":
        out.whole.append(edit("delete_file", change.path))
        add_all([edit("delete_file", change.path)], "delete_file")
        return
    assert pre is not None and post is not None and change.pre is not None
    assert change.post is not None
    if change.status == "R":
        add_all([edit("rename_file", change.path, change.new_path)], "rename_file")
        out.whole.append(edit("rename_file", change.path, change.new_path))
    if pre == post:
        return
    file = snapshot_text(change.path, pre)
    hunks = hunks_of(mirror, change.old_sha, change.new_sha)
    found: FileEdits = modified_file(file, post, hunks, kinds)
    out.whole += found.whole
    out.replaced += found.replaced
    for style in STYLES:
        made = getattr(found, style)
        if made is None:
            out.misses[style].append(found.miss.get(style, "no edit"))
        else:
            out.edits[style] += made


def _what(change: Change) -> str:
    return {"A": "adds a file", "D": "deletes a file", "R": "renames a file"}.get(
        change.status, "changes a file"
    )


def replay(found: CommitEdits, style: str, kinds: frozenset[str]) -> tuple[bool, list[str]]:
    """Apply one style's edits with the product's code; exact, and why not."""
    if found.misses[style]:
        return False, sorted(set(found.misses[style]))
    unknown = sorted({e["kind"] for e in found.edits[style]} - kinds)
    if unknown:
        return False, [f"{kind} missing" for kind in unknown]
    snapshot = Snapshot(
        files={path: snapshot_text(path, text) for path, text in found.snapshot.items()}
    )
    scope = Scope(units=[], files=sorted(found.scope_files), out_of_scope=[])
    result = apply_edits(snapshot, [to_edit(e) for e in found.edits[style]], scope)
    reasons = sorted({_refusal(r.reason) for r in result.rejected})
    final = final_texts(found.snapshot, result)
    wrong = [path for path, text in found.expected.items() if final.get(path) != text]
    if wrong and not reasons:
        reasons = ["applied text differs from the commit"]
    return not reasons, reasons


def final_texts(before: dict[str, str | None], result: Any) -> dict[str, str | None]:
    """Every snapshot path as the edits leave it (None: absent)."""
    final = dict(before)
    final.update(result.files)
    for path in getattr(result, "removed", ()):
        final[path] = None
    return final


def _refusal(reason: str) -> str:
    if "overlaps" in reason:
        return "refused: overlapping edits"
    return "refused: " + re.sub(r"\S*[/:]\S*", "<target>", reason)[:80]


def _code_only(edits: list[EditDict]) -> list[EditDict]:
    """The edits of files Tandem slices (units exist only there)."""
    return [e for e in edits if language_for(split_unit_id(e["target"])[0])]


def replay_commit(mirror: Mirror, row: dict[str, Any]) -> dict[str, Any]:
    changes = commit_changes(mirror, row["parent"], row["sha"])
    found = derive(mirror, changes, KINDS)
    record: dict[str, Any] = {"sha": row["sha"], "files": len(changes), "exact": {}, "why": {}}
    for style in STYLES:
        record["exact"][style], record["why"][style] = replay(found, style, KINDS)
    record["tokens"] = {
        style: None if found.misses[style] else reply_tokens(found.edits[style]) for style in STYLES
    }
    record["tokens"]["files"] = reply_tokens(found.whole)
    record["tokens"]["floor"] = (
        None
        if found.misses["mixed"]
        else reply_tokens(floor_edits(found.edits["mixed"], found.snapshot))
    )
    record["tokens_code"] = {
        style: None if found.misses[style] else reply_tokens(_code_only(found.edits[style]))
        for style in STYLES
    }
    record["tokens_code"]["files"] = reply_tokens(_code_only(found.whole))
    record["changed_units"] = [sum(u for u, _ in found.replaced), sum(p for _, p in found.replaced)]
    base = derive(mirror, changes, BASELINE_KINDS)
    record["baseline_exact"], record["baseline_why"] = replay(base, "units", BASELINE_KINDS)
    record["baseline_tokens"] = None if base.misses["units"] else reply_tokens(base.edits["units"])
    code = [c for c in changes if language_for(c.path) and language_for(c.new_path)]
    sliced = derive(mirror, code, BASELINE_KINDS)
    record["baseline_exact_sliced_files"] = replay(sliced, "units", BASELINE_KINDS)[0]
    return record


# ---- figures -------------------------------------------------------------------------------


def _pct(flags: list[bool]) -> float:
    return round(100.0 * sum(flags) / len(flags), 1) if flags else 0.0


def _ratio(records: list[dict[str, Any]], top: str, bottom: str) -> float | None:
    ratios = [
        r["tokens"][top] / r["tokens"][bottom]
        for r in records
        if r["tokens"][top] is not None and r["tokens"][bottom]
    ]
    return round(statistics.median(ratios), 3) if ratios else None


def figures(records: list[dict[str, Any]]) -> dict[str, Any]:
    misses: Counter[str] = Counter()
    baseline_misses: Counter[str] = Counter()
    for r in records:
        misses.update(r["why"]["mixed"])
        baseline_misses.update(r["baseline_why"])
    tokens: dict[str, Any] = {}
    for style in (*STYLES, "files", "floor"):
        values = [r["tokens"][style] for r in records if r["tokens"][style] is not None]
        tokens[style] = {
            "median": statistics.median(values) if values else None,
            "total": sum(values),
            "commits": len(values),
        }
    return {
        "commits": len(records),
        "exact_pct": _pct([r["exact"]["mixed"] for r in records]),
        "exact_pct_by_style": {s: _pct([r["exact"][s] for r in records]) for s in STYLES},
        "baseline_exact_pct": _pct([r["baseline_exact"] for r in records]),
        "baseline_exact_pct_sliced_files_only": _pct(
            [r["baseline_exact_sliced_files"] for r in records]
        ),
        "misses": dict(misses.most_common()),
        "baseline_misses": dict(baseline_misses.most_common()),
        "output_tokens": tokens,
        "patch_vs_unit_output_ratio": _ratio(records, "mixed", "units"),
        "floor_vs_unit_output_ratio": _ratio(records, "floor", "units"),
        "pure_patch_vs_unit_output_ratio": _ratio(records, "patch", "units"),
        "unit_vs_file_output_ratio": _ratio(records, "units", "files"),
        "changed_units_patch_vs_unit_ratio": _changed_units(records),
    }


def _changed_units(records: list[dict[str, Any]]) -> float | None:
    """Median over commits of: patches / replace_unit tokens, for the units changed in place."""
    ratios = [
        r["changed_units"][1] / r["changed_units"][0] for r in records if r["changed_units"][0]
    ]
    return round(statistics.median(ratios), 3) if ratios else None


MACRO_KEYS = (
    "exact_pct",
    "baseline_exact_pct",
    "baseline_exact_pct_sliced_files_only",
    "patch_vs_unit_output_ratio",
    "floor_vs_unit_output_ratio",
    "pure_patch_vs_unit_output_ratio",
    "unit_vs_file_output_ratio",
    "changed_units_patch_vs_unit_ratio",
)


def macro(per_repo: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in MACRO_KEYS:
        values = [v[key] for v in per_repo.values() if v[key] is not None]
        out[key] = round(statistics.fmean(values), 3) if values else None
    return out


def mirror_dir(mirrors: Path, repo: str) -> Path:
    base = mirrors / repo.replace("/", "+")
    return base / "repo" if (base / "repo").is_dir() else base


def manifest_parser(description: str) -> argparse.ArgumentParser:
    """The command line shared by the benchmarks over these manifests."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--manifests", nargs="+", type=Path, required=True)
    parser.add_argument("--mirrors", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=None, help="first N commits per manifest")
    parser.add_argument("--json", type=Path, required=True, dest="json_out")
    return parser


def manifest_repos(args: argparse.Namespace) -> Iterator[tuple[str, list[dict[str, Any]], Mirror]]:
    """Each manifest's repository, its rows (the first ``--limit``) and its mirror, opened for
    the caller and closed after."""
    for manifest in args.manifests:
        rows = [json.loads(line) for line in manifest.read_text().splitlines() if line.strip()]
        rows = rows[: args.limit] if args.limit else rows
        if not rows:
            continue
        mirror = Mirror(mirror_dir(args.mirrors, rows[0]["repo"]))
        try:
            yield rows[0]["repo"], rows, mirror
        finally:
            mirror.close()


def write_result(path: Path, result: dict[str, Any], headline: str) -> int:
    """Write the JSON document and print its headline figures."""
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(headline, json.dumps(result[headline]))
    return 0


def main() -> int:
    parser = manifest_parser(__doc__.split("\n")[0])
    parser.add_argument("--verbose", action="store_true", help="print every commit not exact")
    args = parser.parse_args()
    per_repo: dict[str, dict[str, Any]] = {}
    pooled: list[dict[str, Any]] = []
    commits: dict[str, list[dict[str, Any]]] = {}
    started = time.perf_counter()
    for repo, rows, mirror in manifest_repos(args):
        records = []
        for row in rows:
            record = replay_commit(mirror, row)
            records.append(record)
            if args.verbose and not record["exact"]["mixed"]:
                print(repo, row["sha"][:12], record["why"]["mixed"], file=sys.stderr)
        per_repo[repo] = {"lang": rows[0].get("lang", ""), **figures(records)}
        commits[repo] = records
        pooled += records
        summary = per_repo[repo]
        print(
            f"{repo:24} {summary['lang']:10} commits {summary['commits']:3}  "
            f"exact {summary['exact_pct']:5.1f}% (baseline {summary['baseline_exact_pct']:5.1f}%)  "
            f"patch/unit {summary['patch_vs_unit_output_ratio']}  "
            f"unit/file {summary['unit_vs_file_output_ratio']}"
        )
    result = {
        "per_repo": per_repo,
        "macro": macro(per_repo),
        "pooled": figures(pooled) if pooled else {},
        "kinds": sorted(KINDS),
        "baseline_kinds": sorted(BASELINE_KINDS),
        "seconds": round(time.perf_counter() - started, 1),
        "commits": commits,
    }
    return write_result(args.json_out, result, "macro")


if __name__ == "__main__":
    raise SystemExit(main())
