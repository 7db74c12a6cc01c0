"""Tandem's own overhead around the models, on the bundled example (no model is called).

Times, per run on a fresh copy of ``examples/projects_api``: ``estimate_flow`` (risk, routes,
the three prompts rendered and counted, the baseline) and a whole ``run_flow`` with the FAKE
provider replaying ``fake_replies.json`` (five steps: estimates, budget checks, edits applied to
the snapshot, handoffs persisted, an in-memory recorder), excluding slicing. Prints the first
(cold) run and the median of the rest. Run: ``python bench/flow_overhead.py [N]``.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))

from tandem.config import load_settings  # noqa: E402
from tandem.flow.env import build_flow_env, one_provider  # noqa: E402
from tandem.flow.estimate import estimate_flow  # noqa: E402
from tandem.flow.run import run_flow  # noqa: E402
from tandem.flow.task import create_task  # noqa: E402
from tandem.providers.fake import FakeProvider  # noqa: E402
from tandem.slicing import slice_repository  # noqa: E402
from tandem.slicing.result import FileRangeAnchor  # noqa: E402
from tandem.values import StepRecord  # noqa: E402

EXAMPLE = ROOT / "examples" / "projects_api"
REQUEST = "add an optional archived filter to GET /projects, with tests"


class _Recorder:
    def __init__(self) -> None:
        self.records: list[StepRecord] = []

    def record_step(self, record: StepRecord) -> None:
        self.records.append(record)

    def task_spend(self, task_id: str) -> tuple[int, Decimal]:
        mine = [r for r in self.records if r.task_id == task_id]
        spent = sum((r.cost_usd or Decimal(0) for r in mine), Decimal(0))
        return sum(r.usage.total_tokens for r in mine), spent


def once() -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as scratch:
        repo = Path(scratch) / "projects_api"
        shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns("__pycache__", ".tandem"))
        settings = load_settings(workspace=repo).settings
        anchor = FileRangeAnchor(path="app/handlers.py", start_line=10, end_line=14)
        context = slice_repository(repo, anchor, settings)
        start = time.perf_counter()
        estimate_flow(settings, repo, REQUEST, anchor, context)
        estimated = time.perf_counter() - start
        provider = FakeProvider.from_file(EXAMPLE / "fake_replies.json")
        env = build_flow_env(settings, repo, recorder=_Recorder(), providers=one_provider(provider))
        start = time.perf_counter()
        task = create_task(env, REQUEST, anchor, context)
        result = asyncio.run(run_flow(env, task.task_id, approve=True))
        ran = time.perf_counter() - start
        assert result.status == "done", result.message
        return estimated, ran


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    cold = once()
    warm = [once() for _ in range(max(1, runs - 1))]
    print(f"estimate_flow: cold {cold[0] * 1000:.0f} ms, "
          f"median {statistics.median(w[0] for w in warm) * 1000:.1f} ms")  # fmt: skip
    print(f"run_flow (5 steps, fake replies): cold {cold[1] * 1000:.0f} ms, "
          f"median {statistics.median(w[1] for w in warm) * 1000:.1f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
