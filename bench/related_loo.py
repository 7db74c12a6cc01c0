"""Related-test rules judged left-one-repository-out (issue 19); prints, never a test.

Each variant is a set of overrides of the ranking's constants (``related_scoring.W_PAIR``,
``related.RELATIVE_CUT``, ...), applied in this process only. Every instance of every manifest
(``related_tests.py``'s: the five tuned and the twelve of ``bench/related_tests_manifests``) is
sliced in process once per variant, parses shared across trees (timings meaningless, scores as
in a cold process). Then, for each repository, the variant with the best macro R@10 over the
*other* repositories is chosen and the left-out repository is scored with it: the left-out
figures say how well a rule carries to a repository nobody tuned on. The table also shows every
variant's per-repository R@10 beside the default's, so a rule that helps one repository and
hurts the others shows as such.

Run: ``python bench/related_loo.py [--variants FILE.json] [--repos a,b] [--limit N] [--json OUT]``.
FILE.json maps a variant's name to its overrides, ``{"pair2": {"related_scoring.W_PAIR": 2.0}}``;
the default variant (no override) is always run.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import related_tests as rt
from tandem.config import Settings

KEYS = ("r10", "r10_old", "f10", "plan1", "slice_ratio", "touched")


@contextmanager
def overridden(overrides: dict[str, Any]) -> Iterator[None]:
    """The ranking's constants set to ``overrides`` (``module.NAME``) for the block."""
    saved: list[tuple[Any, str, Any]] = []
    try:
        for dotted, value in overrides.items():
            mod_name, _, attr = dotted.rpartition(".")
            module = importlib.import_module(f"tandem.slicing.{mod_name}")
            saved.append((module, attr, getattr(module, attr)))
            setattr(module, attr, value)
        yield
    finally:
        for module, attr, value in reversed(saved):
            setattr(module, attr, value)


def run(
    manifests: list[Path], variants: dict[str, dict[str, Any]], args: argparse.Namespace
) -> dict[str, dict[str, dict[str, float]]]:
    """variant -> repository -> metric means (slice/whole: median)."""
    settings = Settings()
    out: dict[str, dict[str, dict[str, float]]] = {v: {} for v in variants}
    for manifest in manifests:
        rows = rt.load_rows(manifest, args.limit, None)
        rt._SHARED_BLOBS.clear()  # one repository's parses at a time: memory stays bounded
        mirror = args.mirrors / manifest.stem / "repo"
        per: dict[str, list[dict[str, float]]] = {v: [] for v in variants}
        ratios: dict[str, list[float]] = {v: [] for v in variants}
        for row in rows:
            tree, diff_path = rt.materialise(row, mirror, args.cache)
            diff = diff_path.read_text(encoding="utf-8")
            for name, overrides in variants.items():
                with overridden(overrides):
                    try:
                        answer, _ = rt.run_in_process(tree, diff, settings)
                    except Exception as exc:  # a crash is a failed answer, reported
                        print(f"    {name} {row['sha'][:12]}: {exc!r}", file=sys.stderr)
                        answer = None
                per[name].append(rt.score(row, answer))
                if answer is not None:
                    ratios[name].append(len(answer.get("text", "")) / row["whole_file_chars"])
        repo = rows[0]["repo"] if rows else manifest.stem
        for name in variants:
            means = {m: rt._mean(r[m] for r in per[name]) for m in rt.METRICS}
            means["slice_ratio"] = rt._median(ratios[name])
            out[name][repo] = means
        print(f"{manifest.stem}: {len(rows)} instances", file=sys.stderr)
    return out


def leave_one_out(results: dict[str, dict[str, dict[str, float]]]) -> dict[str, tuple[str, float]]:
    """repository -> (variant chosen on the others, its R@10 on the left-out repository)."""
    repos = sorted(next(iter(results.values())))
    out: dict[str, tuple[str, float]] = {}
    for left in repos:
        others = [r for r in repos if r != left]

        def macro_others(variant: str, others: list[str] = others) -> float:
            return sum(results[variant][r]["r10"] for r in others) / max(1, len(others))

        # Ties go to the default (listed first): a rule must earn its place.
        best = max(results, key=macro_others)
        out[left] = (best, results[best][left]["r10"])
    return out


def report(results: dict[str, dict[str, dict[str, float]]]) -> None:
    repos = sorted(next(iter(results.values())), key=str.lower)
    names = list(results)
    print(f"{'repo':<30}" + "".join(f"{n[:12]:>13}" for n in names))
    for repo in repos:
        print(f"{repo:<30}" + "".join(f"{results[n][repo]['r10']:>13.3f}" for n in names))
    for key in KEYS:
        print(
            f"{'macro ' + key:<30}"
            + "".join(f"{rt._mean(results[n][r][key] for r in repos):>13.3f}" for n in names)
        )
    print(
        f"{'repos R@10 < 0.50':<30}"
        + "".join(f"{sum(results[n][r]['r10'] < 0.5 for r in repos):>13}" for n in names)
    )
    print()
    loo = leave_one_out(results)
    print("left-one-repository-out: the variant chosen on the others, scored on the one left out")
    for repo in repos:
        variant, r10 = loo[repo]
        print(f"  {repo:<30} {variant:<24} R@10 {r10:.3f}")
    print(f"  left-out macro R@10 {rt._mean(v for _, v in loo.values()):.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variants", type=Path, help="JSON: name -> {module.CONST: value}")
    parser.add_argument("--repos", help="comma-separated substrings of manifest names")
    parser.add_argument("--limit", type=int, help="first N instances per repository")
    parser.add_argument("--json", type=Path, metavar="OUT", help="write results as JSON")
    parser.add_argument("--mirrors", type=Path, default=rt.MIRRORS)
    parser.add_argument("--cache", type=Path, default=rt.CACHE)
    args = parser.parse_args(argv)
    variants: dict[str, dict[str, Any]] = {"default": {}}
    if args.variants:
        variants.update(json.loads(args.variants.read_text(encoding="utf-8")))
    manifests = rt.find_manifests([rt.MANIFESTS, rt.MORE_MANIFESTS], args.repos)
    if not manifests:
        print("no manifests matched", file=sys.stderr)
        return 2
    rt.share_parses_across_trees()
    results = run(manifests, variants, args)
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
