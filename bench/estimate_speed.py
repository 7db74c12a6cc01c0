"""How long one step estimate takes for a ~4k-token slice (target: <= 20 ms warm).

Builds a prompt of real Python source (this package's own modules) cut to about 4,000 o200k
tokens, then times ``estimate_step`` for an OpenAI and an Anthropic model: the first (cold) call,
which loads the encoding and the price table, and the median of N warm calls, each on a slightly
different prompt so no cache hides the tokenisation. Then the whole pre-flight estimate of a task
(``estimate_flow``: risk, routes, rendered prompts, three steps and the all-strong baseline) on a
4,000-token slice of this repository. Run: ``python bench/estimate_speed.py [N]``.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))

from tandem.config import ModelSettings  # noqa: E402
from tandem.cost.estimate import estimate_step  # noqa: E402
from tandem.cost.tokens import count_tokens  # noqa: E402

SCHEMA = {
    "type": "object",
    "properties": {
        "edits": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"path": {"type": "string"}, "new_text": {"type": "string"}},
            },
        }
    },
}


def four_k_slice() -> str:
    source = "\n".join(
        path.read_text(encoding="utf-8") for path in sorted((ROOT / "server/tandem").rglob("*.py"))
    )
    # Cut by characters, then trim until the o200k count is at most 4,000.
    text = source[:16_000]
    while count_tokens(text) > 4_000:
        text = text[: int(len(text) * 0.97)]
    return text


def whole_task(runs: int) -> None:
    """The full pre-flight estimate (risk, routes, rendered prompts, 3 steps + baseline)."""
    from tandem.config import Settings
    from tandem.flow.estimate import estimate_flow
    from tandem.slicing.result import FileRangeAnchor
    from tandem.slicing.slicer import slice_repository

    settings = Settings()
    anchor = FileRangeAnchor(path="server/tandem/ledger/sqlite.py", start_line=140, end_line=190)
    context = slice_repository(ROOT, anchor, settings, budget_tokens=4000)
    request = "make the ledger retry a locked write once before failing"
    start = time.perf_counter()
    estimate_flow(settings, ROOT, request, anchor, context)
    cold = (time.perf_counter() - start) * 1000
    times = []
    for index in range(runs):
        # A new request each time, so no cached count of an identical prompt flatters the run.
        start = time.perf_counter()
        estimate_flow(settings, ROOT, f"{request} (variant {index})", anchor, context)
        times.append((time.perf_counter() - start) * 1000)
    print(
        f"whole task (estimate_flow, {context.tokens}-token slice of this repo, default models): "
        f"cold {cold:.1f} ms, warm median {statistics.median(times):.2f} ms over {runs} runs"
    )


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    slice_text = four_k_slice()
    print(f"slice: {count_tokens(slice_text)} o200k tokens, {len(slice_text)} chars")
    for model in (
        ModelSettings(provider="openai", model="gpt-4.1-mini"),
        ModelSettings(provider="anthropic", model="claude-sonnet-4-6"),
    ):
        start = time.perf_counter()
        estimate_step("draft", "x", model, system="sys", user=slice_text, output_schema=SCHEMA)
        cold = (time.perf_counter() - start) * 1000
        times = []
        for index in range(runs):
            user = f"{slice_text}\n# variant {model.model} {index}\n"
            start = time.perf_counter()
            estimate_step("draft", "x", model, system="sys", user=user, output_schema=SCHEMA)
            times.append((time.perf_counter() - start) * 1000)
        print(
            f"{model.provider}/{model.model}: cold {cold:.1f} ms, warm median "
            f"{statistics.median(times):.2f} ms, p95 {sorted(times)[int(runs * 0.95) - 1]:.2f} ms "
            f"over {runs} runs"
        )
    whole_task(runs)


if __name__ == "__main__":
    main()
