"""Outcomes from the editor over a real ``tandem serve`` session: a draft applied or discarded
decides the task and asks for a rating once; ratings, defects, quick fixes and the user's own
edits of flagged lines reach the ledger."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import test_flow_over_lsp as over_lsp
from pygls.exceptions import JsonRpcException
from test_flow_over_lsp import HANDLER, Session, diagnostics_of, draft_and_review, plan

# The flow tests' fixtures: a real server on a scratch copy of the example, in both profiles.
client = over_lsp.client
project = over_lsp.project
session = over_lsp.session


def rows(root: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(root / ".tandem" / "ledger.sqlite") as db:
        return list(db.execute(sql))


async def test_an_applied_draft_is_accepted_asks_for_a_rating_once_and_takes_it(
    session: Session,
) -> None:
    planned = await plan(session)
    task_id = planned["task_id"]
    drafted = await session.command("tandem.draft", {"task_id": task_id})
    assert drafted["applied"] is True and drafted["ask_rating"] is True
    again = await session.command("tandem.reapplyDraft", {"task_id": task_id})
    assert again["ask_rating"] is False  # never asked twice
    decisions = rows(session.project, "SELECT decision FROM task_events WHERE decision IS NOT NULL")
    assert decisions == [("accepted",), ("accepted",)]
    rated = await session.command(
        "tandem.rateTask", {"task_id": task_id, "rating": 4, "cleanup_minutes": 5}
    )
    assert rated == {"task_id": task_id, "rating": 4, "cleanup_minutes": 5}
    assert rows(session.project, "SELECT rating FROM task_events WHERE rating IS NOT NULL") == [
        (4,)
    ]
    assert rows(session.project, "SELECT cleanup_minutes FROM task_notes") == [(5.0,)]
    for bad in ({"task_id": task_id, "rating": 6}, {"task_id": task_id, "rating": 0}):
        with pytest.raises(JsonRpcException, match="rating"):
            await session.command("tandem.rateTask", bad)
    with pytest.raises(JsonRpcException, match="no task"):
        await session.command("tandem.rateTask", {"task_id": "20990101-nobody", "rating": 3})


async def test_a_discarded_draft_is_rejected_and_asks_for_a_rating(session: Session) -> None:
    planned = await plan(session)
    session.answer_apply = False  # the user discards the refactor preview
    drafted = await session.command("tandem.draft", {"task_id": planned["task_id"]})
    assert drafted["applied"] is False and drafted["ask_rating"] is True
    assert rows(session.project, "SELECT decision FROM task_events WHERE decision IS NOT NULL") == [
        ("rejected",)
    ]


async def test_a_defect_is_tied_to_its_task_and_an_unknown_task_is_refused(
    session: Session,
) -> None:
    planned = await plan(session)
    recorded = await session.command(
        "tandem.recordDefect",
        {"task_id": planned["task_id"], "note": "500 on archived=1", "severity": "critical"},
    )
    assert recorded["severity"] == "critical" and recorded["route"][0]["step"] == "plan"
    with pytest.raises(JsonRpcException, match="no task '20990101-nobody'"):
        await session.command("tandem.recordDefect", {"task_id": "20990101-nobody", "note": "x"})
    with pytest.raises(JsonRpcException, match="severity"):
        await session.command(
            "tandem.recordDefect", {"task_id": planned["task_id"], "note": "x", "severity": "huge"}
        )
    assert rows(session.project, "SELECT task_id, severity FROM defects") == [
        (planned["task_id"], "critical")
    ]


async def test_a_quick_fix_and_an_edit_of_a_flagged_line_are_catches(session: Session) -> None:
    planned = await draft_and_review(session)
    uri = session.open(HANDLER)
    [finding] = await diagnostics_of(session, uri, 1)
    actions = await session.actions(uri, 13, 13, diagnostics=[finding])
    todo = next(a for a in actions if a["title"].startswith("Add TODO:"))
    command = todo["command"]
    assert command["command"] == "tandem.findingActed"
    assert command["arguments"] == [
        {"task_id": planned["task_id"], "round": 1, "index": 0, "path": HANDLER, "line": 13}
    ]
    # The client applies the edit, then runs the command.
    session.type_text(uri, 13, "    # TODO(tandem): reject other values\n")
    acted = await session.command(command["command"], command["arguments"][0])
    assert acted == {"task_id": planned["task_id"], "settled": 1}
    settled = rows(
        session.project,
        "SELECT finding_index, outcome, outcome_via FROM findings WHERE outcome IS NOT NULL",
    )
    assert settled == [(0, "catch", "quick_fix")]
    # The user edits the line the test-gap finding on the test file points at (line 1).
    tests_uri = session.open("tests/test_handlers.py")
    await diagnostics_of(session, tests_uri, 1)
    session.type_text(tests_uri, 0, "")  # nothing changed: the finding stays
    session.client.text_document_did_change(_edit_first_line(session, tests_uri))
    await diagnostics_of(session, tests_uri, 0)
    for _ in range(100):
        via = rows(session.project, "SELECT outcome_via FROM findings WHERE finding_index = 1")
        if via == [("user_edit",)]:
            break
        await asyncio.sleep(0.05)
    assert via == [("user_edit",)]
    review_changes = rows(
        session.project,
        "SELECT changed_code, changed_tests FROM step_changes WHERE step = 'review' ORDER BY id",
    )
    assert (1, 0) in review_changes and (0, 1) in review_changes


def _edit_first_line(state: Session, uri: str) -> Any:
    from lsprotocol import types

    state.versions[uri] += 1
    return types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=state.versions[uri]),
        content_changes=[
            types.TextDocumentContentChangePartial(
                range=types.Range(
                    start=types.Position(line=0, character=0),
                    end=types.Position(line=0, character=0),
                ),
                text="x",
            )
        ],
    )
