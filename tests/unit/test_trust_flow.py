"""Trust in the flow: prompts leave redacted and the count (never the secret) reaches the
estimate, the ledger and the report; a draft never writes a placeholder back into the code."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flow_doubles import (
    REQUEST,
    ExampleFlow,
    ScriptedProvider,
    example_flow,
    example_replies,
    example_repo,
    example_task,
)

from factories import step_record
from tandem.cli import main
from tandem.commands.flow_output import run_json
from tandem.flow.apply import apply_task_edits
from tandem.flow.run import run_flow
from tandem.ledger.sqlite import SqliteLedger
from tandem.reports.render import render_json
from tandem.reports.scorecards import build_report
from tandem.values import StepRecord, Usage

TOKEN = "ghp_" + "Zq8vT2mX5kL9pR3wY7nB4cD1fG6hJ0sA2eU5"
PLANTED_LINE = f'    upstream_token = "{TOKEN}"  # the mirror\'s read token\n'


def _plant(repo: Path) -> None:
    """Replace the docstring of get_projects (line 13) with a hard-coded token: same lines."""
    handlers = repo / "app" / "handlers.py"
    lines = handlers.read_text().splitlines(keepends=True)
    assert lines[12].lstrip().startswith('"""GET /projects')
    lines[12] = PLANTED_LINE
    handlers.write_text("".join(lines))


def _planted_flow(tmp_path: Path, replies: dict[str, list[Any]]) -> ExampleFlow:
    """The example flow with a hard-coded token planted in the handler the task touches."""
    flow = example_flow(tmp_path, ScriptedProvider(replies))
    _plant(flow.env.repo)
    return flow


def _clean_review_replies() -> dict[str, list[Any]]:
    replies = copy.deepcopy(example_replies())
    replies["review"] = [replies["review"][1]]
    return replies


async def test_every_prompt_leaves_redacted_and_each_step_records_the_count(
    tmp_path: Path,
) -> None:
    env, recorder, provider, messages = _planted_flow(tmp_path, _clean_review_replies())
    task_id = example_task(env)
    result = await run_flow(env, task_id, approve=True)
    assert result.status == "done"
    assert len(provider.requests) == 3
    for request in provider.requests:
        assert TOKEN not in request.system and TOKEN not in request.user
    assert "<<REDACTED:github-token:1>>" in provider.requests[0].user
    assert all(record.redactions.get("github-token", 0) >= 1 for record in recorder.records)
    assert all(step["redactions"] >= 1 for step in run_json(result)["steps"])
    assert any("secrets replaced by placeholders" in message for message in messages)
    assert all(TOKEN not in message for message in messages)


async def test_the_estimate_recorded_with_a_step_counts_the_redacted_prompt(
    tmp_path: Path,
) -> None:
    env, recorder, provider, _ = _planted_flow(tmp_path, _clean_review_replies())
    task_id = example_task(env)
    await run_flow(env, task_id, approve=True)
    from tandem.cost.estimate import estimate_step
    from tandem.flow.handoff import PlanReply

    plan = recorder.records[0]
    request = provider.requests[0]
    expected = estimate_step(
        "plan",
        plan.alias,
        env.settings.models[plan.alias],
        system=request.system,
        user=request.user,
        output_schema=PlanReply.model_json_schema(),
    )
    assert plan.estimate is not None
    assert plan.estimate.input_tokens == expected.input_tokens


async def test_a_draft_that_writes_a_placeholder_back_is_refused_and_the_secret_stays(
    tmp_path: Path,
) -> None:
    replies = _clean_review_replies()
    handler_edit = replies["draft"][0]["edits"][1]
    assert handler_edit["target"] == "app/handlers.py::get_projects"
    handler_edit["code"] = handler_edit["code"].replace(
        '    archived = params.get("archived") == "true"\n',
        '    upstream_token = "<<REDACTED:github-token:1>>"\n'
        '    archived = params.get("archived") == "true"\n',
    )
    env, _, _, _ = _planted_flow(tmp_path, replies)
    task_id = example_task(env)
    result = await run_flow(env, task_id, approve=True)
    assert result.draft is not None
    (refused,) = result.draft.rejected
    assert refused.target == "app/handlers.py::get_projects"
    assert "<<REDACTED:github-token:1>>" in refused.reason
    assert "REDACTED" not in result.draft.diff
    finding = run_json(result)["findings"][-1]
    assert finding["source"] == "tandem" and "placeholder" in finding["message"]
    apply_task_edits(env, task_id)
    handlers = (env.repo / "app" / "handlers.py").read_text()
    assert TOKEN in handlers and "REDACTED" not in handlers


def test_tandem_estimate_shows_the_redaction_count_never_the_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = example_repo(tmp_path)
    _plant(repo)
    source = ["--repo", str(repo), "--file", "app/handlers.py", "--lines", "10-14"]
    assert main(["estimate", *source, "--request", REQUEST, "--json"]) == 0
    output = capsys.readouterr().out
    assert TOKEN not in output
    document = json.loads(output)
    assert document["redactions"]["count"] == 1
    assert document["redactions"]["by_step"]["plan"] == {"github-token": 1}
    by_step = {step["step"]: step["redactions"] for step in document["steps"]}
    # The review prompt carries the diff and tests, not the handler that holds the token.
    assert by_step == {"plan": 1, "draft": 1, "review": 0}
    assert main(["estimate", *source, "--request", REQUEST]) == 0
    text = capsys.readouterr().out
    assert "redacted before sending: 1 secrets per prompt (github-token)" in text
    assert TOKEN not in text


def test_tandem_estimate_says_when_nothing_is_redacted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = example_repo(tmp_path)
    source = ["--repo", str(repo), "--file", "app/handlers.py", "--lines", "10-14"]
    assert main(["estimate", *source, "--request", REQUEST, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["redactions"]["count"] == 0


def _record(task_id: str, redactions: dict[str, int]) -> StepRecord:
    from datetime import UTC, datetime

    return step_record(
        task_id,
        step="plan",
        provider="openai",
        model="test-strong",
        usage=Usage(input_tokens=100, output_tokens=10),
        cost=Decimal("0.001"),
        started_at=datetime(2026, 11, 30, 8, 0, tzinfo=UTC),
        redactions=redactions,
    )


def test_the_report_counts_redactions_per_task_step_and_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ledger.sqlite"
    with SqliteLedger(path) as ledger:
        ledger.record_step(_record("t1", {"password": 2, "jwt": 1}))
        ledger.record_step(_record("t1", {"password": 2}))
        ledger.record_step(_record("t2", {}))
        totals = ledger.report_totals()
    document = json.loads(render_json(build_report(totals, {})))
    tasks = {row["task"]: row for row in document["tables"]["tasks"]}
    assert tasks["t1"]["redactions"] == 5 and tasks["t2"]["redactions"] == 0
    assert document["tables"]["steps"][0]["redactions"] == 5
    assert main(["report", "--ledger", str(path), "--format", "json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert {row["task"]: row["redactions"] for row in cli["tables"]["tasks"]} == {
        "t1": 5,
        "t2": 0,
    }


def test_tandem_run_prints_how_many_secrets_each_step_had_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from flow_doubles import FAKE_REPLIES

    repo = example_repo(tmp_path)
    _plant(repo)
    replies = json.loads(FAKE_REPLIES.read_text())
    replies["review"] = [replies["review"][1]]
    canned = tmp_path / "replies.json"
    canned.write_text(json.dumps(replies))
    args = ["run", "--repo", str(repo), "--file", "app/handlers.py", "--lines", "10-14"]
    assert main([*args, "--request", REQUEST, "--fake-replies", str(canned), "--yes"]) == 0
    captured = capsys.readouterr()
    assert "plan 1: ok on" in captured.out and ", 1 secrets redacted" in captured.out
    assert "secrets replaced by placeholders before sending: 1 (github-token 1)" in captured.err
    assert TOKEN not in captured.err  # (the local diff on stdout shows the file as it is)
