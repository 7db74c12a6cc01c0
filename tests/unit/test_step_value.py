"""Step value and recurring findings: every figure rebuilt from the raw ledger rows of a scripted
history of 60 tasks across three tiers, and shown by ``tandem report`` in every format."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from outcome_history import write_history

from factories import step_record
from tandem.cli import main
from tandem.ledger.sqlite import SqliteLedger
from tandem.reports.evidence import load_evidence
from tandem.reports.step_value import (
    StepValue,
    normalise_message,
    recurring_findings,
    step_values,
)


@pytest.fixture
def history(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.sqlite"
    with SqliteLedger(path) as ledger:
        write_history(ledger, 20)
    return path


def raw(path: Path, sql: str) -> list[sqlite3.Row]:
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


Read = Callable[[str], Sequence[Mapping[str, Any]]]
"""Rows of a SQL statement, by column name (SQLite or PostgreSQL)."""


def rebuilt(read: Read) -> dict[tuple[str, str, str], dict[str, object]]:
    """Step value computed straight from the tables, without Tandem's code."""
    group: dict[tuple[str, str, int], tuple[str, str, str]] = {}
    cost: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    calls = read("SELECT * FROM steps ORDER BY id")
    for row in calls:
        if row["outcome"] == "ok":
            run = (row["task_id"], row["step"], row["attempt_of_step"])
            group[run] = (row["step"], row["risk_tier"], row["model"])
    for row in calls:  # every call costs under its run's group, or its own without one
        key = (row["step"], row["risk_tier"], row["model"])
        key = group.get((row["task_id"], row["step"], row["attempt_of_step"]), key)
        cost[key] += Decimal(row["cost_usd"])
    figures: dict[tuple[str, str, str], dict[str, object]] = {
        key: {"runs": 0, "cost": cost[key], "catches": 0, "changed": set(), "defects": 0}
        for key in cost
    }
    for key in group.values():
        figures[key]["runs"] = int(str(figures[key]["runs"])) + 1
    for row in read("SELECT * FROM findings WHERE outcome = 'catch'"):
        key = group[(row["task_id"], "review", row["review_round"])]
        figures[key]["catches"] = int(str(figures[key]["catches"])) + 1
    for row in read("SELECT * FROM step_changes"):
        if row["changed_code"] or row["changed_tests"] or row["changed_ship"]:
            run = (row["task_id"], row["step"], row["step_round"])
            changed = figures[group[run]]["changed"]
            assert isinstance(changed, set)
            changed.add(run)
    for defect in read("SELECT * FROM defects"):
        for run, key in group.items():
            if run[0] == defect["task_id"]:
                figures[key]["defects"] = int(str(figures[key]["defects"])) + 1
    return figures


def test_every_step_value_figure_is_rebuilt_from_the_raw_rows(history: Path) -> None:
    with SqliteLedger(history) as ledger:
        values = step_values(load_evidence(ledger, None))
    assert_rebuilt(values, lambda sql: raw(history, sql))
    # The scripted story, in figures: low reviews never catch; medium ones mostly do.
    by = {(v.step, v.tier): v for v in values}
    assert (by["review", "low"].runs, by["review", "low"].catches) == (20, 0)
    assert by["review", "medium"].catches == 15 and by["review", "high"].catches == 5
    assert by["review", "high"].defects_after == 2 + 3  # 4 defective tasks, one reviewed twice
    assert by["draft", "medium"].cost_usd == Decimal("0.002") * (20 + 15 + 1)  # one failed call


def assert_rebuilt(values: list[StepValue], read: Read) -> None:
    """Every figure equals the one rebuilt from the raw rows of the 60-task history."""
    expected = rebuilt(read)
    assert {(v.step, v.tier, v.model) for v in values} == set(expected)
    for value in values:
        want = expected[(value.step, value.tier, value.model)]
        changed = want["changed"]
        assert isinstance(changed, set)
        assert (value.runs, value.cost_usd, value.catches, value.defects_after) == (
            want["runs"],
            want["cost"],
            want["catches"],
            want["defects"],
        ), value
        runs = int(str(want["runs"]))
        assert value.changed_outcome_pct == (round(100 * len(changed) / runs, 1) if runs else 0)
        catches = int(str(want["catches"]))
        if catches:
            assert value.usd_per_catch == (want["cost"] / catches).quantize(Decimal("0.000001"))  # type: ignore[operator]
        else:
            assert value.usd_per_catch is None


def test_a_run_costs_under_its_latest_successful_call_and_a_failed_run_under_its_own(
    history: Path,
) -> None:
    now = datetime.now(UTC)
    with SqliteLedger(history) as ledger:
        # A run whose only call failed, and a run whose two successful calls used two models.
        failed = {"outcome": "failed", "error": "timeout", "risk_tier": "low"}
        ledger.record_step(step_record("extra-1", model="gpt-x", started_at=now, **failed))
        ledger.record_step(step_record("extra-2", model="gpt-x", started_at=now))
        ledger.record_step(step_record("extra-2", started_at=now + timedelta(seconds=1)))
        values = step_values(load_evidence(ledger, None))
    assert_rebuilt(values, lambda sql: raw(history, sql))
    by = {(v.step, v.tier, v.model): v for v in values}
    assert (by["draft", "low", "gpt-x"].runs, by["draft", "low", "gpt-x"].cost_usd) == (
        0,
        Decimal("0.01"),
    )
    assert ("draft", "medium", "gpt-x") not in by


def test_step_changes_that_changed_nothing_change_no_outcome(history: Path) -> None:
    with SqliteLedger(history) as ledger:
        evidence = load_evidence(ledger, None)
        every = ledger.step_changes()
    plans = [c for c in every if c.step == "plan"]
    changed = {(c.task_id, c.round) for c in plans if c.code or c.tests or c.ship}
    assert len(changed) < len(plans)  # the approved plans changed nothing
    assert sum(g.changed_runs for g in evidence.groups if g.step == "plan") == len(changed)


def test_recurring_findings_group_the_same_comment_about_different_names_and_lines(
    history: Path,
) -> None:
    with SqliteLedger(history) as ledger:
        found = recurring_findings(load_evidence(ledger, None))
    assert [(r.category, r.folder, r.count) for r in found] == [
        ("bug", "app", 20),
        ("style", "app", 20),
    ]
    assert found[0].message == "missing null check on … before line N"
    assert len(found[0].tasks) == 20 and "medium-1" in found[0].tasks
    raw_bugs = raw(history.parent / "ledger.sqlite", "SELECT * FROM findings WHERE category='bug'")
    assert found[0].count == len(raw_bugs)
    assert normalise_message("Use `x` here.") == normalise_message("use 'y'  here")


@pytest.mark.parametrize("fmt", ["table", "markdown", "json", "csv"])
def test_tandem_report_shows_step_value_and_recurring_findings_in_every_format(
    history: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--ledger", str(history), "--format", fmt]) == 0
    out = capsys.readouterr().out
    if fmt == "json":
        tables = json.loads(out)["tables"]
        review_low = [
            r for r in tables["step_value"] if (r["step"], r["tier"]) == ("review", "low")
        ]
        assert review_low[0]["runs"] == 20 and review_low[0]["catches"] == 0
        assert tables["recurring_findings"][0]["count"] == 20
    elif fmt == "csv":
        rows = list(csv.reader(io.StringIO(out)))
        assert sum(1 for r in rows if r[0] == "step_value") == 9
    else:
        assert "Step value per step, tier and model (last 14 days)" in out
        assert "missing null check on … before line N" in out


def test_the_html_page_holds_step_value_and_recurring_findings(
    history: Path, tmp_path: Path
) -> None:
    page = tmp_path / "report.html"
    assert main(["report", "--ledger", str(history), "--html", str(page)]) == 0
    text = page.read_text(encoding="utf-8")
    assert "Step value per step" in text and "Recurring findings" in text


def test_an_old_window_holds_no_step_value(
    history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["report", "--ledger", str(history), "--since", "2000-01-01", "--format", "json"]) == 0
    )
    assert len(json.loads(capsys.readouterr().out)["tables"]["step_value"]) == 9
    assert main(["report", "--ledger", str(history), "--since", "0m", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["tables"]["step_value"] == []
