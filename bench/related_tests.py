"""Related-test quality of the slicer on real commits (issue 3, item 9a); prints, never a test.

Reads the manifests in ``../shared/bench/related_tests/*.jsonl`` (see the README there: each row
is one commit; the slicer gets the post-commit tree and the diff of the source files only, and
should rank the tests the commit changed near the top). The repositories come from bare mirrors
(``/work/.mirror/<owner>+<name>/repo`` by default, brought with the ``fetch`` tool); each row's
tree is materialised once with ``git archive`` under ``--cache`` (outside the project, never
committed), with its diff beside it (Rust inline-test regions removed as the README asks).

Per instance:

- **cold**: ``python -m tandem slice --repo TREE --diff DIFF --json`` in a fresh process, with no
  index cache in the tree (the README's contract; its answer is the one scored). With
  ``--in-process`` the first in-process call is scored and timed instead (no process start,
  grammars already loaded), which is much faster for iterating on the ranking.
- **warm**: ``slice_repository`` again in this process with the persisted index from the cold run.
- **baseline**: the README's "v1" name matching (changed lines to innermost function units; score
  = identifiers of the test body that match a name from the change, +1 for a test file paired by
  naming convention), computed here on the same trees in the same run.

Manifests: the five the slicer was tuned on (``../shared/bench/related_tests``) and the twelve of
``bench/related_tests_manifests`` (issue 19), all scored unless ``--repos`` picks some.

Metrics per repository (means; slice/whole and times are medians) and macro-averaged: R@5, R@10,
P@10, MRR, file recall at 10, touched-unit recall, slice/whole-file size ratio, cold/warm latency;
``R10old``: R@10 over the ground-truth tests that existed at the parent (instances with one);
``plan1``/``plan3``: the planner's view, over instances whose commit added tests: whether the file
it added them to is the first file of the ranking, or among its first three distinct files.
``bench/related_loo.py`` runs variants of the ranking rules and reports them left-one-repo-out.
Two size ratios: ``slice`` is the manifests' (characters of the text over the characters of the
commit's source and test files); ``tokens`` is issue 3's (the slice's exact tokens over the
whole-file tokens of the files involved: the changed files and the files of the ranked tests,
as ``tandem slice --json`` reports them).

Run: ``python bench/related_tests.py [--repos click,cobra] [--limit N] [--in-process]
[--half even|odd] [--json OUT]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))

from tandem.config import Settings  # noqa: E402
from tandem.slicing import slice_repository  # noqa: E402
from tandem.slicing.diff import parse_diff  # noqa: E402
from tandem.slicing.exclusions import Exclusions  # noqa: E402
from tandem.slicing.files import walk_repository  # noqa: E402
from tandem.slicing.index import RepoIndex  # noqa: E402
from tandem.slicing.languages import FAMILY, language_for_path  # noqa: E402
from tandem.slicing.records import FileRecord, identifiers  # noqa: E402
from tandem.slicing.result import DiffAnchor  # noqa: E402
from tandem.slicing.units import Unit, is_test_file  # noqa: E402

MANIFESTS = ROOT.parent / "shared" / "bench" / "related_tests"  # the five tuned on (issue 3)
MORE_MANIFESTS = ROOT / "bench" / "related_tests_manifests"  # twelve more (issue 19)
MIRRORS = Path("/work/.mirror")
CACHE = Path("/work/bench-cache/related_tests")
TIMEOUT_S = 60
METRICS = ("r5", "r10", "r_all", "p10", "mrr", "f10", "touched", "r10_old", "plan1", "plan3")
NAN = float("nan")


# ---- materialising instances -------------------------------------------------------------


def _git(git_dir: Path, *args: str, binary: bool = False) -> bytes:
    result = subprocess.run(
        ["git", "--git-dir", str(git_dir), *args], capture_output=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {result.stderr.decode(errors='replace')}")
    return result.stdout


def materialise(row: dict[str, Any], mirror: Path, cache: Path) -> tuple[Path, Path]:
    """The instance's tree (post-commit state, no .git) and its source diff, made once."""
    base = cache / row["repo"].replace("/", "+") / row["sha"][:12]
    tree, diff_path, done = base / "tree", base / "change.diff", base / ".done"
    if not done.exists():
        if base.exists():
            shutil.rmtree(base)
        tree.mkdir(parents=True)
        archive = subprocess.Popen(
            ["git", "--git-dir", str(mirror), "archive", row["sha"]], stdout=subprocess.PIPE
        )
        subprocess.run(["tar", "-x", "-C", str(tree)], stdin=archive.stdout, check=True)
        if archive.wait() != 0:
            raise RuntimeError(f"git archive {row['sha']} failed")
        diff = _git(
            mirror,
            "diff",
            "--no-renames",
            "--no-color",
            "--no-ext-diff",
            "--src-prefix=a/",
            "--dst-prefix=b/",
            row["parent"],
            row["sha"],
            "--",
            *row["src_files"],
        ).decode("utf-8", "replace")
        if row.get("src_diff_exclude"):
            diff = exclude_regions(diff, row["src_diff_exclude"])
        diff_path.write_text(diff, encoding="utf-8")
        done.touch()
    return tree, diff_path


_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$")


def exclude_regions(diff: str, regions: list[dict[str, Any]]) -> str:
    """Drop the diff lines inside excluded ranges and split hunks so their headers stay true."""
    out: list[str] = []
    path = ""
    lines = diff.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        line = lines[i]
        m = _HUNK.match(line)
        if line.startswith("+++ "):
            path = line[4:].strip().removeprefix("b/")
        if not m:
            out.append(line)
            i += 1
            continue
        old_no, new_no = int(m.group(1)), int(m.group(3))
        if m.group(2) == "0":
            old_no += 1
        if m.group(4) == "0":
            new_no += 1
        body: list[tuple[str, int, int]] = []  # (line, old number, new number)
        i += 1
        while i < len(lines) and lines[i][:1] in (" ", "+", "-", "\\"):
            body.append((lines[i], old_no, new_no))
            tag = lines[i][:1]
            if tag in (" ", "-"):
                old_no += 1
            if tag in (" ", "+"):
                new_no += 1
            i += 1
        segment: list[tuple[str, int, int]] = []
        for entry in [*body, ("", 0, 0)]:
            text, o, n = entry
            tag = text[:1]
            if text == "":
                drop = True
            elif tag == "-":
                drop = _inside(regions, path, "old", o)
            elif tag == "+":
                drop = _inside(regions, path, "new", n)
            else:
                drop = False
            if drop:
                out.extend(_emit(segment))
                segment = []
            else:
                segment.append(entry)
    return "".join(out)


def _inside(regions: list[dict[str, Any]], path: str, side: str, line: int) -> bool:
    return any(
        r["path"] == path and r["side"] == side and r["start_line"] <= line <= r["end_line"]
        for r in regions
    )


def _emit(segment: list[tuple[str, int, int]]) -> list[str]:
    # Context lines at either end carry no change; keep at most three, as git does.
    while segment and segment[0][0][:1] == "\\":
        segment = segment[1:]
    if not any(t[:1] in ("+", "-") for t, _, _ in segment):
        return []
    first = next(k for k, (t, _, _) in enumerate(segment) if t[:1] in ("+", "-"))
    last = max(k for k, (t, _, _) in enumerate(segment) if t[:1] in ("+", "-"))
    segment = segment[max(0, first - 3) : last + 4]
    old_count = sum(1 for t, _, _ in segment if t[:1] in (" ", "-"))
    new_count = sum(1 for t, _, _ in segment if t[:1] in (" ", "+"))
    old_start, new_start = segment[0][1], segment[0][2]
    if old_count == 0:
        old_start -= 1
    if new_count == 0:
        new_start -= 1
    header = f"@@ -{old_start},{old_count} +{new_start},{new_count} @@\n"
    return [header, *(t for t, _, _ in segment)]


# ---- scoring -----------------------------------------------------------------------------


def _overlaps(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return (
        a["path"] == b["path"]
        and a["start_line"] <= b["end_line"]
        and b["start_line"] <= a["end_line"]
    )


def score(row: dict[str, Any], answer: dict[str, Any] | None) -> dict[str, float]:
    """The README's per-instance metrics for one answer (None: a failed answer, all zeros)."""
    zero = dict.fromkeys(METRICS, 0.0)
    if answer is None:
        if not any(g.get("existed_at_parent") for g in row["gt_tests"]):
            zero["r10_old"] = NAN
        if all(g.get("existed_at_parent") for g in row["gt_tests"]):
            zero["plan1"] = zero["plan3"] = NAN
        return zero
    gt = row["gt_tests"]
    ranked = [
        t
        for t in answer.get("tests", [])
        if isinstance(t, dict) and {"path", "start_line", "end_line"} <= t.keys()
    ]

    def recall(k: int | None) -> float:
        top = ranked if k is None else ranked[:k]
        return sum(any(_overlaps(g, p) for p in top) for g in gt) / len(gt)

    top10 = ranked[:10]
    hits = [any(_overlaps(p, g) for g in gt) for p in ranked]
    gt_files = {g["path"] for g in gt}
    touched_ok = [
        any(_overlaps(t, a) for a in answer.get("touched", []) if isinstance(a, dict))
        for t in row["touched"]
    ]
    first = next((k for k, hit in enumerate(hits) if hit), None)
    old = [g for g in gt if g.get("existed_at_parent")]
    # The planner's view: the files the commit added its new tests to, against the files of
    # the ranking in order (the first one, and the first three distinct ones).
    new_files = {g["path"] for g in gt if not g.get("existed_at_parent")}
    shown_files = list(dict.fromkeys(p["path"] for p in top10))
    return {
        "r5": recall(5),
        "r10": recall(10),
        "r_all": recall(None),
        "p10": sum(hits[:10]) / len(top10) if top10 else 0.0,
        "mrr": 1.0 / (first + 1) if first is not None else 0.0,
        "f10": len(gt_files & {p["path"] for p in top10}) / len(gt_files),
        "touched": sum(touched_ok) / len(touched_ok) if touched_ok else 1.0,
        "r10_old": (
            sum(any(_overlaps(g, p) for p in top10) for g in old) / len(old) if old else NAN
        ),
        "plan1": float(bool(shown_files[:1]) and shown_files[0] in new_files) if new_files else NAN,
        "plan3": float(bool(new_files & set(shown_files[:3]))) if new_files else NAN,
    }


# ---- the name-matching baseline ------------------------------------------------------------


def _stem(path: str) -> str:
    stem = PurePosixPath(path).name.split(".")[0].lower()
    stem = stem.removeprefix("test_")
    for suf in ("_test", "tests", "test", "_spec"):
        if stem.endswith(suf) and len(stem) > len(suf):
            return stem[: -len(suf)]
    return stem


def baseline(tree: Path, diff: str, settings: Settings) -> dict[str, Any]:
    """The manifests README's "v1" name matching, run on the same tree and diff."""
    index = RepoIndex(tree, settings.context.max_file_bytes, persist=False)
    names: set[str] = set()
    touched: list[dict[str, Any]] = []
    changed: set[str] = set()
    families: set[str] = set()
    for fd in parse_diff(diff):
        if fd.new_path is None:
            continue
        rec = index.record(fd.new_path)
        if not isinstance(rec, FileRecord):
            continue
        changed.add(rec.path)
        families.add(FAMILY[rec.language])
        lines = rec.text.splitlines()
        seen: set[int] = set()
        for line in sorted(fd.added_lines() | fd.deletion_points()):
            funcs = [u for u in rec.units if u.kind == "function" and u.contains(line)]
            if funcs:
                unit = min(funcs, key=lambda u: u.end_line - u.start_line)
                names.add(unit.simple_name)
                if unit.container:
                    names.add(unit.container)
            else:
                # module-level line: its identifiers are names from the change
                if 0 < line <= len(lines):
                    names.update(identifiers(lines[line - 1].encode()))
                others = [u for u in rec.units if u.contains(line)]
                if not others:
                    continue
                unit = min(others, key=lambda u: u.end_line - u.start_line)
            if id(unit) not in seen:
                seen.add(id(unit))
                touched.append(_unit_json(rec.path, unit))
    walk = walk_repository(tree, Exclusions.load(tree, settings.exclusions))
    scored: list[tuple[float, str, Unit]] = []
    for rel in walk.files:
        language = language_for_path(rel)
        if language is None or FAMILY[language] not in families:
            continue
        if FAMILY[language] != "rust" and not is_test_file(rel, language):
            continue
        rec = index.record(rel)
        if not isinstance(rec, FileRecord):
            continue
        paired = any(_stem(rel) == _stem(c) and rel != c for c in changed)
        for unit, idents in zip(rec.units, rec.idents, strict=True):
            if unit.is_test:
                s = len(idents & names) + (1 if paired else 0)
                if s > 0:
                    scored.append((s, rel, unit))
    scored.sort(key=lambda x: (-x[0], x[1], x[2].start_line))
    tests = [dict(_unit_json(p, u), score=s) for s, p, u in scored]
    return {"touched": touched, "tests": tests}


def _unit_json(path: str, unit: Unit) -> dict[str, Any]:
    return {
        "path": path,
        "name": unit.name,
        "start_line": unit.start_line,
        "end_line": unit.end_line,
    }


def _text_chars(tree: Path, answer: dict[str, Any]) -> int:
    """Characters of the baseline's text: the touched units plus its top 10 tests."""
    seen: dict[str, list[str]] = {}
    total = 0
    for unit in answer["touched"] + answer["tests"][:10]:
        lines = seen.setdefault(
            unit["path"],
            (tree / unit["path"]).read_text(encoding="utf-8", errors="replace").splitlines(True),
        )
        total += sum(len(x) for x in lines[unit["start_line"] - 1 : unit["end_line"]])
    return total


# ---- running -------------------------------------------------------------------------------


@dataclass
class RepoResult:
    repo: str
    ours: list[dict[str, float]] = field(default_factory=list)
    base: list[dict[str, float]] = field(default_factory=list)
    ratio: list[float] = field(default_factory=list)
    token_ratio: list[float] = field(default_factory=list)  # the issue's: of the files involved
    base_ratio: list[float] = field(default_factory=list)
    cold: list[float] = field(default_factory=list)
    warm: list[float] = field(default_factory=list)
    failed: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)


def run_cold_process(tree: Path, diff: Path) -> tuple[dict[str, Any] | None, float]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "server"))
    start = time.perf_counter()
    command = [sys.executable, "-m", "tandem", "slice", "--json", "--repo", str(tree)]
    command.extend(["--diff", str(diff)])
    try:
        proc = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None, float(TIMEOUT_S)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        print(f"    failed: {proc.stderr.strip()[:300]}", file=sys.stderr)
        return None, elapsed
    try:
        answer = json.loads(proc.stdout)
    except ValueError:
        return None, elapsed
    return (answer if isinstance(answer, dict) else None), elapsed


_SHARED_BLOBS: dict[str, dict[str, Any]] = {}


def share_parses_across_trees() -> None:
    """Iterating only: one in-memory parse cache per process, keyed by blob id, for all trees.

    The instances of one repository share most files, so the ranking can be re-measured without
    reparsing them. Timings are then meaningless (reported as such).
    """

    def _load(self: RepoIndex) -> None:
        self._cache = _SHARED_BLOBS

    def _save(self: RepoIndex) -> None:
        return None

    RepoIndex._load = _load  # type: ignore[method-assign]
    RepoIndex.save = _save  # type: ignore[method-assign]


def run_in_process(tree: Path, diff: str, settings: Settings) -> tuple[dict[str, Any], float]:
    start = time.perf_counter()
    result = slice_repository(tree, DiffAnchor(diff=diff), settings)
    return result.model_dump(mode="json"), time.perf_counter() - start


def load_rows(path: Path, limit: int | None, half: str | None) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    if half is not None:
        rows = [r for k, r in enumerate(rows) if k % 2 == (0 if half == "even" else 1)]
    return rows[:limit] if limit else rows


def run_repo(manifest: Path, args: argparse.Namespace, settings: Settings) -> RepoResult:
    rows = load_rows(manifest, args.limit, args.half)
    _SHARED_BLOBS.clear()  # with --shared-parses: one repository's parses at a time
    name = manifest.stem
    mirror = args.mirrors / name / "repo"
    result = RepoResult(rows[0]["repo"] if rows else name)
    for k, row in enumerate(rows):
        tree, diff_path = materialise(row, mirror, args.cache)
        shutil.rmtree(tree / ".tandem", ignore_errors=True)
        diff = diff_path.read_text(encoding="utf-8")
        answer: dict[str, Any] | None
        try:
            if args.in_process:
                answer, cold = run_in_process(tree, diff, settings)
            else:
                answer, cold = run_cold_process(tree, diff_path)
            if not args.quick:
                _, warm = run_in_process(tree, diff, settings)
                result.warm.append(warm)
        except Exception as exc:  # a crash is a failed answer, reported, not fatal
            print(f"    {row['sha'][:12]}: {type(exc).__name__}: {exc}", file=sys.stderr)
            answer, cold = None, float("nan")
        if answer is None:
            result.failed += 1
        else:
            result.ratio.append(len(answer.get("text", "")) / row["whole_file_chars"])
            result.token_ratio.append(answer["tokens"] / max(1, answer["whole_file_tokens"]))
        result.cold.append(cold)
        metrics = score(row, answer)
        result.ours.append(metrics)
        base = baseline(tree, diff, settings) if not args.quick else {"touched": [], "tests": []}
        result.base.append(score(row, base))
        result.base_ratio.append(_text_chars(tree, base) / row["whole_file_chars"])
        result.rows.append(
            {
                "sha": row["sha"],
                "metrics": metrics,
                "baseline": result.base[-1],
                "tests": [
                    {k2: t[k2] for k2 in ("path", "name", "score", "reason")}
                    for t in (answer or {}).get("tests", [])[:10]
                ],
                "gt": [f"{g['path']}::{g['name']}" for g in row["gt_tests"]],
                "slice_ratio": result.ratio[-1] if answer is not None else None,
                "token_ratio": result.token_ratio[-1] if answer is not None else None,
            }
        )
        if args.verbose:
            print(
                f"  {name} {k + 1}/{len(rows)} {row['sha'][:10]} r10={metrics['r10']:.2f} "
                f"base={result.base[-1]['r10']:.2f} cold={cold:.2f}s",
                file=sys.stderr,
            )
        shutil.rmtree(tree / ".tandem", ignore_errors=True)
    return result


def _mean(values: Iterable[float]) -> float:
    vals = [v for v in values if v == v]  # NaN: the metric does not apply to the instance
    return sum(vals) / len(vals) if vals else 0.0


def _median(values: Iterable[float]) -> float:
    vals = [v for v in values if v == v]
    return statistics.median(vals) if vals else 0.0


def summary(res: RepoResult) -> dict[str, Any]:
    ours = {m: _mean(r[m] for r in res.ours) for m in METRICS}
    base = {m: _mean(r[m] for r in res.base) for m in METRICS}
    return {
        "repo": res.repo,
        "n": len(res.ours),
        "failed": res.failed,
        **ours,
        "slice_ratio": _median(res.ratio),
        "token_ratio": _median(res.token_ratio),
        "cold_s": _median(res.cold),
        "warm_s": _median(res.warm),
        "baseline": {**base, "slice_ratio": _median(res.base_ratio)},
    }


def print_table(rows: list[dict[str, Any]], cold_label: str, *, quick: bool = False) -> None:
    head = (
        f"{'repo':<20} {'n':>3} {'R@5':>6} {'R@10':>6} {'R(all)':>6} {'P@10':>6} {'MRR':>6} "
        f"{'F@10':>6} {'touch':>6} {'R10old':>6} {'plan1':>6} {'plan3':>6} {'slice':>6} "
        f"{'tokens':>6} {cold_label:>7} {'warm s':>7} {'fail':>4}"
    )
    print(head)
    print("-" * len(head))
    for s in rows:
        print(
            f"{s['repo']:<20} {s['n']:>3} {s['r5']:>6.3f} {s['r10']:>6.3f} {s['r_all']:>6.3f} "
            f"{s['p10']:>6.3f} {s['mrr']:>6.3f} {s['f10']:>6.3f} {s['touched']:>6.3f} "
            f"{s['r10_old']:>6.3f} {s['plan1']:>6.3f} {s['plan3']:>6.3f} "
            f"{s['slice_ratio']:>6.3f} {s['token_ratio']:>6.3f} {s['cold_s']:>7.3f} "
            f"{s['warm_s']:>7.3f} {s['failed']:>4}"
        )
    print()
    if quick:  # zeros here would read as a baseline that finds nothing
        print("--quick: no warm call and no name-matching baseline were run")
        return
    print("name-matching baseline (README 'v1'), same trees, same run:")
    print(
        f"{'repo':<20} {'R@5':>6} {'R@10':>6} {'R(all)':>6} {'P@10':>6} {'MRR':>6} "
        f"{'F@10':>6} {'touch':>6} {'R10old':>6} {'slice':>6}"
    )
    for s in rows:
        b = s["baseline"]
        print(
            f"{s['repo']:<20} {b['r5']:>6.3f} {b['r10']:>6.3f} {b['r_all']:>6.3f} "
            f"{b['p10']:>6.3f} {b['mrr']:>6.3f} {b['f10']:>6.3f} {b['touched']:>6.3f} "
            f"{b['r10_old']:>6.3f} {b['slice_ratio']:>6.3f}"
        )


def macro(rows: list[dict[str, Any]]) -> dict[str, Any]:
    keys = [*METRICS, "slice_ratio", "token_ratio", "cold_s", "warm_s"]
    out: dict[str, Any] = {
        "repo": "macro",
        "n": sum(r["n"] for r in rows),
        "failed": sum(r["failed"] for r in rows),
    }
    out.update({k: _mean(r[k] for r in rows) for k in keys})
    out["baseline"] = {k: _mean(r["baseline"][k] for r in rows) for k in [*METRICS, "slice_ratio"]}
    return out


def find_manifests(folders: list[Path], repos: str | None = None) -> list[Path]:
    """Every manifest of ``folders``, by name (one repository's file once); with ``repos``
    (comma-separated substrings of their names), those it names."""
    found: dict[str, Path] = {}
    for folder in folders:
        for path in sorted(folder.glob("*.jsonl")):
            found.setdefault(path.stem, path)
    manifests = [found[k] for k in sorted(found, key=str.lower)]
    if repos:
        wanted = [w.strip().lower() for w in repos.split(",") if w.strip()]
        manifests = [m for m in manifests if any(w in m.stem.lower() for w in wanted)]
    return manifests


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repos", help="comma-separated substrings of manifest names")
    parser.add_argument("--limit", type=int, help="first N instances per repository")
    parser.add_argument("--half", choices=["even", "odd"], help="only even or odd rows")
    parser.add_argument("--in-process", action="store_true", help="score the in-process call")
    parser.add_argument(
        "--quick", action="store_true", help="skip the warm call and the baseline (iterating)"
    )
    parser.add_argument(
        "--shared-parses",
        action="store_true",
        help="with --in-process --quick: reuse parses across trees (fast; timings meaningless)",
    )
    parser.add_argument("--max-tests", type=int, help="context.max_related_tests to use")
    parser.add_argument("--json", type=Path, metavar="OUT", help="write results as JSON")
    parser.add_argument(
        "--manifests",
        type=Path,
        action="append",
        help=f"a folder of manifests (repeatable; default {MANIFESTS} and {MORE_MANIFESTS})",
    )
    parser.add_argument("--mirrors", type=Path, default=MIRRORS)
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    args.manifests = args.manifests or [MANIFESTS, MORE_MANIFESTS]
    manifests = find_manifests(args.manifests, args.repos)
    if not manifests:
        print(f"no manifests matched in {', '.join(map(str, args.manifests))}", file=sys.stderr)
        return 2
    missing = [m.stem for m in manifests if not (args.mirrors / m.stem / "repo").is_dir()]
    if missing:
        print(f"missing mirrors under {args.mirrors}: {', '.join(missing)}", file=sys.stderr)
        return 2
    settings = Settings()
    if args.max_tests is not None:
        settings = Settings(context={"max_related_tests": args.max_tests})
    if args.shared_parses:
        if not (args.in_process and args.quick):
            print("--shared-parses needs --in-process --quick", file=sys.stderr)
            return 2
        share_parses_across_trees()
    results: list[RepoResult] = []
    for manifest in manifests:
        print(f"{manifest.stem} ...", file=sys.stderr)
        results.append(run_repo(manifest, args, settings))
    rows = [summary(r) for r in results]
    rows.append(macro(rows))
    print_table(rows, "inproc s" if args.in_process else "cold s", quick=args.quick)
    if args.json:
        payload = {"summary": rows, "instances": {r.repo: r.rows for r in results}}
        args.json.write_text(json.dumps(payload, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
