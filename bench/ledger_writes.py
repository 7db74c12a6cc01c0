"""How long recording a step takes, alone and with a second process writing the same ledger.

Prints the median and p95 of ``Ledger.record_step`` over N records in one process, then the same
while another process writes N records at once (two editor windows), and checks nothing was
lost. Run: ``python bench/ledger_writes.py [N]``. Not part of the test run.
"""

from __future__ import annotations

import multiprocessing
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))

from tandem.ledger.sqlite import SqliteLedger  # noqa: E402
from tandem.values import StepRecord, Usage  # noqa: E402


def record(task: str) -> StepRecord:
    return StepRecord(
        task_id=task,
        task_type="bugfix",
        step="draft",
        provider="anthropic",
        model="claude-haiku-4-5",
        alias="cheap",
        prompt_version="bench",
        risk_tier="low",
        usage=Usage(input_tokens=3000, cache_read_tokens=1000, output_tokens=600),
        cost_usd=Decimal("0.0061"),
        latency_ms=1500,
        attempts=1,
        outcome="ok",
        findings={"minor": 1},
        started_at=datetime.now(UTC),
    )


def write(path: str, task: str, count: int) -> list[float]:
    ledger = SqliteLedger(Path(path))
    times = []
    for _ in range(count):
        start = time.perf_counter()
        ledger.record_step(record(task))
        times.append((time.perf_counter() - start) * 1000)
    ledger.close()
    return times


def show(label: str, times: list[float]) -> None:
    ordered = sorted(times)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    print(f"{label:34} median {statistics.median(ordered):.2f} ms  p95 {p95:.2f} ms")


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    with tempfile.TemporaryDirectory() as directory:
        path = str(Path(directory) / "ledger.sqlite")
        show(f"one writer, {count} steps", write(path, "alone", count))
        context = multiprocessing.get_context("spawn")
        other = context.Process(target=write, args=(path, "other", count))
        other.start()
        times = write(path, "mine", count)
        other.join()
        show(f"two processes, {count} steps each", times)
        with SqliteLedger(Path(path)) as ledger:
            rows = len(ledger.steps())
        print(f"rows recorded: {rows} of {3 * count} (nothing lost: {rows == 3 * count})")


if __name__ == "__main__":
    main()
