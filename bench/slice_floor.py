"""The floor under the slice/whole ratio per repository: the change's own lines (issue 19).

A slice that shows the change must contain at least the lines the commit added inside the code
units it touched. ``floor`` is the median over instances of their characters (each line as
written, its trailing blanks dropped, plus its newline; blank lines and lines outside the
touched units not counted, since a slice need not show them) over ``whole_file_chars``, the
same denominator as ``bench/related_tests.py``'s "slice" column. Deleted lines are not in the
tree the slice shows, so they count nothing: this is a lower bound, not an estimate. ``added``
is the same count over all the added lines (doc comments between units too), and ``oracle`` the
manifests' smallest sufficient slice (the touched units and ground-truth tests whole), over the
same denominator, for scale.

With ``--against OUT.json`` (written by ``bench/related_tests.py --json``), each repository's
slice median is printed beside its floor, and ``room`` says how far 0.10 is above the floor; the
verdict says whether 0.10 is below the floor, or below ``added``.

Run: ``python bench/slice_floor.py [--repos immer,anyhow] [--against rt.json] [--json OUT]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from related_tests import (
    CACHE,
    MANIFESTS,
    MIRRORS,
    MORE_MANIFESTS,
    find_manifests,
    load_rows,
    materialise,
)
from tandem.slicing.diff import parse_diff

TARGET = 0.10


def added_chars(diff: str, touched: list[dict[str, Any]] | None) -> int:
    """Characters of the non-blank added lines of ``diff`` inside the ``touched`` units (None:
    anywhere)."""
    spans: dict[str, list[tuple[int, int]]] = {}
    for unit in touched or []:
        spans.setdefault(unit["path"], []).append((unit["start_line"], unit["end_line"]))
    total = 0
    for fd in parse_diff(diff):
        ranges = spans.get(fd.new_path or "", [])
        for hunk in fd.hunks:
            line = hunk.new_start
            for op, text in hunk.lines:
                if op == "-":
                    continue
                inside = touched is None or any(a <= line <= b for a, b in ranges)
                if op == "+" and inside and text.strip():
                    total += len(text.rstrip()) + 1
                line += 1
    return total


def floors(manifest: Path, mirrors: Path, cache: Path) -> dict[str, dict[str, float]]:
    """Per instance (by sha): the floor, the added and the oracle ratios."""
    out: dict[str, dict[str, float]] = {}
    mirror = mirrors / manifest.stem / "repo"
    for row in load_rows(manifest, None, None):
        _, diff_path = materialise(row, mirror, cache)
        diff = diff_path.read_text(encoding="utf-8")
        whole = row["whole_file_chars"]
        out[row["sha"]] = {
            "floor": added_chars(diff, row["touched"]) / whole,
            "added": added_chars(diff, None) / whole,
            "oracle": row["oracle_chars"] / whole,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repos", help="comma-separated substrings of manifest names")
    parser.add_argument("--against", type=Path, help="a bench/related_tests.py --json output")
    parser.add_argument("--json", type=Path, metavar="OUT", help="write the floors as JSON")
    parser.add_argument("--mirrors", type=Path, default=MIRRORS)
    parser.add_argument("--cache", type=Path, default=CACHE)
    args = parser.parse_args(argv)
    manifests = find_manifests([MANIFESTS, MORE_MANIFESTS], args.repos)
    if not manifests:
        print("no manifests matched", file=sys.stderr)
        return 2
    against: dict[str, float] = {}
    if args.against:
        data = json.loads(args.against.read_text(encoding="utf-8"))
        against = {s["repo"]: s["slice_ratio"] for s in data["summary"]}
    head = f"{'repo':<30} {'n':>3} {'floor':>6} {'added':>6} {'oracle':>6} {'slice':>6} "
    head += f"{'room':>6}  verdict"
    print(head)
    print("-" * len(head))
    payload: dict[str, Any] = {}
    for manifest in manifests:
        per = floors(manifest, args.mirrors, args.cache)
        repo = manifest.stem.replace("+", "/")
        floor = statistics.median(v["floor"] for v in per.values())
        added = statistics.median(v["added"] for v in per.values())
        oracle = statistics.median(v["oracle"] for v in per.values())
        payload[repo] = {"floor": floor, "added": added, "oracle": oracle, "instances": per}
        slice_ratio = against.get(repo)
        shown = f"{slice_ratio:>6.3f}" if slice_ratio is not None else f"{'-':>6}"
        verdict = "feasible"
        if floor > TARGET:
            verdict = "infeasible: the changed code alone is over the target"
        elif added > TARGET:
            verdict = "infeasible if the slice shows every added line (doc comments too)"
        print(
            f"{repo:<30} {len(per):>3} {floor:>6.3f} {added:>6.3f} {oracle:>6.3f} {shown} "
            f"{TARGET - floor:>6.3f}  {verdict}"
        )
    if args.json:
        args.json.write_text(json.dumps(payload, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
