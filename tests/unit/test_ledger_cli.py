"""``tandem ledger note|defect``: ratings, decisions and defects after merge, from the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from factories import step_record
from tandem.cli import main
from tandem.ledger.sqlite import SqliteLedger
from tandem.values import FindingRecord


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.sqlite"
    with SqliteLedger(path) as ledger:
        ledger.record_step(step_record("t1", step="plan", risk_tier="high", alias="strong"))
        ledger.record_step(step_record("t1", step="draft", risk_tier="high", alias="cheap"))
    return path


def test_a_defect_is_recorded_with_its_tier_route_and_models(
    ledger_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["ledger", "defect", "t1", "--note", "500 on archived=1", "--severity", "critical"]
    code = main([*args, "--ledger", str(ledger_path)])
    assert code == 0
    out = capsys.readouterr().out
    assert out.startswith("recorded a critical defect of task t1 (high risk;")
    assert "draft: anthropic/claude-sonnet-4-6" in out
    with SqliteLedger(ledger_path) as ledger:
        (defect,) = ledger.defects()
    assert (defect.task_id, defect.note, defect.severity) == ("t1", "500 on archived=1", "critical")
    assert [step["alias"] for step in defect.route] == ["strong", "cheap"]


def test_a_defect_on_an_unknown_task_is_one_line_and_exit_2(
    ledger_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["ledger", "defect", "nope", "--note", "x", "--ledger", str(ledger_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "no task 'nope'" in err and "tandem report" in err
    with SqliteLedger(ledger_path) as ledger:
        assert ledger.defects() == []


def test_a_defect_needs_a_note_a_known_severity_and_a_ledger(
    ledger_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ledger", "defect", "t1", "--note", "  ", "--ledger", str(ledger_path)]) == 2
    assert "--note must say what went wrong" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["ledger", "defect", "t1", "--note", "x", "--severity", "huge"])
    assert exited.value.code == 2
    assert "invalid choice: 'huge'" in capsys.readouterr().err
    missing = tmp_path / "none.sqlite"
    assert main(["ledger", "defect", "t1", "--note", "x", "--ledger", str(missing)]) == 1
    assert "no ledger at" in capsys.readouterr().err and not missing.exists()


@pytest.mark.parametrize("rating", ["0", "6", "4.5", "three", "-1"])
def test_a_rating_outside_one_to_five_is_refused_clearly(
    ledger_path: Path, rating: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["ledger", "note", "t1", "--rating", rating, "--ledger", str(ledger_path)])
    assert exited.value.code == 2
    assert "a rating is a whole number from 1 to 5" in capsys.readouterr().err


def test_note_records_a_rating_and_a_decision_that_closes_the_task(ledger_path: Path) -> None:
    with SqliteLedger(ledger_path) as ledger:
        finding = FindingRecord(
            task_id="t1",
            review_round=1,
            index=0,
            severity="major",
            category="bug",
            location="a.py:1",
            path="a.py",
            line=1,
            message="m",
        )
        ledger.record_findings("t1", 1, [finding])
    args = ["ledger", "note", "t1", "--rating", "4", "--decision", "rejected"]
    assert main([*args, "--ledger", str(ledger_path)]) == 0
    with SqliteLedger(ledger_path) as ledger:
        events = ledger.task_events(task_id="t1")
        assert [(e.rating, e.decision) for e in events] == [(4, None), (None, "rejected")]
        (settled,) = ledger.findings()
        assert (settled.outcome, settled.via) == ("dismissed", "unacted")
