"""Code actions offered at a cursor or selection, and the task catalog they are built from."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

from flow_doubles import REQUEST, ScriptedProvider, example_anchor, example_flow, example_slice
from lsprotocol import types

from tandem.flow.handoff import Plan, PlanReply, Scope
from tandem.flow.stop_rule import FlowPosition
from tandem.flow.task import create_task
from tandem.lsp.flow_actions import flow_code_actions, plan_document_actions, plan_hint
from tandem.lsp.flow_tasks import TaskCatalog, TaskSummary

URI = "file:///repo/app/handlers.py"
CURSOR = types.Range(
    start=types.Position(line=12, character=4), end=types.Position(line=12, character=4)
)


def summary(task_id: str, **position: object) -> TaskSummary:
    return TaskSummary(task_id, frozenset({"app/handlers.py"}), FlowPosition(**position))  # type: ignore[arg-type]


def titles(actions: list[types.CodeAction]) -> list[str]:
    return [action.title for action in actions]


def actions_for(tasks: list[TaskSummary], **options: object) -> list[types.CodeAction]:
    return flow_code_actions(
        URI,
        CURSOR,
        tasks,
        [],
        path="app/handlers.py",
        line_text=lambda _: "",
        **options,  # type: ignore[arg-type]
    )


def test_without_a_task_plan_review_and_estimate_are_offered() -> None:
    actions = actions_for([])
    assert titles(actions) == [
        "Plan this change…",
        "Review selection",
        "Review changes since HEAD",
        "Estimate cost",
    ]
    plan, review, head, estimate = actions
    assert plan.kind == "refactor.rewrite" and review.kind == head.kind == estimate.kind == "source"
    range_json = {
        "start": {"line": 12, "character": 4},
        "end": {"line": 12, "character": 4},
    }
    assert plan.command == types.Command(
        title="Plan this change…",
        command="tandem.plan",
        arguments=[{"uri": URI, "range": range_json}],
    )
    assert estimate.command is not None and estimate.command.command == "tandem.estimate"
    assert head.command is not None and head.command.arguments == [{"working_tree": True}]


def test_draft_from_plan_only_for_a_task_with_a_plan_and_no_draft() -> None:
    assert "Draft from plan" in titles(actions_for([summary("t2", has_plan=True)]))
    assert "Draft from plan" not in titles(actions_for([summary("t2")]))
    drafted = summary("t2", has_plan=True, approved=True, drafts=1)
    assert "Draft from plan" not in titles(actions_for([drafted]))


def test_redraft_only_when_the_stop_rule_allows_it() -> None:
    blocking = summary(
        "t", has_plan=True, approved=True, drafts=1, reviews=1, last_review_blocking=True
    )
    assert "Redraft with findings" in titles(actions_for([blocking]))
    clean = summary("t", has_plan=True, approved=True, drafts=1, reviews=1)
    assert "Redraft with findings" not in titles(actions_for([clean]))
    second = summary(
        "t", has_plan=True, approved=True, drafts=2, reviews=2, last_review_blocking=True
    )
    assert "Redraft with findings" not in titles(actions_for([second]))


def test_a_kept_draft_can_be_reapplied() -> None:
    drafted = summary("t9", has_plan=True, approved=True, drafts=1)
    actions = actions_for([drafted], kept_drafts=frozenset({"t9"}))
    reapply = next(a for a in actions if a.title == "Re-apply Tandem draft")
    assert reapply.command is not None and reapply.command.arguments == [{"task_id": "t9"}]


def test_only_the_kinds_asked_for_are_listed() -> None:
    assert titles(actions_for([], only=["source"])) == [
        "Review selection",
        "Review changes since HEAD",
        "Estimate cost",
    ]
    assert titles(actions_for([], only=["refactor"])) == ["Plan this change…"]
    assert actions_for([], only=["quickfix"]) == []


def tandem_diagnostic(suggested: str | None, task_id: str = "t") -> types.Diagnostic:
    return types.Diagnostic(
        range=types.Range(
            start=types.Position(line=3, character=4), end=types.Position(line=3, character=9)
        ),
        message="m",
        source="tandem",
        data={"task_id": task_id, "severity": "blocking", "suggested_change": suggested},
    )


def test_quick_fixes_only_for_tandem_findings_with_a_suggested_change() -> None:
    other = types.Diagnostic(
        range=CURSOR, message="x", source="ruff", data={"suggested_change": "y"}
    )
    diagnostics = [tandem_diagnostic("reject other values"), tandem_diagnostic(None), other]
    actions = flow_code_actions(
        URI, CURSOR, [], diagnostics, path="app/handlers.py", line_text=lambda _: "    return 1\n"
    )
    [fix] = [a for a in actions if a.kind == "quickfix"]
    assert fix.title == "Add TODO: reject other values"
    assert fix.diagnostics == [diagnostics[0]]
    [edit] = (fix.edit.changes or {})[URI] if fix.edit else []
    assert edit.new_text == "    # TODO(tandem): reject other values\n"
    assert edit.range.start == types.Position(line=3, character=0)


def test_a_redraft_quick_fix_for_the_task_the_finding_belongs_to() -> None:
    blocking = summary(
        "t", has_plan=True, approved=True, drafts=1, reviews=1, last_review_blocking=True
    )
    actions = flow_code_actions(
        URI,
        CURSOR,
        [blocking],
        [tandem_diagnostic("fix", "t")],
        path="app/handlers.py",
        line_text=lambda _: "",
    )
    fixes = [a.title for a in actions if a.kind == "quickfix"]
    assert fixes == ["Add TODO: fix", "Redraft with findings"]


def test_the_catalog_knows_which_tasks_touch_a_file_and_sees_new_ones(tmp_path: Path) -> None:
    env = example_flow(tmp_path, ScriptedProvider({})).env  # no step is run
    repo, store = env.repo, env.store
    first = create_task(env, REQUEST, example_anchor(), example_slice(repo)).task_id
    catalog = TaskCatalog(store)
    [found] = catalog.touching("app/handlers.py")
    assert found.task_id == first and not found.can_draft
    assert catalog.touching("app/db.py") == [] and catalog.latest_planned() is None

    plan = PlanReply(
        summary="s",
        scope=Scope(units=["app/queries.py::list_projects"], files=["app/db.py"], out_of_scope=[]),
        assumptions=[],
        steps=["x"],
        risks=[],
        test_cases=[],
        acceptance_checks=[],
        open_questions=[],
    )
    store.save_plan(first, Plan(reply=plan))
    refreshed = catalog.refresh(first)
    assert refreshed is not None and refreshed.can_draft
    assert [t.task_id for t in catalog.touching("app/db.py")] == [first]
    assert catalog.latest_planned() == refreshed

    time.sleep(0.01)  # a new folder changes the tasks directory's mtime
    second = create_task(env, REQUEST, example_anchor(), example_slice(repo), task_id="zz-later")
    assert [t.task_id for t in catalog.touching("app/handlers.py")] == [second.task_id, first]


def test_in_a_plan_document_only_draft_from_plan_for_its_task() -> None:
    [draft] = plan_document_actions(summary("t3", has_plan=True))
    assert draft.command is not None and draft.command.arguments == [{"task_id": "t3"}]
    assert plan_document_actions(summary("t3", has_plan=True, drafts=1)) == []
    assert plan_document_actions(None) == []


def test_a_known_estimate_goes_into_the_plan_title() -> None:
    assert plan_hint("strong", "claude-sonnet-4-6", Decimal("0.0234")) == (
        " · claude-sonnet-4-6 · ≈$0.02"
    )
    assert plan_hint("cheap", None, Decimal("0.0012")) == " · cheap · ≈$0.0012"
    assert plan_hint(None, None, None) == " · skipped"
    [plan, *_] = actions_for([], hint=" · cheap · ≈$0.0012")
    assert plan.title == "Plan this change… · cheap · ≈$0.0012"
    assert plan.command is not None and plan.command.title == plan.title


def test_no_todo_quick_fix_writes_a_redaction_placeholder_into_code() -> None:
    leaky = tandem_diagnostic("compare with <<REDACTED:aws-access-key:1>> instead")
    actions = flow_code_actions(
        URI, CURSOR, [], [leaky], path="app/handlers.py", line_text=lambda _: "    return 1\n"
    )
    assert [a for a in actions if a.kind == "quickfix"] == []
