"""The typed, versioned handoff passed between the plan, draft and review steps.

Two layers of models live here. The ``*Reply`` models are what a provider is asked to return:
every field required, no defaults, no unions other than ``X | None``, so their JSON schema is
accepted by strict structured-output modes (OpenAI strict, Anthropic output formats, local
servers with grammar-constrained JSON). The handoff models (:class:`Task`, :class:`Plan`,
:class:`Draft`, :class:`Review`) wrap a reply with a ``schema_version`` and what Tandem adds
(approval, timestamps), and are what is persisted under ``.tandem/tasks/<id>/``.

A unit id is ``path::qualified.name`` (``app/queries.py::list_projects``), paths relative to the
repository root with forward slashes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tandem.slicing.result import Anchor
from tandem.values import RiskTier, TaskType

SCHEMA_VERSION = 1
"""Bumped whenever a persisted model changes incompatibly; older task folders are refused."""

UNIT_SEPARATOR = "::"

Severity = Literal["blocking", "major", "minor", "nit"]
Category = Literal["bug", "security", "test-gap", "scope-drift", "performance", "style"]
EditKind = Literal[
    "patch",
    "insert_after",
    "insert_before",
    "replace_unit",
    "insert_unit",
    "add_test",
    "delete_unit",
    "new_file",
    "rename_file",
    "delete_file",
]
ANCHORED_KINDS = ("patch", "insert_after", "insert_before")
"""The kinds that find their place by the exact text ``old``, which must occur once."""
Verdict = Literal["approve", "request_changes"]


def unit_id(path: str, name: str) -> str:
    return f"{path}{UNIT_SEPARATOR}{name}"


def split_unit_id(target: str) -> tuple[str, str | None]:
    """``path::name`` → (path, name); a bare path → (path, None). The name is kept as written:
    a test's title may end in a space."""
    path, sep, name = target.partition(UNIT_SEPARATOR)
    return (path.strip(), name if name.strip() else None) if sep else (target.strip(), None)


class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ----- what models return -------------------------------------------------------------------


class Scope(_Reply):
    units: list[str] = Field(description="Unit ids (path::qualified.name) the draft may change.")
    files: list[str] = Field(
        description="Files the draft may change, create, rename (old and new path) or delete, "
        "repo-relative: tests, config, docs and migrations included."
    )
    out_of_scope: list[str] = Field(description="What must not change, in plain words.")


class PlanReply(_Reply):
    summary: str = Field(description="The job in one or two plain sentences.")
    scope: Scope
    assumptions: list[str]
    steps: list[str] = Field(description="Ordered, concrete steps a cheaper model can follow.")
    risks: list[str]
    test_cases: list[str] = Field(description="Tests that must exist when the work is done.")
    acceptance_checks: list[str]
    open_questions: list[str] = Field(description="Decisions the user should make.")


class Edit(_Reply):
    kind: EditKind = Field(
        description="patch: target is a unit id or a file path; old is exact current text that "
        "occurs once there, new replaces it (for a change small next to its unit, and for "
        "imports, constants, config and docs). insert_after / insert_before: like patch, but "
        "old is only an anchor that stays as it is and new is the text to add right after or "
        "right before it. replace_unit: target is a unit id, new is the "
        "whole new unit (when most of the unit changes). insert_unit / add_test: target is a "
        "unit id to insert after, or a file path to append to (add_test creates the test file "
        "when missing). delete_unit: target is a unit id. new_file: target is a new file path, "
        "new its whole content. rename_file: target is the old path, new the new path. "
        "delete_file: target is the path."
    )
    target: str
    old: str | None = Field(
        description="patch: the exact text to replace; insert_after / insert_before: the exact "
        "text to add next to; else null."
    )
    new: str = Field(
        description="The new text, exactly as it should read in the file; the new path for "
        "rename_file; empty for delete_unit and delete_file."
    )
    reason: str = Field(
        description='The number of the plan step this edit carries out ("2"); may be empty.'
    )

    @model_validator(mode="before")
    @classmethod
    def _earlier_shape(cls, data: Any) -> Any:
        """Drafts saved before patches existed call the new text ``code`` and have no ``old``."""
        if isinstance(data, dict) and "code" in data and "new" not in data:
            data = dict(data)
            data["new"] = data.pop("code")
            data.setdefault("old", None)
        return data


class DraftReply(_Reply):
    edits: list[Edit]
    notes: list[str] = Field(description="Anything the reviewer or user must know.")


class Finding(_Reply):
    severity: Severity
    category: Category
    location: str = Field(description="path:line or a unit id, taken from the diff.")
    message: str
    suggested_change: str | None = Field(
        description="What to change, in words (no replacement code); null when obvious."
    )


class ReviewReply(_Reply):
    verdict: Verdict
    summary: str
    findings: list[Finding]


# ----- what Tandem persists -----------------------------------------------------------------


class _Handoff(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: int = SCHEMA_VERSION


def _now() -> datetime:
    return datetime.now(UTC)


class Task(_Handoff):
    task_id: str
    request: str = Field(min_length=1)
    anchor: Anchor
    task_type: TaskType
    task_type_source: Literal["user", "classified"] = "classified"
    risk_tier: RiskTier = "low"
    risk_reasons: list[str] = Field(default_factory=list)
    repo: str = Field(description="Absolute path of the repository root.")
    created_at: datetime = Field(default_factory=_now)


class Plan(_Handoff):
    reply: PlanReply
    approved: bool = False
    edited_by_user: bool = False
    prompt_version: str = ""
    model: str = ""

    @property
    def scope(self) -> Scope:
        return self.reply.scope


class Rejection(BaseModel):
    """An edit of the draft that was not applied, and why."""

    model_config = ConfigDict(extra="forbid")

    index: int = Field(ge=0, description="Position of the edit in the draft.")
    kind: EditKind
    target: str
    reason: str
    scope_drift: bool = False


class Draft(_Handoff):
    reply: DraftReply
    round: int = Field(default=1, ge=1, le=2)
    prompt_version: str = ""
    model: str = ""
    diff: str = Field(default="", description="Unified diff of the edits that applied.")
    rejected: list[Rejection] = Field(default_factory=list)

    @property
    def edits(self) -> list[Edit]:
        return self.reply.edits


class Review(_Handoff):
    reply: ReviewReply
    round: int = Field(default=1, ge=1, le=2)
    prompt_version: str = ""
    model: str = ""

    @property
    def findings(self) -> list[Finding]:
        return self.reply.findings

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.reply.findings if f.severity == "blocking"]

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for finding in self.reply.findings:
            counts[finding.severity] = counts.get(finding.severity, 0) + 1
        return counts


# ----- the plan as an editable document -----------------------------------------------------

_PLAN_SECTIONS: tuple[tuple[str, str], ...] = (
    ("Assumptions", "assumptions"),
    ("Steps", "steps"),
    ("Risks", "risks"),
    ("Test cases", "test_cases"),
    ("Acceptance checks", "acceptance_checks"),
    ("Open questions", "open_questions"),
)


def plan_markdown(plan: PlanReply) -> str:
    """The plan as the document a user reads, edits and approves (``plan.md``)."""
    lines = ["# Plan", "", plan.summary.strip(), "", "## Scope", "", "### Units"]
    lines += [f"- {unit}" for unit in plan.scope.units] or ["- (none)"]
    lines += ["", "### Files"]
    lines += [f"- {path}" for path in plan.scope.files] or ["- (none)"]
    lines += ["", "### Out of scope"]
    lines += [f"- {item}" for item in plan.scope.out_of_scope] or ["- (none)"]
    for title, attribute in _PLAN_SECTIONS:
        lines += ["", f"## {title}", ""]
        items: list[str] = getattr(plan, attribute)
        lines += [f"- {item}" for item in items] or ["- (none)"]
    return "\n".join(lines) + "\n"


class PlanDocumentError(ValueError):
    """An edited plan.md that cannot be read back."""


def parse_plan_markdown(text: str) -> PlanReply:
    """Read an edited ``plan.md`` back: the summary, then ``- item`` lists under each heading."""
    summary: list[str] = []
    lists: dict[str, list[str]] = {}
    current: str | None = None
    for raw in text.splitlines():
        line = raw.rstrip()
        if line.startswith("# "):
            current = "summary"
            continue
        if line.startswith("#"):
            current = line.lstrip("#").strip().lower()
            lists.setdefault(current, [])
            continue
        if current == "summary":
            if line.strip():
                summary.append(line.strip())
            continue
        if current is not None and line.lstrip().startswith("- "):
            item = line.lstrip()[2:].strip()
            if item and item != "(none)":
                lists[current].append(item)
    if not summary:
        raise PlanDocumentError("plan.md has no summary under its '# Plan' heading")
    data: dict[str, object] = {
        "summary": " ".join(summary),
        "scope": {
            "units": lists.get("units", []),
            "files": lists.get("files", []),
            "out_of_scope": lists.get("out of scope", []),
        },
    }
    for title, attribute in _PLAN_SECTIONS:
        data[attribute] = lists.get(title.lower(), [])
    return PlanReply.model_validate(data)
