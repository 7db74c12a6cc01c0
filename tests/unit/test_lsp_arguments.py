"""Every Tandem command's argument is validated before its handler runs: a bad one is an
InvalidParams (-32602) whose message names the command and the argument."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel
from pygls.exceptions import JsonRpcInvalidParams

from tandem.flow.taskstore import TaskStore, TaskStoreError, is_task_id
from tandem.lsp.arguments import (
    MAX_REQUEST_CHARS,
    MAX_UINTEGER,
    MAX_URI_CHARS,
    EstimateArgs,
    PlanArgs,
    RequiredTaskArgs,
    ReviewArgs,
    ShowReportArgs,
    StatusArgs,
    TaskArgs,
    parse_argument,
)

URI = "file:///repo/app/handlers.py"
CURSOR = {"start": {"line": 3, "character": 0}, "end": {"line": 3, "character": 0}}


def refusal(model: type[BaseModel], *args: Any) -> str:
    with pytest.raises(JsonRpcInvalidParams) as raised:
        parse_argument("tandem.test", args, model)
    assert raised.value.code == -32602
    message: str = raised.value.message
    assert message.startswith("tandem.test")
    return message


# (case, model, argument, the field the message must name, a phrase the message must hold)
BAD_ARGUMENTS: list[tuple[str, type[BaseModel], Any, str, str]] = [
    ("NUL in a task id", TaskArgs, {"task_id": "20261130-a\x00b"}, "task_id", "not a task id"),
    ("NUL in a uri", PlanArgs, {"uri": URI + "\x00.py"}, "uri", "NUL"),
    ("percent-encoded NUL in a uri", EstimateArgs, {"uri": "file:///a%00b.py"}, "uri", "NUL"),
    ("NUL in a request", PlanArgs, {"uri": URI, "request": "fix\x00it"}, "request", "NUL"),
    (
        "NUL in a git base",
        ReviewArgs,
        {"working_tree": True, "base": "HEAD\x00"},
        "base",
        "NUL",
    ),
    ("NUL in a report's uri", ShowReportArgs, {"uri": "file:///w\x00"}, "uri", "NUL"),
    ("a number for a task id", RequiredTaskArgs, {"task_id": 7}, "task_id", "valid string"),
    ("a missing task id", RequiredTaskArgs, {}, "task_id", "required"),
    ("a path for a task id", RequiredTaskArgs, {"task_id": "../../etc"}, "task_id", "task id"),
    ("a newline after a task id", RequiredTaskArgs, {"task_id": "abc\n"}, "task_id", "task id"),
    ("a huge task id", RequiredTaskArgs, {"task_id": "t" * 100_000}, "task_id", "task id"),
    ("a huge uri", PlanArgs, {"uri": "file:///" + "u" * MAX_URI_CHARS}, "uri", "at most"),
    (
        "a huge request",
        PlanArgs,
        {"uri": URI, "request": "r" * (MAX_REQUEST_CHARS + 1)},
        "request",
        "at most",
    ),
    ("an empty uri", EstimateArgs, {"uri": ""}, "uri", "at least"),
    ("a number for a request", EstimateArgs, {"uri": URI, "request": 5}, "request", "string"),
    ("a string for a boolean", ReviewArgs, {"working_tree": "yes"}, "working_tree", "boolean"),
    (
        "a negative line",
        PlanArgs,
        {"uri": URI, "range": {"start": {"line": -1, "character": 0}, "end": CURSOR["end"]}},
        "range.start.line",
        "greater than or equal to 0",
    ),
    (
        "a line beyond LSP's integers",
        EstimateArgs,
        {"uri": URI, "range": {"start": CURSOR["start"], "end": {"line": 10**30, "character": 0}}},
        "range.end.line",
        str(MAX_UINTEGER),
    ),
    (
        "a fractional character",
        PlanArgs,
        {"uri": URI, "range": {"start": {"line": 1, "character": 0.5}, "end": CURSOR["end"]}},
        "range.start.character",
        "integer",
    ),
    ("a range that is a list", EstimateArgs, {"uri": URI, "range": [1, 2]}, "range", "dictionary"),
]


@pytest.mark.parametrize(
    ("model", "argument", "field", "phrase"),
    [case[1:] for case in BAD_ARGUMENTS],
    ids=[case[0] for case in BAD_ARGUMENTS],
)
def test_a_bad_argument_is_invalid_params_naming_the_field(
    model: type[BaseModel], argument: Any, field: str, phrase: str
) -> None:
    message = refusal(model, argument)
    assert f"{field}: " in message
    assert phrase in message


def test_a_refusal_never_echoes_a_huge_value() -> None:
    assert len(refusal(PlanArgs, {"uri": URI, "request": "r" * 10**6})) < 300


def test_a_review_needs_exactly_one_subject() -> None:
    assert "exactly one of" in refusal(ReviewArgs, {"uri": URI, "task_id": "t1"})
    assert "exactly one of" in refusal(ReviewArgs, {})


@pytest.mark.parametrize("args", [("x",), ({}, {}), (5,), ([{}],)])
def test_anything_but_one_object_is_refused(args: tuple[Any, ...]) -> None:
    assert "exactly one argument, a JSON object" in refusal(StatusArgs, *args)


@pytest.mark.parametrize("args", [(), (None,), ({},)])
def test_no_argument_is_the_empty_object(args: tuple[Any, ...]) -> None:
    assert parse_argument("tandem.draft", args, TaskArgs) == TaskArgs(task_id=None)
    assert "uri: Field required" in refusal(PlanArgs, *args)


def test_good_arguments_come_through_with_lsp_positions() -> None:
    plan = parse_argument(
        "tandem.plan", ({"uri": URI, "range": CURSOR, "request": "Add retries"},), PlanArgs
    )
    assert plan.uri == URI and plan.request == "Add retries"
    assert plan.range is not None and plan.range.lsp().start.line == 3
    review = parse_argument(
        "tandem.review", ({"working_tree": True, "base": "main~2"},), ReviewArgs
    )
    assert review.working_tree and review.base == "main~2"
    task = parse_argument("tandem.draft", ({"task_id": "20261130-0954-add-retries"},), TaskArgs)
    assert task.task_id == "20261130-0954-add-retries"


def test_unknown_keys_are_ignored_so_newer_clients_still_work() -> None:
    assert parse_argument("tandem.status", ({"verbose": "\x00"},), StatusArgs) == StatusArgs()


def test_the_task_store_refuses_what_is_not_a_task_id(tmp_path: Any) -> None:
    assert is_task_id("20261130-0954-add_retries")
    for bad in ("", "-leading-dash", "a/b", "a\x00", "abc\n", "x" * 82):
        assert not is_task_id(bad)
        with pytest.raises(TaskStoreError, match="is not a task id"):
            TaskStore(tmp_path).task_dir(bad)
