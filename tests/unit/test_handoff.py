"""The handoff: strict reply schemas, versioned persisted models, the editable plan document."""

from __future__ import annotations

from typing import Any

import pytest
from flow_doubles import example_replies

from tandem.flow.handoff import (
    SCHEMA_VERSION,
    DraftReply,
    Plan,
    PlanDocumentError,
    PlanReply,
    Review,
    ReviewReply,
    parse_plan_markdown,
    plan_markdown,
    split_unit_id,
)


def _objects(schema: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("type") == "object":
                found.append(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


@pytest.mark.parametrize("reply_type", [PlanReply, DraftReply, ReviewReply])
def test_reply_schemas_are_strict_json_schema_friendly(reply_type: type[Any]) -> None:
    schema = reply_type.model_json_schema()
    objects = _objects(schema)
    assert objects
    for obj in objects:
        assert obj.get("additionalProperties") is False
        assert set(obj["required"]) == set(obj["properties"]), obj.get("title")
        for prop in obj["properties"].values():
            assert "default" not in prop


def test_example_fake_replies_fit_the_reply_schemas() -> None:
    replies = example_replies()
    PlanReply.model_validate(replies["plan"][0])
    for draft in replies["draft"]:
        DraftReply.model_validate(draft)
    for review in replies["review"]:
        ReviewReply.model_validate(review)


def test_persisted_models_carry_the_schema_version() -> None:
    plan = Plan(reply=PlanReply.model_validate(example_replies()["plan"][0]))
    assert plan.model_dump()["schema_version"] == SCHEMA_VERSION


def test_plan_markdown_round_trips() -> None:
    reply = PlanReply.model_validate(example_replies()["plan"][0])
    assert parse_plan_markdown(plan_markdown(reply)) == reply


def test_edited_plan_markdown_is_read_back() -> None:
    reply = PlanReply.model_validate(example_replies()["plan"][0])
    edited = plan_markdown(reply).replace(
        "## Open questions\n\n", "## Open questions\n\n- Sort archived projects by name?\n"
    )
    assert "Sort archived projects by name?" in parse_plan_markdown(edited).open_questions


def test_plan_document_without_summary_is_refused_with_a_reason() -> None:
    with pytest.raises(PlanDocumentError, match="no summary"):
        parse_plan_markdown("# Plan\n\n## Steps\n\n- do it\n")


def test_unit_ids_split_into_path_and_name() -> None:
    assert split_unit_id("app/queries.py::Repo.list") == ("app/queries.py", "Repo.list")
    assert split_unit_id("tests/test_x.py") == ("tests/test_x.py", None)


def test_review_counts_findings_by_severity() -> None:
    review = Review(reply=ReviewReply.model_validate(example_replies()["review"][0]))
    assert review.counts() == {"blocking": 1, "major": 1, "nit": 1}
    assert len(review.blocking) == 1
