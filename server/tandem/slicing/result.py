"""The slice as a value: what ``tandem slice --json`` prints and what the flow renders prompts from.

This is a stable contract (documented in the README). Lines are 1-based and inclusive; paths are
relative to the repository root, with forward slashes. ``SliceError`` is the one error slicing
raises for input it cannot slice.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class SliceError(Exception):
    """Bad input for slicing (a diff that does not match the tree, a missing file, ...)."""


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FileRangeAnchor(_Value):
    """A cursor or selection in one file."""

    kind: Literal["range"] = "range"
    path: str
    start_line: int = Field(ge=1)
    end_line: int = Field(ge=1)
    text: str | None = Field(
        default=None, description="Unsaved buffer text; read from disk when None."
    )


class DiffAnchor(_Value):
    """A unified diff; its new-side lines are the touched lines."""

    kind: Literal["diff"] = "diff"
    diff: str


class WorkingTreeAnchor(_Value):
    """The working tree against HEAD or a named base revision."""

    kind: Literal["working_tree"] = "working_tree"
    base: str = "HEAD"


Anchor = FileRangeAnchor | DiffAnchor | WorkingTreeAnchor


class TouchedUnit(_Value):
    path: str
    name: str
    kind: str
    start_line: int
    end_line: int
    language: str | None = None


class RelatedTest(_Value):
    path: str
    name: str
    start_line: int
    end_line: int
    score: float
    reason: str


class CalleeSignature(_Value):
    path: str
    name: str
    signature: str
    line: int


class Slice(_Value):
    touched: list[TouchedUnit] = Field(default_factory=list)
    tests: list[RelatedTest] = Field(default_factory=list, description="Best first.")
    callees: list[CalleeSignature] = Field(default_factory=list)
    text: str = ""
    tokens: int = 0
    whole_file_tokens: int = 0
    excluded: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
