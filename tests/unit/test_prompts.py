"""Prompts: loaded from prompts/, versioned by content hash, fully rendered."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from flow_doubles import REQUEST, example_anchor, example_replies, example_repo, example_slice

from tandem.config import Settings
from tandem.flow.edits import take_snapshot
from tandem.flow.handoff import Draft, DraftReply, PlanReply, Task
from tandem.flow.inputs import draft_values, plan_values, review_values
from tandem.flow.prompts import PromptError, load_prompt, prompts_dir, render
from tandem.slicing import slice_repository
from tandem.slicing.result import FileRangeAnchor


def test_prompt_version_is_the_short_sha256_of_the_file() -> None:
    for name in ("plan", "draft", "review"):
        content = (prompts_dir() / f"{name}.md").read_bytes()
        assert load_prompt(name).version == hashlib.sha256(content).hexdigest()[:12]


def test_changing_a_prompt_changes_its_version(tmp_path: Path) -> None:
    original = (prompts_dir() / "plan.md").read_text()
    (tmp_path / "plan.md").write_text(original + "\nBe brief.\n")
    assert load_prompt("plan", tmp_path).version != load_prompt("plan").version


def test_an_unfilled_placeholder_is_an_error() -> None:
    with pytest.raises(PromptError, match="no value for"):
        render(load_prompt("plan"), {"request": "x"})


def _task(repo: Path) -> Task:
    return Task(task_id="t1", request=REQUEST, anchor=example_anchor(), task_type="feature",
                risk_tier="medium", risk_reasons=["SQL statement at app/queries.py:9"],
                repo=str(repo))  # fmt: skip


def test_plan_prompt_carries_request_risk_units_and_slice(tmp_path: Path) -> None:
    repo = example_repo(tmp_path)
    prompt = render(load_prompt("plan"), plan_values(_task(repo), example_slice(repo)))
    assert REQUEST in prompt.user
    assert "SQL statement at app/queries.py:9" in prompt.user
    assert "app/queries.py::list_projects (function, lines 6-13)" in prompt.user
    assert "{{" not in prompt.system + prompt.user


def test_plan_prompt_names_callees_and_tests_once_and_shows_their_details_once(
    tmp_path: Path,
) -> None:
    repo = example_repo(tmp_path)
    anchor = FileRangeAnchor(path="app/handlers.py", start_line=5, end_line=22)
    context = slice_repository(repo, anchor, Settings())
    prompt = render(load_prompt("plan"), plan_values(_task(repo), context))
    assert context.callees and context.tests
    for callee in context.callees:
        assert f"{callee.path}::{callee.name} (called)" in prompt.user
        assert prompt.user.count(callee.signature) == 1
    for test in context.tests:
        assert f"- {test.path}::{test.name}" in prompt.user
        assert prompt.user.count(test.reason) == 1  # in the list or in the slice, not both


def test_plan_prompt_names_a_reason_the_slice_text_does_not_show(tmp_path: Path) -> None:
    repo = example_repo(tmp_path)
    context = example_slice(repo)  # its text shows the test's code, not why it is related
    prompt = render(load_prompt("plan"), plan_values(_task(repo), context))
    test = context.tests[0]
    assert f"- {test.path}::{test.name} ({test.reason})" in prompt.user


def test_draft_prompt_shows_scoped_units_not_whole_files(tmp_path: Path) -> None:
    repo = example_repo(tmp_path)
    plan = PlanReply.model_validate(example_replies()["plan"][0])
    files = ["app/handlers.py", "app/queries.py", "tests/test_handlers.py"]
    values = draft_values(plan, take_snapshot(repo, files), example_slice(repo))
    prompt = render(load_prompt("draft"), values)
    assert "def list_projects(" in prompt.user
    assert "def get_project(" not in prompt.user  # an unscoped unit of a scoped file
    assert "existing units: make_db" in prompt.user  # the test file: header and names only


def test_reviewer_sees_diff_plan_and_tests_never_whole_files(tmp_path: Path) -> None:
    repo = example_repo(tmp_path)
    plan = PlanReply.model_validate(example_replies()["plan"][0])
    draft = Draft(reply=DraftReply(edits=[], notes=["n"]), diff="--- a/x\n+++ b/x\n+new\n")
    files = ["app/handlers.py", "app/queries.py", "tests/test_handlers.py"]
    values = review_values(plan, draft, example_slice(repo), take_snapshot(repo, files))
    prompt = render(load_prompt("review"), values)
    assert "+new" in prompt.user and plan.summary in prompt.user
    assert "def test_get_projects_returns_only_active_projects" in prompt.user
    assert "def get_project(" not in prompt.user
    assert "def make_db" not in prompt.user
    assert "findings, not replacement code" in prompt.system


def test_draft_prompt_does_not_repeat_the_scoped_units(tmp_path: Path) -> None:
    repo = example_repo(tmp_path)
    plan = PlanReply.model_validate(example_replies()["plan"][0])
    files = ["app/handlers.py", "app/queries.py", "tests/test_handlers.py"]
    values = draft_values(plan, take_snapshot(repo, files), example_slice(repo))
    prompt = render(load_prompt("draft"), values)
    assert prompt.user.count("def get_projects(") == 1
    assert "def test_get_projects_returns_only_active_projects" in prompt.user


def test_the_drafter_is_taught_patch_for_small_changes_and_replace_unit_for_large() -> None:
    system = load_prompt("draft").system
    assert "patch: target is a unit id or a file path" in system
    assert "small next to its unit" in system and "when most of the unit changes" in system
    schema = str(DraftReply.model_json_schema())
    for kind in ("patch", "insert_after", "insert_before", "delete_unit", "rename_file"):
        assert kind in schema and kind in system


def test_the_planner_may_scope_files_to_rename_delete_or_patch_config_and_docs() -> None:
    assert "rename (old and new path) or delete" in load_prompt("plan").system
    assert "config, docs and migrations" in str(PlanReply.model_json_schema())


def test_scoped_files_tandem_does_not_slice_are_shown_so_they_can_be_patched(
    tmp_path: Path,
) -> None:
    repo = example_repo(tmp_path)
    (repo / "config.yaml").write_text("debug: false\nport: 8080\n")
    (repo / "CHANGES.md").write_text("".join(f"- change {n}\n" for n in range(400)))
    (repo / "logo.png").write_bytes(b"\x89PNG\x00")
    plan = PlanReply.model_validate(example_replies()["plan"][0])
    plan.scope.files += ["config.yaml", "CHANGES.md", "logo.png"]
    files = [*plan.scope.files, "tests/test_handlers.py"]
    values = draft_values(plan, take_snapshot(repo, files), example_slice(repo))
    assert "### config.yaml (whole file)\n```\ndebug: false\nport: 8080\n```" in values["units"]
    assert "CHANGES.md (first 60 lines; 340 more not shown)" in values["units"]
    assert "- change 59\n" in values["units"] and "- change 60\n" not in values["units"]
    assert "### logo.png\n(a binary file: not shown, and not editable)" in values["units"]
