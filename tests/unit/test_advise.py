"""Routing advice on scripted histories: what it suggests, what it never suggests, what it holds
back for want of evidence, the --json contract, and --apply keeping the settings file's comments."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from outcome_history import write_history

from tandem.cli import main
from tandem.config import Settings
from tandem.config.toml_edit import TomlEditError, edited_text
from tandem.ledger.sqlite import SqliteLedger
from tandem.reports.advice import NOT_ENOUGH, Advice, advise
from tandem.reports.evidence import load_evidence

SETTINGS = """# Our team's routes: reviewed on Mondays.
[models.strong]  # the careful one
provider = "fake"
model = "claude-sonnet-4-6"

[models.cheap]
provider = "fake"
model = "claude-haiku-4-5"

[routes.review]
low = "cheap"     # cheap eyes on small things
medium = "strong"
high = "strong"   # never skimp here
"""


def ledger_with(tmp_path: Path, per_tier: int = 20, **blocking: str) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "ledger.sqlite"
    with SqliteLedger(path) as ledger:
        write_history(ledger, per_tier, blocking=blocking)
    return path


def advice_for(path: Path, settings: Settings | None = None) -> dict[str, Advice]:
    with SqliteLedger(path) as ledger:
        evidence = load_evidence(ledger, None)
    return {a.setting: a for a in advise(evidence, settings or Settings())}


def test_low_risk_reviews_that_never_found_anything_are_suggested_skipped(tmp_path: Path) -> None:
    path = ledger_with(tmp_path)
    low = advice_for(path)["routes.review.low"]
    assert (low.current, low.suggested) == ("cheap", "skip")
    # The numbers behind it are the raw rows' numbers.
    db = sqlite3.connect(path)
    rows = db.execute(
        "SELECT cost_usd FROM steps WHERE step = 'review' AND risk_tier = 'low'"
    ).fetchall()
    db.close()
    assert low.evidence["runs"] == len(rows) == 20
    assert Decimal(str(low.evidence["cost_usd"])) == sum(Decimal(r[0]) for r in rows)
    assert low.evidence["catches"] == 0 and "caught nothing" in low.reason


def test_cheap_drafts_of_medium_work_that_keep_drawing_blocking_findings_go_strong(
    tmp_path: Path,
) -> None:
    advice = advice_for(ledger_with(tmp_path))
    medium = advice["routes.draft.medium"]
    assert (medium.current, medium.suggested) == ("cheap", "strong")
    assert medium.evidence == {"runs": 20, "blocked_runs": 15, "blocked_pct": 75.0}
    assert "routes.draft.high" not in advice  # 5 of 20: under the threshold
    assert "routes.draft.low" not in advice


def test_a_tier_with_defects_after_merge_never_loses_its_review(tmp_path: Path) -> None:
    # High-risk reviews that never blocked anything, but tasks with defects after merge.
    advice = advice_for(ledger_with(tmp_path, high="none"))
    high = advice["routes.review.high"]
    assert high.suggested is None and "defects" in high.reason
    assert high.evidence["defects_after"] == 4 and high.evidence["catches"] == 0
    assert all(a.suggested != "skip" for a in advice.values() if a.setting.endswith("high"))
    # A tier already skipped whose tasks had defects gets its review back.
    skipped = Settings.model_validate(
        {"routes": {"review": {"low": "cheap", "medium": "strong", "high": "skip"}}}
    )
    back = advice_for(ledger_with(tmp_path / "x", high="none"), skipped)["routes.review.high"]
    assert (back.current, back.suggested) == ("skip", "strong")


def test_with_fewer_runs_than_the_minimum_it_says_not_enough_evidence_yet(tmp_path: Path) -> None:
    advice = advice_for(ledger_with(tmp_path, per_tier=4))
    assert advice, "the held-back advice is shown, not silence"
    assert all(a.suggested is None for a in advice.values())
    assert all(a.reason.startswith(NOT_ENOUGH) for a in advice.values())
    assert advice["routes.review.low"].evidence == {"runs": 4, "min_runs": 10}
    # The minimum is a setting.
    lower = Settings.model_validate({"advice": {"min_runs": 4}})
    assert advice_for(ledger_with(tmp_path / "y", per_tier=4), lower)[
        "routes.review.low"
    ].suggested == ("skip")


def test_plans_never_edited_and_never_rewritten_go_to_the_cheap_model(tmp_path: Path) -> None:
    advice = advice_for(ledger_with(tmp_path, medium="none"))
    plan = advice["routes.plan.medium"]
    assert (plan.current, plan.suggested) == ("strong", "cheap")
    assert plan.evidence == {"runs": 20, "edited": 0, "rewritten_tasks": 0}
    # With redrafts (the default history's medium tier), the strong planner stays.
    assert "routes.plan.medium" not in advice_for(ledger_with(tmp_path / "z"))


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "tandem.toml").write_text(SETTINGS, encoding="utf-8")
    ledger_with(tmp_path / ".tandem")  # where the settings' default ledger is
    return tmp_path


def test_the_json_contract(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["advise", "--json", "--workspace", str(workspace)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"window_days", "step_value", "recurring_findings", "advice"}
    assert data["window_days"] == 14
    assert set(data["step_value"][0]) == {
        "step",
        "tier",
        "model",
        "runs",
        "cost_usd",
        "catches",
        "usd_per_catch",
        "changed_outcome_pct",
        "defects_after",
    }
    assert set(data["recurring_findings"][0]) == {"category", "message", "count", "tasks"}
    assert {"setting", "current", "suggested", "reason", "evidence"} == set(data["advice"][0])
    skip = [a for a in data["advice"] if a["setting"] == "routes.review.low"]
    assert skip[0]["suggested"] == "skip" and skip[0]["evidence"]["runs"] == 20


def test_nothing_changes_without_apply_and_apply_keeps_the_comments(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = workspace / "tandem.toml"
    assert main(["advise", "--workspace", str(workspace)]) == 0
    out = capsys.readouterr().out
    assert "routes.review.low: 'cheap' -> 'skip'" in out and "--apply" in out
    assert settings.read_text(encoding="utf-8") == SETTINGS
    assert main(["advise", "--apply", "--workspace", str(workspace)]) == 0
    captured = capsys.readouterr()
    assert '-low = "cheap"     # cheap eyes on small things' in captured.out
    assert '+low = "skip"     # cheap eyes on small things' in captured.out
    after = settings.read_text(encoding="utf-8")
    assert after == SETTINGS.replace('low = "cheap"', 'low = "skip"', 1) + (
        '\n[routes.draft]\nmedium = "strong"\n'
    )
    assert "# Our team's routes: reviewed on Mondays." in after
    assert main(["doctor", "--workspace", str(workspace)]) == 0  # still valid settings
    capsys.readouterr()


def test_editing_pyproject_writes_under_tool_tandem() -> None:
    text = '[project]\nname = "x"  # ours\n\n[tool.tandem.routes.review]\nlow = "cheap"\n'
    after = edited_text(text, {"routes.review.low": "skip"}, pyproject=True)
    assert after == text.replace('"cheap"', '"skip"')
    with pytest.raises(TomlEditError):
        edited_text("[routes\n", {"routes.review.low": "skip"})
    with pytest.raises(TomlEditError):
        edited_text('routes = "x"\n', {"routes.review.low": "skip"})


def test_the_editor_sees_the_same_advice_in_its_status_and_report(workspace: Path) -> None:
    from tandem.config import load_settings
    from tandem.reports.status import LedgerView, write_report

    settings = load_settings(workspace).settings
    view = LedgerView(settings, workspace)
    lines = view.advice(settings)
    view.close()
    assert any(line.startswith("routes.review.low: 'cheap' -> 'skip'") for line in lines)
    report = write_report(workspace, settings).read_text(encoding="utf-8")
    assert "## Routing advice (`tandem advise`)" in report
    assert all(f"- {line}" in report for line in lines)
    assert "Step value per step" in report and "Recurring findings" in report
