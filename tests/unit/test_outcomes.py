"""Outcomes: the ledger migration, findings settled once, and the flow recording what it changed."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from flow_doubles import (
    ScriptedProvider,
    example_flow,
    example_replies,
    example_repo,
    example_task,
    priced_settings,
)
from pydantic import ValidationError

from factories import step_record
from tandem.flow.apply import apply_task_edits
from tandem.flow.catches import catches, changed_region, flagged_region, parse_location
from tandem.flow.env import build_flow_env, one_provider
from tandem.flow.handoff import Finding
from tandem.flow.outcomes import close_task
from tandem.flow.run import run_flow
from tandem.flow.task import approve_plan
from tandem.ledger.outcome_rows import UnknownTask
from tandem.ledger.recorder import GuardedRecorder
from tandem.ledger.rows import STEP_COLUMNS, step_values
from tandem.ledger.schema import MIGRATIONS
from tandem.ledger.sqlite import SqliteLedger
from tandem.values import FindingRecord, FindingResolution, StepChange, TaskEvent


def finding(index: int, task_id: str = "t1", round_: int = 1, **fields: object) -> FindingRecord:
    values: dict[str, object] = {
        "task_id": task_id,
        "review_round": round_,
        "index": index,
        "severity": "blocking",
        "category": "bug",
        "location": "app/q.py:3",
        "path": "app/q.py",
        "line": 3,
        "message": "wrong",
    }
    values.update(fields)
    return FindingRecord.model_validate(values)


# ----- the migration --------------------------------------------------------------------------


def version_three_ledger(path: Path) -> None:
    """A ledger as Tandem wrote it before outcomes existed: a step, a note, a trial run."""
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT)")
    for version in (1, 2, 3):
        MIGRATIONS[version - 1](db, SqliteLedger.primary_key)
        db.execute("INSERT INTO schema_version VALUES (?, 'then')", (version,))
    then = STEP_COLUMNS.removesuffix(", usage_counted")  # the columns of that time
    placeholders = ", ".join("?" * len(then.split(",")))
    db.execute(
        f"INSERT INTO steps ({then}) VALUES ({placeholders})",
        step_values(step_record("old", findings={"blocking": 1}))[: len(then.split(","))],
    )
    db.execute(
        "INSERT INTO task_notes (recorded_at, task_id, cleanup_minutes, note) "
        "VALUES ('2026-11-01T12:00:00+00:00', 'old', 7, 'renamed things')"
    )
    db.execute(
        "INSERT INTO trial_runs (recorded_at, trial_id, task_id, mode, run_index, outcome, "
        "duration_ms) VALUES ('2026-11-01T12:00:00+00:00', 'tr', 'old', 'split', 0, 'done', 5)"
    )
    db.commit()
    db.close()


def test_a_ledger_from_before_outcomes_is_upgraded_in_place_and_loses_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ledger.sqlite"
    version_three_ledger(path)
    with SqliteLedger(path) as ledger:
        assert ledger.schema_version() == len(MIGRATIONS) == 5
        (old,) = ledger.steps()
        assert old.record == step_record("old", findings={"blocking": 1})
        assert ledger.task_notes()["old"].cleanup_minutes == 7
        assert [run.task_id for run in ledger.trial_runs()] == ["old"]
        assert ledger.findings() == [] and ledger.defects() == []
        ledger.record_task_event(TaskEvent(task_id="old", rating=4))
        assert [event.rating for event in ledger.task_events()] == [4]
        assert ledger.record_defect("old", "major", "crashed on empty input").risk_tier == "medium"
    with SqliteLedger(path) as reopened:  # the upgrade happened once, in the file itself
        assert reopened.schema_version() == 5
        assert len(reopened.steps()) == 1 and len(reopened.defects()) == 1


# ----- findings, changes, events, defects ------------------------------------------------------


def test_a_finding_is_settled_once_and_a_decision_dismisses_the_rest(tmp_path: Path) -> None:
    with SqliteLedger(tmp_path / "l.sqlite") as ledger:
        ledger.record_findings("t1", 1, [finding(0), finding(1), finding(2)])
        catch = FindingResolution(
            task_id="t1", review_round=1, index=0, outcome="catch", via="redraft", change="d2"
        )
        assert ledger.resolve_findings([catch]) == 1
        assert ledger.resolve_findings([catch.model_copy(update={"via": "user_edit"})]) == 0
        assert ledger.dismiss_open_findings("t1", "unacted", "accepted") == 2
        settled = {row.index: (row.outcome, row.via, row.change) for row in ledger.findings()}
        assert settled == {
            0: ("catch", "redraft", "d2"),
            1: ("dismissed", "unacted", "accepted"),
            2: ("dismissed", "unacted", "accepted"),
        }


def test_a_new_review_of_the_same_draft_replaces_the_open_findings(tmp_path: Path) -> None:
    with SqliteLedger(tmp_path / "l.sqlite") as ledger:
        ledger.record_findings("t1", 1, [finding(0)])
        ledger.record_findings("t1", 1, [finding(0, message="still wrong")])
        first, second = ledger.findings()
        assert (first.outcome, first.via) == ("dismissed", "replaced")
        assert second.outcome is None and second.message == "still wrong"
        catch = FindingResolution(
            task_id="t1", review_round=1, index=0, outcome="catch", via="quick_fix", change="x"
        )
        ledger.resolve_findings([catch])  # the latest finding of that index is the one settled
        assert [row.outcome for row in ledger.findings()] == ["dismissed", "catch"]


def test_step_changes_and_task_events_are_kept_as_recorded(tmp_path: Path) -> None:
    with SqliteLedger(tmp_path / "l.sqlite") as ledger:
        ledger.record_step_change(StepChange(task_id="t1", step="plan", ship=True, detail="e"))
        ledger.record_task_event(TaskEvent(task_id="t1", rewrite="redraft"))
        ledger.record_task_event(TaskEvent(task_id="t1", ready_seconds=12.5))
        (change,) = ledger.step_changes()
        assert (change.step, change.round, change.code, change.tests, change.ship) == (
            "plan",
            1,
            False,
            False,
            True,
        )
        events = ledger.task_events(task_id="t1")
        assert [(e.rewrite, e.ready_seconds) for e in events] == [("redraft", None), (None, 12.5)]


@pytest.mark.parametrize("rating", [0, 6, -1])
def test_a_rating_outside_one_to_five_is_refused(rating: int) -> None:
    with pytest.raises(ValidationError, match="rating"):
        TaskEvent(task_id="t1", rating=rating)


def test_a_defect_is_tied_to_the_route_models_and_prompts_that_made_it(tmp_path: Path) -> None:
    with SqliteLedger(tmp_path / "l.sqlite") as ledger:
        ledger.record_step(step_record("t1", step="plan", risk_tier="low", prompt_version="p1"))
        ledger.record_step(step_record("t1", step="review", risk_tier="high", alias="cheap"))
        defect = ledger.record_defect("t1", "critical", "  leaked a token in the logs  ")
        assert (defect.severity, defect.note, defect.risk_tier) == (
            "critical",
            "leaked a token in the logs",
            "high",
        )
        assert [(s["step"], s["alias"], s["prompt_version"]) for s in defect.route] == [
            ("plan", "strong", "p1"),
            ("review", "cheap", "abc123"),
        ]
        with pytest.raises(UnknownTask, match="no task 'nope'"):
            ledger.record_defect("nope", "major", "x")
        with pytest.raises(ValueError, match="severity"):
            ledger.record_defect("t1", "catastrophic", "x")
        assert len(ledger.defects()) == 1


# ----- which findings a change acted on ---------------------------------------------------------

BEFORE = "import os\n\n\ndef handler(x):\n    a = 1\n    b = 2\n    return a + b\n\n\nVALUE = 3\n"


def test_a_location_names_a_line_a_unit_or_a_file() -> None:
    assert parse_location("app/q.py:12-14") == parse_location("app/q.py:12")
    assert parse_location("app/q.py:12").line == 12  # type: ignore[union-attr]
    assert parse_location("app/q.py::handler").unit == "handler"  # type: ignore[union-attr]
    assert parse_location("app/q.py").line is None  # type: ignore[union-attr]
    assert parse_location("  ") is None


def test_a_finding_on_a_line_covers_the_unit_around_it() -> None:
    where = parse_location("app/q.py:6")
    assert where is not None and flagged_region(BEFORE, where) == (4, 7)
    after = BEFORE.replace("    a = 1\n", "    a = 10\n")
    assert changed_region(BEFORE, after, (4, 7)) == (5, 5)
    assert changed_region(BEFORE, after.replace("VALUE = 3", "VALUE = 4"), (10, 10)) == (10, 10)
    assert changed_region(BEFORE, after, (10, 10)) is None


def test_a_finding_on_a_vanished_line_or_unit_covers_the_whole_file() -> None:
    for location in ("app/q.py:400", "app/q.py::gone"):
        where = parse_location(location)
        assert where is not None and flagged_region(BEFORE, where) is None


def test_only_findings_whose_code_changed_are_catches() -> None:
    findings = [
        Finding(severity="blocking", category="bug", location=loc, message="m",
                suggested_change=None)
        for loc in ("app/q.py:5", "app/q.py:10", "tests/test_q.py", "elsewhere.py:1", "nowhere")
    ]  # fmt: skip
    before = {"app/q.py": BEFORE, "tests/test_q.py": None}
    after = {"app/q.py": BEFORE.replace("b = 2", "b = 3"), "tests/test_q.py": "def test(): ...\n"}
    found = catches(findings, before, after)
    assert [(c.index, c.path, c.lines, c.in_tests) for c in found] == [
        (0, "app/q.py", (6, 6), False),
        (2, "tests/test_q.py", (1, 1), True),
    ]
    assert found[0].describe("draft 2") == "draft 2 changed app/q.py line 6"


# ----- the flow records outcomes as they happen --------------------------------------------------


def test_the_flow_records_catches_changes_rewrites_readiness_and_the_decision(
    tmp_path: Path,
) -> None:
    ledger = SqliteLedger(tmp_path / "ledger.sqlite")
    env = build_flow_env(
        priced_settings(),
        example_repo(tmp_path),
        recorder=ledger,
        providers=one_provider(ScriptedProvider(example_replies())),
    )
    assert env.outcomes is ledger
    task_id = example_task(env)
    result = asyncio.run(run_flow(env, task_id, approve=True))
    assert result.status == "done"
    rows = ledger.findings()
    assert [(r.review_round, r.index, r.path) for r in rows] == [
        (1, 0, "app/handlers.py"),
        (1, 1, "tests/test_handlers.py"),
        (1, 2, "app/queries.py"),
        (2, 0, "tests/test_handlers.py"),
    ]
    by_key = {(r.review_round, r.index): r for r in rows}
    # The second draft rewrote the handler and the tests the first review flagged ...
    assert (by_key[1, 0].outcome, by_key[1, 0].via) == ("catch", "redraft")
    assert by_key[1, 0].change is not None and by_key[1, 0].change.startswith(
        "draft 2 changed app/handlers.py"
    )
    assert (by_key[1, 1].outcome, by_key[1, 1].via) == ("catch", "redraft")
    # ... not the docstring the nit was about: still open, like the second review's finding.
    assert by_key[1, 2].outcome is None and by_key[2, 0].outcome is None
    changes = {(c.step, c.round): c for c in ledger.step_changes() if not c.ship}
    assert changes["draft", 1].code and changes["draft", 1].tests
    assert changes["review", 1].code and changes["review", 1].tests
    ship = [(c.step, c.round) for c in ledger.step_changes() if c.ship]
    assert ship == [("review", 1)]  # its verdict sent the draft back and the redraft changed it
    plan = [c for c in ledger.step_changes() if c.step == "plan"]
    assert [(c.ship, c.detail) for c in plan] == [(False, "approved as proposed")]
    events = ledger.task_events(task_id=task_id)
    assert [e.rewrite for e in events if e.rewrite] == ["redraft"]
    (ready,) = [e for e in events if e.ready_seconds is not None]
    assert ready.ready_seconds is not None and 0 <= ready.ready_seconds < 600
    apply_task_edits(env, task_id)
    close_task(env.outcomes, task_id, "accepted", "test")
    settled = {(r.review_round, r.index): (r.outcome, r.via) for r in ledger.findings()}
    assert settled[1, 2] == ("dismissed", "unacted") == settled[2, 0]
    assert settled[1, 0] == ("catch", "redraft")
    assert [e.decision for e in ledger.task_events() if e.decision] == ["accepted"]
    ledger.close()


def test_a_draft_that_changed_nothing_is_recorded_as_needing_attention_with_its_reasons(
    tmp_path: Path,
) -> None:
    replies = example_replies()
    for edit in replies["draft"][0]["edits"]:
        edit["target"] = "app/nowhere.py::missing"  # outside the plan's scope: refused
    ledger = SqliteLedger(tmp_path / "ledger.sqlite")
    env = build_flow_env(
        priced_settings(),
        example_repo(tmp_path),
        recorder=ledger,
        providers=one_provider(ScriptedProvider(replies)),
    )
    task_id = example_task(env)
    assert asyncio.run(run_flow(env, task_id, approve=True)).status == "needs_attention"
    asyncio.run(run_flow(env, task_id, approve=True))  # resuming records it once only
    (event,) = [e for e in ledger.task_events(task_id=task_id) if e.needs_attention]
    assert event.detail is not None and "draft 1 changed nothing" in event.detail
    assert not [e for e in ledger.task_events(task_id=task_id) if e.ready_seconds is not None]
    ledger.close()


def test_a_flow_without_an_outcome_recorder_runs_as_before(tmp_path: Path) -> None:
    flow = example_flow(tmp_path, ScriptedProvider(example_replies()))
    assert flow.env.outcomes is None
    result = asyncio.run(run_flow(flow.env, example_task(flow.env), approve=True))
    assert result.status == "done"


def test_an_edited_plan_changed_the_decision_to_ship(tmp_path: Path) -> None:
    ledger = SqliteLedger(tmp_path / "ledger.sqlite")
    replies = example_replies()
    env = build_flow_env(
        priced_settings(),
        example_repo(tmp_path),
        recorder=ledger,
        providers=one_provider(ScriptedProvider(replies)),
    )
    task_id = example_task(env)
    asyncio.run(run_flow(env, task_id, approve=False))
    document = env.store.plan_document(task_id)
    document.write_text(document.read_text().replace("## Risks\n", "## Risks\n\n- mine\n"))
    approve_plan(env.store, task_id, env.outcomes)
    approve_plan(env.store, task_id, env.outcomes)  # a second approval records nothing new
    plan = [c for c in ledger.step_changes() if c.step == "plan"]
    assert [(c.ship, c.detail) for c in plan] == [
        (True, "the user edited the plan before approving it")
    ]
    ledger.close()


def test_findings_and_events_survive_a_ledger_that_was_briefly_unwritable(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    path.write_bytes(b"not a database")
    recorder = GuardedRecorder(path)
    recorder.record_task_event(TaskEvent(task_id="t1", rating=3))
    assert recorder.problem is not None and len(recorder.held_outcomes) == 1
    path.unlink()
    recorder.record_findings("t1", 1, [finding(0)])
    assert recorder.problem is None and recorder.held_outcomes == []
    ledger = recorder.ledger
    assert ledger is not None
    assert [e.rating for e in ledger.task_events()] == [3] and len(ledger.findings()) == 1
    recorder.close()
