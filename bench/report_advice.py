"""How long step value, recurring findings and routing advice take over a large ledger.

Writes the tests' scripted history (``tests/unit/outcome_history.py``: three tiers, catches,
redrafts, dismissed nits, defects) for N tasks into a SQLite ledger through the ledger's own
API, then times, in one process: reading every step into row objects (what the report paid
before its sums moved into SQL), the scorecards alone, the report with step value and
recurring findings, and ``tandem advise --json``'s work; then ``tandem report`` and
``tandem advise --json`` as new processes, beside the floor: ``tandem report`` on an empty
ledger. Prints medians and p95 of wall time and of CPU time (user + sys: less noisy than wall
time on a shared machine). Run: ``python bench/report_advice.py [TASKS] [RUNS]`` (default
10000 tasks, 10 runs). Not part of the test run.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "server"), str(ROOT / "tests"), str(ROOT / "tests" / "unit")]

from outcome_history import write_history  # noqa: E402

from tandem.config import Settings  # noqa: E402
from tandem.ledger.sqlite import SqliteLedger  # noqa: E402
from tandem.reports.advice import advise  # noqa: E402
from tandem.reports.advice_output import advice_json  # noqa: E402
from tandem.reports.evidence import load_evidence  # noqa: E402
from tandem.reports.render import render_table  # noqa: E402
from tandem.reports.scorecards import build_report  # noqa: E402
from tandem.reports.step_value import with_step_value  # noqa: E402


def cpu_seconds() -> float:
    """User + sys time of this process and of its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(runs: int, work: Callable[[], object]) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of each run."""
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), cpu_seconds()
        work()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((cpu_seconds() - start_cpu) * 1000)
    return wall, cpu


def spread(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[max(0, round(len(ordered) * 0.95) - 1)]
    return f"median {statistics.median(ordered):7.1f} p95 {p95:7.1f}"


def show(label: str, times: tuple[list[float], list[float]]) -> None:
    wall, cpu = times
    print(f"{label:52} wall {spread(wall)} ms | cpu {spread(cpu)} ms")


def main() -> None:
    tasks = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    per_tier = -(-tasks // 3)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "ledger.sqlite"
        start = time.perf_counter()
        with SqliteLedger(path) as ledger:
            # The bench's own shortcut (never the ledger's): no fsync per write while the
            # history is set up; the rows are the same. 290 s -> 4 s for 10,000 tasks.
            ledger._db.execute("PRAGMA synchronous = OFF")
            write_history(ledger, per_tier)
        took = time.perf_counter() - start
        size = path.stat().st_size
        print(f"ledger: {3 * per_tier} tasks written in {took:.1f} s, {size:,} bytes")
        settings = Settings()
        with SqliteLedger(path) as ledger:
            print(f"rows: {len(ledger.steps())} steps, {len(ledger.findings())} findings")

            def scorecards() -> str:
                return render_table(build_report(ledger.report_totals(), ledger.task_notes()))

            def new_report() -> str:
                report = build_report(ledger.report_totals(), ledger.task_notes())
                return render_table(with_step_value(report, load_evidence(ledger, None)))

            def advice() -> str:
                evidence = load_evidence(ledger, None)
                return json.dumps(advice_json(evidence, advise(evidence, settings)))

            show("baseline: read every step (the old report's floor)", timed(runs, ledger.steps))
            show("report before step value (sums in SQL)", timed(runs, scorecards))
            show("report with step value + recurring findings", timed(runs, new_report))
            show("advise --json (evidence, step value, advice)", timed(runs, advice))
            found = json.loads(advice())["advice"]
            print("advice:", [(a["setting"], a["suggested"]) for a in found])
        empty = Path(directory) / "empty.sqlite"
        SqliteLedger(empty).close()
        env = {**os.environ, "PYTHONPATH": str(ROOT / "server")}
        tandem = [sys.executable, "-m", "tandem.cli"]
        for label, argv in (
            ("process: tandem --help (start-up baseline)", ["--help"]),
            ("process: tandem report, empty ledger (floor)", ["report", "--ledger", str(empty)]),
            ("process: tandem report", ["report", "--ledger", str(path)]),
            ("process: tandem advise --json", ["advise", "--json", "--ledger", str(path)]),
        ):
            command = [*tandem, *argv]
            show(
                label,
                timed(
                    max(3, runs // 2),
                    lambda c=command: subprocess.run(  # type: ignore[misc]
                        c, env=env, check=True, capture_output=True, cwd=directory
                    ),
                ),
            )


if __name__ == "__main__":
    main()
