"""The flow: plan → approval → draft → review, the stop rule, budgets, persistence and resume."""

from __future__ import annotations

import asyncio
import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flow_doubles import (
    CANCEL,
    PARTIAL_REPLY,
    REQUEST,
    ScriptedProvider,
    example_anchor,
    example_flow,
    example_replies,
    example_slice,
    example_task,
    priced_settings,
)

from tandem.commands.flow_output import run_json
from tandem.config import Budget
from tandem.cost.tokens import count_tokens
from tandem.flow.apply import apply_task_edits
from tandem.flow.run import run_flow
from tandem.flow.stop_rule import FlowPosition, next_step
from tandem.flow.task import approve_plan, create_task
from tandem.providers.base import ProviderFailure
from tandem.values import Usage

# ----- the stop rule, branch by branch -------------------------------------------------------


def test_stop_rule_starts_with_a_plan() -> None:
    assert next_step(FlowPosition()).step == "plan"


def test_stop_rule_waits_for_approval() -> None:
    decision = next_step(FlowPosition(has_plan=True))
    assert decision.step is None and "waiting for approval" in decision.reason


def test_stop_rule_drafts_once_approved_then_reviews() -> None:
    assert next_step(FlowPosition(has_plan=True, approved=True)).step == "draft"
    decision = next_step(FlowPosition(has_plan=True, approved=True, drafts=1))
    assert (decision.step, decision.round) == ("review", 1)


def test_stop_rule_stops_when_the_review_has_no_blocking_findings() -> None:
    position = FlowPosition(has_plan=True, approved=True, drafts=1, reviews=1)
    assert next_step(position).step is None


def test_stop_rule_allows_exactly_one_more_draft_on_blocking_findings() -> None:
    position = FlowPosition(
        has_plan=True, approved=True, drafts=1, reviews=1, last_review_blocking=True
    )
    assert (next_step(position).step, next_step(position).round) == ("draft", 2)
    second = FlowPosition(
        has_plan=True, approved=True, drafts=2, reviews=1, last_review_blocking=True
    )
    assert (next_step(second).step, next_step(second).round) == ("review", 2)


def test_stop_rule_never_loops_after_the_second_review() -> None:
    position = FlowPosition(
        has_plan=True, approved=True, drafts=2, reviews=2, last_review_blocking=True
    )
    decision = next_step(position)
    assert decision.step is None and decision.reason.startswith("stop rule")


def test_stop_rule_stops_after_a_skipped_review() -> None:
    position = FlowPosition(has_plan=True, approved=True, drafts=1, review_skipped=True)
    assert next_step(position).step is None


def test_stop_rule_never_calls_a_draft_that_changed_nothing_done_and_offers_one_redraft() -> None:
    position = FlowPosition(
        has_plan=True, approved=True, drafts=1, review_skipped=True, last_draft_changed_nothing=True
    )
    decision = next_step(position)
    assert (decision.step, decision.status) == (None, "needs_attention")
    assert "changed nothing" in decision.reason and "done" not in decision.reason.split(": ")[0]
    assert decision.offers_redraft and "redraft" in decision.reason


def test_stop_rule_offers_no_third_draft_when_the_second_changed_nothing() -> None:
    position = FlowPosition(
        has_plan=True, approved=True, drafts=2, review_skipped=True, last_draft_changed_nothing=True
    )
    decision = next_step(position)
    assert (decision.step, decision.status) == (None, "needs_attention")
    assert not decision.offers_redraft and "redraft" not in decision.reason


async def test_a_draft_whose_every_edit_is_refused_needs_attention_instead_of_finishing(
    tmp_path: Path,
) -> None:
    replies = _replies()
    for edit in replies["draft"][0]["edits"]:
        edit["target"] = "app/nowhere.py::missing"  # outside the plan's scope: refused
    env, _recorder, _, _ = example_flow(tmp_path, ScriptedProvider(replies))
    task_id = example_task(env)
    result = await run_flow(env, task_id, approve=True)
    assert [(s.step, s.outcome) for s in result.steps][:2] == [("plan", "ok"), ("draft", "ok")]
    assert result.status == "needs_attention"
    assert result.message is not None and "changed nothing" in result.message
    assert env.store.load_state(task_id).status == "needs_attention"  # the task folder says so
    again = await run_flow(env, task_id, approve=True)  # resuming alone drafts nothing more
    assert [s.step for s in again.steps] == [s.step for s in result.steps]


async def test_the_redraft_after_a_draft_that_changed_nothing_is_told_why_and_runs_once(
    tmp_path: Path,
) -> None:
    replies = _replies()
    good_edits = [dict(edit) for edit in replies["draft"][0]["edits"]]
    for edit in replies["draft"][0]["edits"]:
        edit["target"] = "app/nowhere.py::missing"
    replies["draft"].insert(1, {**replies["draft"][0], "edits": good_edits})
    provider = ScriptedProvider(replies)
    env, _recorder, _, _ = example_flow(tmp_path, provider)
    task_id = example_task(env)
    await run_flow(env, task_id, approve=True)
    result = await run_flow(env, task_id, approve=True, redraft=True)
    assert [s.round for s in result.steps if s.step == "draft"] == [1, 2]
    second = env.store.load_draft(task_id, 2)
    assert second is not None and second.diff
    redraft_prompt = [r.user for r in provider.requests if r.step == "draft"][1]
    assert "None of the first draft's edits could be applied" in redraft_prompt
    assert "app/nowhere.py::missing" in redraft_prompt
    assert result.status != "needs_attention"


async def test_two_identical_refused_edits_are_both_reported_refused(tmp_path: Path) -> None:
    from tandem.commands.flow_output import edits_json

    replies = _replies()
    refused = {**replies["draft"][0]["edits"][0], "target": "app/nowhere.py::missing"}
    replies["draft"][0]["edits"] = [refused, dict(refused)]
    env, _recorder, _, _ = example_flow(tmp_path, ScriptedProvider(replies))
    task_id = example_task(env)
    await run_flow(env, task_id, approve=True)
    draft = env.store.load_draft(task_id, 1)
    assert draft is not None
    assert sorted(r.index for r in draft.rejected) == [0, 1]
    assert [edit["applies"] for edit in edits_json(draft)] == [False, False]


def test_stop_rule_does_not_redraft_after_a_stop() -> None:
    position = FlowPosition(
        has_plan=True, approved=True, drafts=1, reviews=1, last_review_blocking=True, stopped=True
    )
    assert next_step(position).step is None


# ----- end to end with scripted replies --------------------------------------------------------


def _replies() -> dict[str, list[Any]]:
    return copy.deepcopy(example_replies())


async def test_blocking_review_gets_exactly_one_more_draft_and_review(tmp_path: Path) -> None:
    env, recorder, provider, _ = example_flow(tmp_path, ScriptedProvider(_replies()))
    task_id = example_task(env)
    result = await run_flow(env, task_id, approve=True)
    assert [(s.step, s.round, s.outcome) for s in result.steps] == [
        ("plan", 1, "ok"), ("draft", 1, "ok"), ("review", 1, "ok"),
        ("draft", 2, "ok"), ("review", 2, "ok"),
    ]  # fmt: skip
    assert result.status == "done"
    assert result.review is not None and result.review.reply.verdict == "approve"
    assert [r.attempt_of_step for r in recorder.records] == [1, 1, 1, 2, 2]
    assert all(r.estimate is not None and r.prompt_version for r in recorder.records)
    assert recorder.records[2].findings == {"blocking": 1, "major": 1, "nit": 1}
    second_draft_prompt = provider.requests[3].user
    assert "second and last draft" in second_draft_prompt
    assert "treated as false" in second_draft_prompt


async def test_a_clean_review_ends_after_one_round(tmp_path: Path) -> None:
    replies = _replies()
    replies["review"] = [replies["review"][1]]
    env, _recorder, _, _ = example_flow(tmp_path, ScriptedProvider(replies))
    result = await run_flow(env, example_task(env), approve=True)
    assert [s.step for s in result.steps] == ["plan", "draft", "review"]
    assert result.message == "the review found no blocking issues: done"


async def test_two_blocking_reviews_still_stop_after_the_second(tmp_path: Path) -> None:
    replies = _replies()
    replies["review"] = [replies["review"][0], replies["review"][0]]
    env, recorder, _, _ = example_flow(tmp_path, ScriptedProvider(replies))
    result = await run_flow(env, example_task(env), approve=True)
    assert len(recorder.records) == 5
    assert result.message.startswith("stop rule")


async def test_second_round_over_budget_is_recorded_and_not_run(tmp_path: Path) -> None:
    settings = priced_settings()
    budgets = settings.budgets.model_copy(
        update={"feature": Budget(max_tokens=14_000, max_usd=Decimal(1))}
    )
    settings = settings.model_copy(update={"budgets": budgets})
    usage = Usage(input_tokens=3000, output_tokens=500)
    env, recorder, provider, _messages = example_flow(
        tmp_path, ScriptedProvider(_replies(), usage), settings=settings
    )
    result = await run_flow(env, example_task(env), approve=True)
    assert [r.outcome for r in recorder.records] == ["ok", "ok", "ok", "over_budget"]
    refused = recorder.records[-1]
    assert refused.step == "draft" and refused.attempt_of_step == 2
    assert refused.estimate is not None and refused.usage.total_tokens == 0
    assert result.status == "stopped"
    assert "would go over budget" in result.message and "exceeds the feature budget" in (
        result.message
    )
    assert len(provider.requests) == 3


async def test_without_approval_the_flow_stops_after_the_plan(tmp_path: Path) -> None:
    env, _recorder, _, _ = example_flow(tmp_path, ScriptedProvider(_replies()))
    task_id = example_task(env)
    result = await run_flow(env, task_id, approve=False)
    assert [s.step for s in result.steps] == ["plan"]
    assert result.status == "planned"
    assert (env.store.task_dir(task_id) / "plan.md").is_file()


async def test_the_users_edits_to_plan_md_reach_the_drafter(tmp_path: Path) -> None:
    env, _, provider, _ = example_flow(tmp_path, ScriptedProvider(_replies()))
    task_id = example_task(env)
    await run_flow(env, task_id, approve=False)
    document = env.store.plan_document(task_id)
    document.write_text(
        document.read_text().replace("## Risks\n\n", "## Risks\n\n- keep the 200 status\n")
    )
    plan = approve_plan(env.store, task_id)
    assert plan.edited_by_user and "keep the 200 status" in plan.reply.risks
    await run_flow(env, task_id, approve=False)
    assert "keep the 200 status" in provider.requests[1].user


async def test_invalid_reply_saves_the_raw_text_and_the_retry_resumes(tmp_path: Path) -> None:
    replies = _replies()
    failure = ProviderFailure(
        "invalid_reply", "did not fit DraftReply", "scripted", "scripted-model",
        attempts=2, raw_text="{not json",
    )  # fmt: skip
    replies["draft"] = [failure, *replies["draft"]]
    env, recorder, _provider, _ = example_flow(tmp_path, ScriptedProvider(replies))
    task_id = example_task(env)
    first = await run_flow(env, task_id, approve=True)
    assert first.status == "failed" and "the task resumes here" in first.message
    raw = env.store.task_dir(task_id) / "raw-draft-1.txt"
    assert raw.read_text() == "{not json"
    assert recorder.records[-1].outcome == "failed"
    second = await run_flow(env, task_id, approve=True)
    assert second.status == "done"
    assert [r.step for r in recorder.records].count("plan") == 1  # resumed, not replanned


async def test_cancellation_records_a_cancelled_step(tmp_path: Path) -> None:
    replies = _replies()
    replies["review"] = [CANCEL]
    env, recorder, _, _ = example_flow(tmp_path, ScriptedProvider(replies))
    task_id = example_task(env)
    with pytest.raises(asyncio.CancelledError):
        await run_flow(env, task_id, approve=True)
    assert recorder.records[-1].outcome == "cancelled"
    assert env.store.load_state(task_id).status == "stopped"
    # recorded with what was known when it stopped: the prompt and the text received, counted
    assert recorder.records[-1].usage == Usage(
        input_tokens=100, output_tokens=count_tokens(PARTIAL_REPLY), counted=True
    )
    assert env.store.load_state(task_id).steps[-1].tokens_counted


async def test_scope_drift_is_refused_and_reported(tmp_path: Path) -> None:
    replies = _replies()
    drift = {
        "kind": "replace_unit",
        "target": "app/permissions.py::can_view_project",
        "code": "def can_view_project(user, project):\n    return True\n",
        "reason": "x",
    }
    replies["draft"][0]["edits"].append(drift)
    replies["review"] = [replies["review"][1]]
    env, _, provider, _ = example_flow(tmp_path, ScriptedProvider(replies))
    result = await run_flow(env, example_task(env), approve=True)
    assert result.draft is not None
    assert result.draft.rejected[0].scope_drift
    assert "permissions" not in result.draft.diff
    assert "can_view_project" in provider.requests[2].user  # the reviewer is told
    document = run_json(result)
    assert any(f["category"] == "scope-drift" and f["source"] == "tandem"
               for f in document["findings"])  # fmt: skip


async def test_trivial_low_risk_review_is_skipped(tmp_path: Path) -> None:
    replies = _replies()
    replies["plan"][0]["scope"] = {
        "units": ["app/handlers.py::get_projects"],
        "files": ["app/handlers.py"],
        "out_of_scope": [],
    }
    replies["draft"][0]["edits"] = [replies["draft"][0]["edits"][1]]
    settings = priced_settings(trivial_max_lines=50)
    env, recorder, _, _ = example_flow(tmp_path, ScriptedProvider(replies), settings=settings)
    task = create_task(env, REQUEST, example_anchor(), example_slice(env.repo))
    task = task.model_copy(update={"risk_tier": "low"})
    env.store.save_task(task)
    result = await run_flow(env, task.task_id, approve=True)
    assert [(s.step, s.outcome) for s in result.steps] == [
        ("plan", "ok"), ("draft", "ok"), ("review", "skipped")
    ]  # fmt: skip
    assert len(recorder.records) == 2
    assert result.status == "done"


async def test_risk_is_raised_to_that_of_the_plans_scope(tmp_path: Path) -> None:
    env, recorder, _, _ = example_flow(tmp_path, ScriptedProvider(_replies()))
    task = create_task(env, REQUEST, example_anchor(), example_slice(env.repo))
    env.store.save_task(task.model_copy(update={"risk_tier": "low", "risk_reasons": []}))
    await run_flow(env, task.task_id, approve=True)
    raised = env.store.load_task(task.task_id)
    assert raised.risk_tier == "medium"
    assert "plan scope: SQL statement at app/queries.py:9" in raised.risk_reasons
    assert recorder.records[2].alias == "strong"  # the review follows the raised tier


async def test_apply_writes_the_final_edits(tmp_path: Path) -> None:
    env, _, _, _ = example_flow(tmp_path, ScriptedProvider(_replies()))
    task_id = example_task(env)
    await run_flow(env, task_id, approve=True)
    written = apply_task_edits(env, task_id)
    assert written == ["app/handlers.py", "app/queries.py", "tests/test_handlers.py"]
    assert "archived must be true or false" in (env.repo / "app/handlers.py").read_text()


async def test_run_json_has_the_documented_shape(tmp_path: Path) -> None:
    env, _, _, _ = example_flow(tmp_path, ScriptedProvider(_replies()))
    result = await run_flow(env, example_task(env), approve=True)
    document = run_json(result)
    assert set(document) >= {"task_id", "steps", "edits", "findings"}
    assert set(document["steps"][0]) >= {
        "step", "model", "provider", "input_tokens", "output_tokens", "cost_usd", "outcome"
    }  # fmt: skip
    assert Decimal(document["steps"][0]["cost_usd"]) == Decimal("0.006")  # 1000 in, 200 out
    assert document["fake_provider"] is True


def test_a_task_folder_from_another_schema_version_is_refused(tmp_path: Path) -> None:
    from tandem.flow.taskstore import TaskStoreError

    env, _, _, _ = example_flow(tmp_path, ScriptedProvider(_replies()))
    task_id = example_task(env)
    path = env.store.task_dir(task_id) / "task.json"
    path.write_text(path.read_text().replace('"schema_version": 1', '"schema_version": 99'))
    with pytest.raises(TaskStoreError, match="handoff schema version 99"):
        env.store.load_task(task_id)


async def test_every_provider_call_is_recorded_with_its_estimate_and_prompt_version(
    tmp_path: Path,
) -> None:
    env, recorder, provider, messages = example_flow(tmp_path, ScriptedProvider(_replies()))
    await run_flow(env, example_task(env), approve=True)
    assert len(recorder.records) == len(provider.requests) == 5
    for record, request in zip(recorder.records, provider.requests, strict=True):
        assert record.step == request.step
        assert record.estimate is not None and record.estimate.input_tokens > 0
        assert len(record.prompt_version) == 12
    assert any(m.startswith("review (round 1) on strong") for m in messages)
