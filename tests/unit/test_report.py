"""Reports: scorecards per task/step/model/week, estimate error, split vs baseline, formats, CLI."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree

import pytest

from factories import step_record
from tandem.cli import main
from tandem.ledger.base import Ledger
from tandem.ledger.rows import TrialRun
from tandem.ledger.sqlite import SqliteLedger
from tandem.ledger.totals import StepFilter
from tandem.reports.html import render_html
from tandem.reports.render import render
from tandem.reports.scorecards import build_report, parse_since
from tandem.reports.tables import Report
from tandem.values import StepEstimate, Usage

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def estimate(input_tokens: int, output: int, usd: str) -> StepEstimate:
    return StepEstimate(
        step="draft",
        alias="cheap",
        provider="anthropic",
        model="claude-sonnet-4-6",
        input_tokens=input_tokens,
        output_tokens_typical=output,
        output_tokens_max=4096,
        usd_typical=Decimal(usd),
        usd_max=Decimal("1"),
        input_is_calibrated_guess=True,
        input_tokens_counted=input_tokens,
    )


def fill(ledger: Ledger) -> None:
    """Two split tasks (one with a retry and a second draft), one strong and one cheap task."""
    ledger.record_step(
        step_record("s1", step="plan", cost=Decimal("0.02"), trial_id="T", mode="split")
    )
    ledger.record_step(
        step_record(
            "s1",
            step="draft",
            cost=Decimal("0.01"),
            usage=Usage(input_tokens=1000, output_tokens=500),
            estimate=estimate(1100, 400, "0.012"),
            trial_id="T",
            mode="split",
        )
    )
    ledger.record_step(
        step_record(
            "s1",
            step="review",
            cost=Decimal("0.03"),
            attempts=3,
            findings={"blocking": 1, "minor": 2},
            trial_id="T",
            mode="split",
        )
    )
    ledger.record_step(
        step_record(
            "s1",
            step="draft",
            attempt_of_step=2,
            cost=Decimal("0.01"),
            draft_accepted=True,
            trial_id="T",
            mode="split",
        )
    )
    ledger.record_step(
        step_record(
            "s2",
            step="draft",
            cost=Decimal("0.02"),
            draft_accepted=False,
            mode="split",
            trial_id="T",
            started_at=AT + timedelta(days=7),
        )
    )
    ledger.record_step(
        step_record("b1", step="draft", cost=Decimal("0.20"), mode="strong", trial_id="T")
    )
    ledger.record_step(step_record("c1", step="draft", cost=None, mode="cheap", trial_id="T"))
    ledger.note_task("s1", cleanup_minutes=12)
    ledger.record_trial_run(TrialRun("T", "b1", "strong", 1, "ok", "pytest", True, 1000))
    ledger.record_trial_run(TrialRun("T", "s1", "split", 1, "ok", "pytest", False, 900))
    ledger.record_trial_run(TrialRun("T", "s2", "split", 2, "ok", "pytest", True, 900))


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    opened = SqliteLedger(tmp_path / "ledger.sqlite")
    fill(opened)
    return opened


def report_of(ledger: Ledger) -> Report:
    return build_report(ledger.report_totals(), ledger.task_notes(), ledger.trial_runs(), now=AT)


def test_task_scorecard_counts_cost_calls_retries_findings_acceptance_and_cleanup(
    ledger: Ledger,
) -> None:
    tasks = {row["task"]: row for row in report_of(ledger).table("tasks").records()}
    s1 = tasks["s1"]
    assert s1["cost_usd"] == Decimal("0.07")
    assert s1["calls"] == 4
    assert s1["retries"] == 3  # two HTTP retries on review + one second draft
    assert s1["findings"] == "blocking 1, minor 2"
    assert s1["accepted"] is True
    assert s1["cleanup_minutes"] == 12
    assert tasks["s2"]["accepted"] is False
    assert tasks["c1"]["unpriced_calls"] == 1
    assert tasks["c1"]["cost_usd"] is None  # unpriced is not $0


def test_step_model_and_week_tables(ledger: Ledger) -> None:
    report = report_of(ledger)
    steps = {row["step"]: row for row in report.table("steps").records()}
    assert steps["draft"]["calls"] == 5
    assert steps["review"]["cost_usd"] == Decimal("0.03")
    models = report.table("models").records()
    assert [m["model"] for m in models] == ["anthropic/claude-sonnet-4-6"]
    weeks = [row["week"] for row in report.table("weeks").records()]
    assert weeks == ["2026-W44", "2026-W46"]  # Sun 1 Nov and Mon 9 Nov 2026


def test_counted_calls_are_shown_and_left_out_of_estimate_accuracy(tmp_path: Path) -> None:
    with SqliteLedger(tmp_path / "ledger.sqlite") as ledger:
        ledger.record_step(step_record("r", step="plan", estimate=estimate(1100, 400, "0.012")))
        counted = Usage(input_tokens=1100, output_tokens=400, counted=True)  # o200k, as estimated
        ledger.record_step(
            step_record("k", step="plan", usage=counted, estimate=estimate(1100, 400, "0.012"))
        )
        report = report_of(ledger)
    (plan,) = report.table("steps").records()
    assert (plan["calls"], plan["counted_calls"]) == (2, 1)
    (row,) = report.table("estimates").records()
    assert row["estimates"] == 1  # only the call whose usage the provider reported


def test_estimate_error_is_signed_bias_and_absolute_error(ledger: Ledger) -> None:
    (row,) = report_of(ledger).table("estimates").records()
    assert row["estimates"] == 1
    assert row["input_error_pct"] == 10.0  # 1100 estimated for 1000 sent
    assert row["input_bias_pct"] == 10.0
    assert row["output_error_pct"] == 20.0  # 400 for 500
    assert row["cost_error_pct"] == 20.0  # $0.012 for $0.010


def test_split_versus_baseline_per_task(ledger: Ledger) -> None:
    modes = {row["mode"]: row for row in report_of(ledger).table("modes").records()}
    assert list(modes) == ["split", "strong", "cheap"]
    assert modes["split"]["cost_per_task_usd"] == Decimal("0.045")
    assert modes["strong"]["cost_per_task_usd"] == Decimal("0.2")
    assert modes["split"]["vs_strong_pct"] == -77.5
    assert modes["split"]["tests_passed_pct"] == 50.0
    assert modes["split"]["accepted_pct"] == 50.0
    assert modes["split"]["cleanup_minutes_per_task"] == 12.0
    assert modes["cheap"]["cost_per_task_usd"] is None  # its only call is unpriced
    assert modes["cheap"]["vs_strong_pct"] is None


def test_json_keeps_dollars_exact(ledger: Ledger) -> None:
    data = json.loads(render(report_of(ledger), "json"))
    task = next(t for t in data["tables"]["tasks"] if t["task"] == "s1")
    assert task["cost_usd"] == "0.07"
    assert set(data["tables"]) == {"tasks", "steps", "models", "weeks", "estimates", "modes"}


def test_csv_names_the_table_in_every_row(ledger: Ledger) -> None:
    rows = list(csv.reader(io.StringIO(render(report_of(ledger), "csv"))))
    assert rows[0][:3] == ["table", "task", "type"]
    assert {row[0] for row in rows} == {
        "table",
        "tasks",
        "steps",
        "models",
        "weeks",
        "estimates",
        "modes",
    }


def test_markdown_and_table_show_every_section(ledger: Ledger) -> None:
    report = report_of(ledger)
    markdown = render(report, "markdown")
    assert "## Scorecard per task" in markdown and "| s1 |" in markdown
    text = render(report, "table")
    assert "Split versus single-model baselines" in text and "0.0700" in text


def test_empty_ledger_reports_nothing_recorded(tmp_path: Path) -> None:
    with SqliteLedger(tmp_path / "l.sqlite") as empty:
        report = report_of(empty)
    assert "(nothing recorded)" in render(report, "table")


def test_html_page_is_self_contained_with_three_charts(ledger: Ledger) -> None:
    report = report_of(ledger)
    from tandem.reports.scorecards import mode_summaries

    totals = ledger.report_totals()
    summaries = mode_summaries(totals.tasks, ledger.task_notes(), ledger.trial_runs())
    page = render_html(report, totals.groups, ledger.estimate_points(StepFilter()), summaries)
    assert page.count("<svg") == 3
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page and "<script" not in page and "<link" not in page
    for svg in page.split("<svg")[1:]:
        ElementTree.fromstring("<svg" + svg.split("</svg>")[0] + "</svg>")  # well-formed


def test_estimate_chart_draws_one_circle_per_step_and_spot_not_per_call() -> None:
    from tandem.reports.html import estimate_chart

    same = [(Decimal("0.010"), Decimal("0.011"), "draft")] * 10_000
    apart = [
        (Decimal("0.002"), Decimal("0.030"), "plan"),
        (Decimal("0.030"), Decimal("0.002"), "plan"),
    ]
    twins = [(Decimal("0.010"), Decimal("0.011"), "review")]  # same spot, another step
    chart = estimate_chart([*same, *apart, *twins])
    assert chart.count("<circle") == 4
    assert "draft, 10000 calls: estimated $0.01000, actual $0.01100" in chart
    assert "plan, 1 call: estimated $0.00200, actual $0.03000" in chart
    ElementTree.fromstring(chart)


def test_parse_since() -> None:
    assert parse_since("7d", now=AT) == AT - timedelta(days=7)
    assert parse_since("2w", now=AT) == AT - timedelta(weeks=2)
    assert parse_since("2026-11-01", now=AT) == datetime(2026, 11, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="7d"):
        parse_since("last tuesday")


def test_cli_report_formats_and_html(
    ledger: Ledger, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(ledger.path)
    assert main(["report", "--ledger", path, "--format", "json", "--task", "s1"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [t["task"] for t in data["tables"]["tasks"]] == ["s1"]
    page = tmp_path / "r.html"
    assert main(["report", "--ledger", path, "--html", str(page)]) == 0
    assert page.read_text().count("<svg") == 3 + 2  # and step value, recurring findings


def test_cli_report_bad_since_and_missing_ledger(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--ledger", str(tmp_path / "x.sqlite"), "--since", "soon"]) == 2
    assert "--since" in capsys.readouterr().err
    assert main(["report", "--ledger", str(tmp_path / "none.sqlite")]) == 1
    assert "no ledger" in capsys.readouterr().err
    assert not (tmp_path / "none.sqlite").exists()


def test_cli_report_on_a_corrupt_ledger_is_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"nope" * 100)
    assert main(["report", "--ledger", str(bad)]) == 1
    assert "not a readable SQLite database" in capsys.readouterr().err


def test_cli_ledger_note_sets_cleanup_minutes(
    ledger: Ledger, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["ledger", "note", "s2", "--cleanup-minutes", "7", "--ledger", str(ledger.path)]) == 0
    )
    assert ledger.task_notes()["s2"].cleanup_minutes == 7


def test_cli_ledger_note_rejects_negative_minutes(ledger: Ledger) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["ledger", "note", "s2", "--cleanup-minutes", "-5", "--ledger", str(ledger.path)])
    assert exit_info.value.code == 2


def test_elapsed_time_spans_first_start_to_last_end(ledger: Ledger) -> None:
    tasks = {row["task"]: row for row in report_of(ledger).table("tasks").records()}
    assert tasks["s1"]["elapsed_seconds"] == 1.2  # four steps started together, 1.234 s each
