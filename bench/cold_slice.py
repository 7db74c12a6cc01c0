"""Cold ``tandem slice`` on real commits of real repositories, as a user runs it (issue 19).

"Cold" here means: a new process runs the real CLI (``python -m tandem slice``) in a git checkout
it has never sliced (no ``.tandem/cache`` in it), in two states of the user cache
(``TANDEM_CACHE_DIR``, which holds the shared parse store ``slicing-v*.sqlite``):

- ``first``: truly first contact, a user cache with nothing of this repository in it (only the
  tokenizer's marshal file, built once per installation, is copied in beforehand);
- ``shared``: a fresh clone of a repository this user already sliced: the user cache was warmed
  by slicing the same commit once in another clone (the best case of the shared store).

Each chosen commit of a manifest (``bench/related_tests_manifests`` and
``../shared/bench/related_tests``) is cloned once from its mirror (``git clone --shared``,
``/work/.mirror/OWNER+NAME/repo``), checked out at the commit, and sliced with the anchor asked
(``--anchor``): ``diff`` (the diff of the commit's source files, as ``bench/related_tests.py``
scores it), ``working-tree`` (HEAD moved to the parent, so the commit is an uncommitted change
and ``tandem slice --working-tree`` asks git for the diff) or ``file`` (the first touched unit's
lines of a changed file, as the editor command sends). ``.tandem`` is removed before every run.

Baselines in the same run, interleaved with the slices: ``python -c pass`` and
``python -m tandem --help``. With ``--code DIR`` (repeatable) the same runs are made with
each ``server`` folder on PYTHONPATH (e.g. the previous code from ``git archive``), interleaved.
Reported per repository, code and state: median and p95 of wall time and of CPU (user + system,
of the process and every process it waited for, git included). The machine is shared: read the
baselines beside the slices.

Run: ``python bench/cold_slice.py [--repos mux,commons-lang] [--commits 5] [--runs 2]
[--anchor diff] [--code /tmp/base/server] [--json OUT]``. Clones go to ``--work``
(default ``/work/bench-cache/cold_slice``, outside the project).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MANIFESTS = [
    ROOT / "bench" / "related_tests_manifests",
    ROOT.parent / "shared" / "bench" / "related_tests",
]
MIRRORS = Path("/work/.mirror")
WORK = Path("/work/bench-cache/cold_slice")
STATES = ("first", "shared")


def _git(cwd: Path | None, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def checkout(row: dict[str, Any], mirror: Path, work: Path, anchor: str) -> tuple[Path, list[str]]:
    """A clone at the row's commit (made once) and the slice arguments of ``anchor``."""
    name = row["repo"].replace("/", "+")
    tree = work / name / f"{row['sha'][:12]}-{anchor}"
    if not (tree / ".git").is_dir():
        shutil.rmtree(tree, ignore_errors=True)
        tree.parent.mkdir(parents=True, exist_ok=True)
        _git(None, "clone", "--quiet", "--shared", "--no-checkout", str(mirror), str(tree))
        _git(tree, "checkout", "--quiet", "--detach", row["sha"])
        if anchor == "working-tree":  # the commit as an uncommitted change on its parent
            _git(tree, "reset", "--quiet", row["parent"])
    if anchor == "working-tree":
        return tree, ["--working-tree"]
    if anchor == "file":
        unit = next(u for u in row["touched"] if u["path"] in row["src_files"])
        return tree, ["--file", unit["path"], "--lines", f"{unit['start_line']}-{unit['end_line']}"]
    diff = tree.parent / f"{row['sha'][:12]}.diff"
    if not diff.exists():
        text = _git(
            None,
            "--git-dir",
            str(mirror),
            "diff",
            "--no-renames",
            "--no-color",
            "--no-ext-diff",
            row["parent"],
            row["sha"],
            "--",
            *row["src_files"],
        )
        diff.write_text(text, encoding="utf-8")
    return tree, ["--diff", str(diff)]


def timed(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, bytes | None]:
    """Wall and CPU seconds (user + system of the child and what it waited for), and the
    output (None on failure)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        print(
            f"    failed ({done.returncode}): {done.stderr.decode(errors='replace')[-300:]}",
            file=sys.stderr,
        )
    return wall, cpu, done.stdout if done.returncode == 0 else None


def tokenizer_files(cache: Path) -> list[Path]:
    """The tokenizer marshal files of the user's real cache (built once per installation)."""
    return sorted(cache.glob("*.marshal")) if cache.is_dir() else []


def fresh_cache(parent: Path, seeds: list[Path]) -> Path:
    path = Path(tempfile.mkdtemp(prefix="cache-", dir=parent))
    for seed in seeds:
        shutil.copy2(seed, path / seed.name)
    return path


def pick(rows: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """``n`` rows spread evenly over the manifest (newest first), every row when fewer."""
    if len(rows) <= n:
        return rows
    return [rows[round(k * (len(rows) - 1) / max(1, n - 1))] for k in range(n)]


def stats(values: list[float]) -> dict[str, float]:
    if not values:
        return {"median": float("nan"), "p95": float("nan"), "n": 0}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered) + 0.5) - 1))]
    return {"median": statistics.median(values), "p95": p95, "n": len(values)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repos", help="comma-separated substrings of manifest names")
    parser.add_argument("--commits", type=int, default=5, help="commits per repository")
    parser.add_argument("--runs", type=int, default=2, help="runs per commit, code and state")
    parser.add_argument("--anchor", choices=["diff", "working-tree", "file"], default="diff")
    parser.add_argument("--states", default=",".join(STATES), help="first,shared")
    parser.add_argument("--code", type=Path, action="append", help="a server folder (repeatable)")
    parser.add_argument("--mirrors", type=Path, default=MIRRORS)
    parser.add_argument("--work", type=Path, default=WORK)
    parser.add_argument("--json", type=Path, metavar="OUT")
    args = parser.parse_args(argv)
    codes = [c.resolve() for c in (args.code or [ROOT / "server"])]
    states = [s for s in args.states.split(",") if s in STATES]
    manifests = sorted({p.stem: p for d in MANIFESTS for p in d.glob("*.jsonl")}.items())
    if args.repos:
        wanted = [w.strip().lower() for w in args.repos.split(",") if w.strip()]
        manifests = [(k, p) for k, p in manifests if any(w in k.lower() for w in wanted)]
    args.work.mkdir(parents=True, exist_ok=True)
    seeds = tokenizer_files(Path.home() / ".cache" / "tandem")
    py = sys.executable
    results: dict[str, dict[str, list[float]]] = {}

    def record(key: str, wall: float, cpu: float) -> None:
        entry = results.setdefault(key, {"wall": [], "cpu": []})
        entry["wall"].append(wall)
        entry["cpu"].append(cpu)

    # As installed: bytecode compiled once (this machine's shell sets PYTHONDONTWRITEBYTECODE,
    # which would make every run compile every module).
    base_env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")
    }
    for code in codes:
        subprocess.run([py, "-m", "compileall", "-q", str(code)], env=base_env, check=False)
    answers: dict[tuple[str, Path], bytes | None] = {}
    for name, manifest in manifests:
        mirror = args.mirrors / name / "repo"
        if not mirror.is_dir():
            print(f"{name}: no mirror at {mirror}, skipped", file=sys.stderr)
            continue
        rows = [json.loads(x) for x in manifest.read_text(encoding="utf-8").splitlines() if x]
        chosen = pick(rows, args.commits)
        print(f"{name}: {len(chosen)} commits", file=sys.stderr)
        shared_caches = {c: fresh_cache(args.work, seeds) for c in codes}
        for row in chosen:
            tree, slice_args = checkout(row, mirror, args.work, args.anchor)
            envs = {c: dict(base_env, PYTHONPATH=str(c)) for c in codes}
            for code in codes:  # warm the shared store with this commit (untimed)
                shutil.rmtree(tree / ".tandem", ignore_errors=True)
                env = dict(envs[code], TANDEM_CACHE_DIR=str(shared_caches[code]))
                command = [py, "-m", "tandem", "slice", "--json", *slice_args]
                answers[(row["sha"], code)] = timed(command, env, tree)[2]
            if len({answers[(row["sha"], c)] for c in codes}) > 1:
                print(f"  {row['sha'][:12]}: the codes' slices differ", file=sys.stderr)
            for _ in range(args.runs):
                wall, cpu, _ok = timed([py, "-c", "pass"], base_env, tree)
                record(f"{name}|python -c pass|-", wall, cpu)
                for code in codes:
                    wall, cpu, _ok = timed([py, "-m", "tandem", "--help"], envs[code], tree)
                    record(f"{name}|tandem --help|{code}", wall, cpu)
                    for state in states:
                        shutil.rmtree(tree / ".tandem", ignore_errors=True)
                        first = fresh_cache(args.work, seeds) if state == "first" else None
                        cache = first or shared_caches[code]
                        env = dict(envs[code], TANDEM_CACHE_DIR=str(cache))
                        command = [py, "-m", "tandem", "slice", "--json", *slice_args]
                        wall, cpu, out = timed(command, env, tree)
                        if out is not None:
                            record(f"{name}|slice {state}|{code}", wall, cpu)
                        if first is not None:
                            shutil.rmtree(first, ignore_errors=True)
        for cache in shared_caches.values():
            shutil.rmtree(cache, ignore_errors=True)
    print(f"anchor {args.anchor}; medians and p95 over commits x runs; seconds")
    print(
        f"{'repository':30} {'what':18} {'code':28} {'n':>3} {'wall med':>8} {'p95':>6} "
        f"{'cpu med':>8} {'p95':>6}"
    )
    summary = []
    for key, entry in results.items():
        name, what, code = key.split("|")
        wall_s, cpu_s = stats(entry["wall"]), stats(entry["cpu"])
        short = code if code == "-" else "/".join(Path(code).parts[-2:])
        print(
            f"{name:30} {what:18} {short:28} {wall_s['n']:>3} {wall_s['median']:8.3f} "
            f"{wall_s['p95']:6.3f} {cpu_s['median']:8.3f} {cpu_s['p95']:6.3f}"
        )
        summary.append(
            {
                "repo": name,
                "what": what,
                "code": code,
                "wall": wall_s,
                "cpu": cpu_s,
                "walls": entry["wall"],
                "cpus": entry["cpu"],
            }
        )
    if args.json:
        args.json.write_text(json.dumps({"anchor": args.anchor, "rows": summary}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
