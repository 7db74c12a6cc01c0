"""The scorecards the database sums (``tandem.ledger.totals``) against the same figures
recomputed call by call from the raw rows (``report_oracle``), for the scripted 60-task history
plus calls that exercise every rule, over the whole ledger, a window, one task and one trial."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from outcome_history import write_history
from report_oracle import estimate_rows, group_rows, mode_rows, task_rows, write_varied

from tandem.ledger.base import Ledger
from tandem.ledger.sqlite import SqliteLedger
from tandem.ledger.totals import StepFilter
from tandem.reports.scorecards import build_report
from tandem.reports.tables import Table

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def fill(ledger: Ledger) -> None:
    write_history(ledger, 20, now=NOW)
    write_varied(ledger)


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    opened = SqliteLedger(tmp_path / "ledger.sqlite")
    fill(opened)
    return opened


def assert_same(chosen: StepFilter, ledger: Ledger) -> None:
    """Every scorecard figure from the database's sums equals the one rebuilt from raw rows."""
    rows = ledger.steps(
        since=chosen.since, task_id=chosen.task_id, trial_id=chosen.trial_id, validate=True
    )
    notes = ledger.task_notes()
    tasks = {row.record.task_id for row in rows}
    runs = [run for run in ledger.trial_runs(chosen.trial_id) if run.task_id in tasks]
    report = build_report(ledger.report_totals(chosen), notes, runs, now=NOW)
    assert report.table("tasks").rows == task_rows(rows, notes)
    for name in ("steps", "models", "weeks"):
        assert report.table(name).rows == group_rows(rows, name), name
    assert_close(report.table("estimates"), estimate_rows(rows))
    modes = [row[:3] + row[4:] for row in report.table("modes").rows]  # vs_strong_pct aside
    assert modes == mode_rows(rows, notes, runs)


def assert_close(table: Table, expected: list[tuple[object, ...]]) -> None:
    """Means of float ratios: the database may add them in another order."""
    assert len(table.rows) == len(expected)
    for got, want in zip(table.rows, expected, strict=True):
        assert got[:3] == want[:3]
        for a, b in zip(got[3:], want[3:], strict=True):
            assert (a is None) == (b is None) and (a is None or abs(a - b) <= 0.011), (got, want)  # type: ignore[operator]


def test_every_scorecard_figure_is_rebuilt_from_the_raw_rows(ledger: Ledger) -> None:
    report = build_report(ledger.report_totals(), ledger.task_notes(), now=NOW)
    assert len(report.table("tasks").rows) == 63
    assert [row[0] for row in report.table("weeks").rows] == ["2026-W48", "2026-W49"]
    assert len(report.table("estimates").rows) == 2  # cancelled and counted calls left out
    assert_same(StepFilter(), ledger)


@pytest.mark.parametrize(
    "chosen",
    [
        StepFilter(since=NOW - timedelta(hours=30)),
        StepFilter(task_id="v1"),
        StepFilter(task_id="medium-3"),
        StepFilter(trial_id="V"),
        StepFilter(since=NOW),
    ],
    ids=["window", "task", "scripted-task", "trial", "empty"],
)
def test_windows_tasks_and_trials_are_rebuilt_from_the_raw_rows(
    ledger: Ledger, chosen: StepFilter
) -> None:
    assert_same(chosen, ledger)


def test_the_task_table_follows_each_rule(ledger: Ledger) -> None:
    report = build_report(ledger.report_totals(StepFilter(trial_id="V")), {}, now=NOW)
    tasks = {row["task"]: row for row in report.table("tasks").records()}
    v1, v2 = tasks["v1"], tasks["v2"]
    assert (v1["retries"], v1["unpriced_calls"], v1["accepted"], v1["redactions"]) == (
        3,
        1,
        False,
        2,
    )
    assert v1["findings"] == "blocking 1, nit 2" and v1["elapsed_seconds"] == 7.5
    assert (v2["outcome"], v2["unpriced_calls"], v2["calls"]) == ("over_budget", 0, 3)
