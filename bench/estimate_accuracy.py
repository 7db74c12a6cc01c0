"""How far input-token estimates are from what providers bill.

Part 1, OpenAI, against published API recordings: the OpenAI cookbook ("How to count tokens
with tiktoken") lists a six-message prompt whose ``prompt_tokens`` the API reported as 129 on
gpt-3.5-turbo/gpt-4 (cl100k) and 124 on gpt-4o/gpt-4o-mini (o200k). We count the same messages
offline with Tandem's encodings and framing constants and print the error.

Part 2, Anthropic, SYNTHETIC: there is no offline Claude tokenizer and no recorded Claude usage
on this machine (no API access), so this part does NOT measure Claude. It measures the
calibration mechanism: "actual" input is produced by a different real tokenizer (cl100k_base,
which varies from o200k prompt by prompt) scaled to the published range of Claude's
inflation (x1.16 English, x1.30 Python), standing in for Claude's, recorded in a real ledger
step by step, and the estimate error on held-out prompts is printed before calibration (the
default factor) and after 5, 10 and 20 recorded steps. Replace the stand-in with real recorded usage
(``tandem report`` shows the same error per model from the ledger) as soon as there is some.

Run: ``python bench/estimate_accuracy.py``. Not part of the test run.
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))

from tandem.config import ModelSettings  # noqa: E402
from tandem.cost.estimate import (  # noqa: E402
    MESSAGE_OVERHEAD_TOKENS,
    REPLY_PRIMING_TOKENS,
    count_prompt_tokens,
    estimate_step,
)
from tandem.cost.tokens import EncodingName, count_tokens  # noqa: E402
from tandem.ledger.sqlite import SqliteLedger  # noqa: E402
from tandem.values import StepRecord, Usage  # noqa: E402

COOKBOOK_MESSAGES = [
    (
        "system",
        None,
        "You are a helpful, pattern-following assistant that translates corporate "
        "jargon into plain English.",
    ),
    ("system", "example_user", "New synergies will help drive top-line growth."),
    ("system", "example_assistant", "Things working well together will increase revenue."),
    (
        "system",
        "example_user",
        "Let's circle back when we have more bandwidth to touch base on "
        "opportunities for increased leverage.",
    ),
    (
        "system",
        "example_assistant",
        "Let's talk later when we're less busy about how to do better.",
    ),
    (
        "user",
        None,
        "This late pivot means we don't have time to boil the ocean for the client deliverable.",
    ),
]
# Reported by the OpenAI API in the cookbook's recorded output.
COOKBOOK_API_COUNTS: dict[str, tuple[EncodingName, int]] = {
    "gpt-4 / gpt-3.5-turbo": ("cl100k_base", 129),
    "gpt-4o / gpt-4o-mini": ("o200k_base", 124),
}


def openai_part() -> None:
    print("Part 1 - OpenAI input tokens vs API-reported counts (OpenAI cookbook recordings)")
    for label, (encoding, reported) in COOKBOOK_API_COUNTS.items():
        counted = REPLY_PRIMING_TOKENS
        for role, name, content in COOKBOOK_MESSAGES:
            counted += MESSAGE_OVERHEAD_TOKENS + count_tokens(role, encoding)
            counted += count_tokens(content, encoding)
            if name is not None:
                counted += count_tokens(name, encoding) + 1
        error = (counted - reported) / reported * 100
        print(f"  {label:24} counted {counted:4d}  API reported {reported:4d}  error {error:+.2f}%")
    print(
        "  Caveat: a structured-output schema is injected by OpenAI in its own form; Tandem "
        "counts its compact JSON, so schema-heavy prompts carry a small unmeasured error."
    )


def corpus(count: int, seed: int) -> list[str]:
    """Varied real text: slices of Python source and docs of installed packages and this repo."""
    rng = random.Random(seed)
    files = sorted((ROOT / "server").rglob("*.py")) + sorted((ROOT / "examples").rglob("*.py"))
    site = Path(statistics.__file__).parent
    files += sorted(site.glob("*.py"))[:200]
    files += sorted(ROOT.glob("*.md")) + sorted((ROOT / "examples").rglob("*.md"))
    texts = []
    while len(texts) < count:
        path = rng.choice(files)
        text = path.read_text(encoding="utf-8", errors="replace")
        if len(text) < 800:
            continue
        size = rng.randint(800, min(len(text), 16_000))
        start = rng.randint(0, len(text) - size)
        texts.append(text[start : start + size])
    return texts


SYSTEM = (
    "You are the drafting step of a coding assistant. Apply the plan to the code below and "
    "reply with JSON edits only."
)


def anthropic_part(stand_in_scale: float) -> None:
    model = ModelSettings(provider="anthropic", model="claude-haiku-4-5")
    label = "cl100k_base" if stand_in_scale == 1.0 else f"cl100k_base x {stand_in_scale}"
    print(f"\nPart 2 - Anthropic calibration, SYNTHETIC stand-in tokenizer ({label})")

    def actual_input(user: str) -> int:
        # Framing is a stand-in as well: 10 tokens, roughly what a system + user message costs.
        counted = count_tokens(SYSTEM, "cl100k_base") + count_tokens(user, "cl100k_base")
        return round(counted * stand_in_scale) + 10

    prompts = corpus(120, seed=7)
    recorded, held_out = prompts[:20], prompts[20:]
    with tempfile.TemporaryDirectory() as directory:
        ledger = SqliteLedger(Path(directory) / "ledger.sqlite")

        def errors() -> list[float]:
            values = []
            for user in held_out:
                estimate = estimate_step(
                    "draft",
                    "cheap",
                    model,
                    system=SYSTEM,
                    user=user,
                    output_schema=None,
                    history=ledger,
                )
                actual = actual_input(user)
                values.append((estimate.input_tokens - actual) / actual * 100)
            return values

        def show(label: str, values: list[float]) -> None:
            absolute = sorted(abs(v) for v in values)
            factor = ledger.input_calibration("anthropic", model.model)
            factor_text = f"{factor:.3f}" if factor else "default"
            mean, bias = statistics.fmean(absolute), statistics.fmean(values)
            p90 = absolute[int(len(absolute) * 0.9)]
            print(
                f"  {label:28} factor {factor_text:8} mean |error| {mean:5.2f}%"
                f"  p90 {p90:5.2f}%  bias {bias:+.2f}%"
            )

        show("before calibration", errors())
        for index, user in enumerate(recorded, start=1):
            estimate = estimate_step(
                "draft",
                "cheap",
                model,
                system=SYSTEM,
                user=user,
                output_schema=None,
                history=ledger,
            )
            ledger.record_step(
                StepRecord(
                    task_id=f"bench-{index}",
                    task_type="small",
                    step="draft",
                    provider="anthropic",
                    model=model.model,
                    alias="cheap",
                    prompt_version="bench",
                    risk_tier="low",
                    usage=Usage(input_tokens=actual_input(user), output_tokens=200),
                    cost_usd=Decimal(0),
                    latency_ms=0,
                    attempts=1,
                    outcome="ok",
                    estimate=estimate,
                    started_at=datetime.now(UTC),
                )
            )
            if index in (5, 10, 20):
                show(f"after {index} recorded steps", errors())
        ledger.close()
    sizes = [
        count_prompt_tokens(model, system=SYSTEM, user=p, output_schema=None) for p in held_out
    ]
    print(f"  ({len(held_out)} held-out prompts of {min(sizes)}-{max(sizes)} o200k tokens)")


def main() -> None:
    openai_part()
    # The published range of Claude's inflation over o200k (English +16%, Python +30%).
    anthropic_part(1.16)
    anthropic_part(1.30)


if __name__ == "__main__":
    main()
