"""The flow with the new edit kinds: a bad patch writes nothing; renames and deletes reach disk."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from flow_doubles import ScriptedProvider, example_flow, example_replies, example_task

from tandem.commands.flow_output import written_lines
from tandem.flow.apply import ApplyError, apply_task_edits
from tandem.flow.run import run_flow


def _replies(edits: list[dict[str, Any]], files: list[str] | None = None) -> dict[str, Any]:
    replies = copy.deepcopy(example_replies())
    if files is not None:
        replies["plan"][0]["scope"]["files"] = files
    replies["draft"][0]["edits"] = edits
    replies["review"] = [replies["review"][1]]
    return replies


def _patch(target: str, old: str, new: str) -> dict[str, Any]:
    return {"kind": "patch", "target": target, "old": old, "new": new, "reason": "step 1"}


async def test_an_absent_or_ambiguous_patch_changes_nothing_on_disk(tmp_path: Path) -> None:
    edits = [
        _patch("app/queries.py::list_projects", "archived = 1", "archived = 2"),  # absent
        _patch("app/queries.py", "    return ", "    return None  # "),  # present twice
    ]
    env, _, _, _ = example_flow(tmp_path, ScriptedProvider(_replies(edits)))
    before = {p: p.read_bytes() for p in (env.repo / "app").iterdir() if p.is_file()}
    task_id = example_task(env)
    result = await run_flow(env, task_id, approve=True)
    assert result.status == "needs_attention" and result.draft is not None
    reasons = [r.reason for r in result.draft.rejected]
    assert reasons[0] == "old does not occur in app/queries.py::list_projects (0 occurrences)"
    assert reasons[1].startswith("old occurs 2 times in app/queries.py")
    assert apply_task_edits(env, task_id) == []
    assert {p: p.read_bytes() for p in (env.repo / "app").iterdir() if p.is_file()} == before


async def test_patch_rename_and_delete_are_applied_by_tandem_run_apply(tmp_path: Path) -> None:
    files = ["app/queries.py", "app/handlers.py", "app/db.py", "app/store.py", "README.md"]
    edits = [
        _patch("app/queries.py::list_projects", "ORDER BY id DESC", "ORDER BY id ASC"),
        {
            "kind": "rename_file",
            "target": "app/db.py",
            "old": None,
            "new": "app/store.py",
            "reason": "step 2",
        },
        {"kind": "delete_file", "target": "README.md", "old": None, "new": "", "reason": "s3"},
    ]
    env, _, _, _ = example_flow(tmp_path, ScriptedProvider(_replies(edits, files)))
    (env.repo / "README.md").write_text("# Projects\n")
    db = (env.repo / "app/db.py").read_bytes()
    task_id = example_task(env)
    result = await run_flow(env, task_id, approve=True)
    assert result.draft is not None and result.draft.rejected == []
    assert "rename from app/db.py" in result.draft.diff
    written = apply_task_edits(env, task_id)
    assert written == ["app/queries.py", "app/store.py", "README.md", "app/db.py"]
    assert written_lines(written, result.draft) == [
        "wrote app/queries.py",
        "deleted README.md",
        "renamed app/db.py -> app/store.py",
    ]
    assert not (env.repo / "app/db.py").exists() and not (env.repo / "README.md").exists()
    assert (env.repo / "app/store.py").read_bytes() == db
    assert "ORDER BY id ASC" in (env.repo / "app/queries.py").read_text()


async def test_insertions_reach_disk_through_tandem_run_apply_and_a_bad_one_writes_nothing(
    tmp_path: Path,
) -> None:
    def insert(kind: str, old: str, new: str) -> dict[str, Any]:
        return {"kind": kind, "target": "app/queries.py", "old": old, "new": new, "reason": ""}

    good = [
        insert("insert_after", "import sqlite3\n", "import logging\n"),
        insert("insert_before", "ORDER BY id DESC", "LIMIT 100 "),
    ]
    env, _, _, _ = example_flow(tmp_path, ScriptedProvider(_replies(good)))
    before = (env.repo / "app/queries.py").read_text()
    task_id = example_task(env)
    result = await run_flow(env, task_id, approve=True)
    assert result.draft is not None and result.draft.rejected == []
    assert "+import logging\n" in result.draft.diff
    assert apply_task_edits(env, task_id) == ["app/queries.py"]
    expected = before.replace("sqlite3\n", "sqlite3\nimport logging\n")
    assert (env.repo / "app/queries.py").read_text() == expected.replace("ORDER", "LIMIT 100 ORDER")

    bad = [insert("insert_after", "    ", "# twice"), insert("insert_before", "absent", "x")]
    env, _, _, _ = example_flow(tmp_path / "bad", ScriptedProvider(_replies(bad)))
    task_id = example_task(env)
    result = await run_flow(env, task_id, approve=True)
    assert result.status == "needs_attention" and result.draft is not None
    assert result.draft.rejected[0].reason.startswith("old occurs ")
    assert "(0 occurrences)" in result.draft.rejected[1].reason
    assert apply_task_edits(env, task_id) == []
    assert (env.repo / "app/queries.py").read_text() == before


async def test_a_file_that_appeared_where_the_draft_creates_one_is_not_overwritten(
    tmp_path: Path,
) -> None:
    files = ["app/db.py", "app/store.py"]
    rename = {"kind": "rename_file", "target": "app/db.py", "new": "app/store.py", "reason": "r"}
    rename["old"] = None
    env, _, _, _ = example_flow(tmp_path, ScriptedProvider(_replies([rename], files)))
    task_id = example_task(env)
    await run_flow(env, task_id, approve=True)
    (env.repo / "app/store.py").write_text("mine = True\n")
    with pytest.raises(
        ApplyError, match=r"changed since the draft, not overwritten: app/store\.py"
    ):
        apply_task_edits(env, task_id)
    assert (env.repo / "app/store.py").read_text() == "mine = True\n"
    assert (env.repo / "app/db.py").exists()
