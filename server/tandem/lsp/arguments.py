"""The arguments of every ``workspace/executeCommand`` Tandem answers, as pydantic models.

Each command takes one JSON object (absent means ``{}``). It is validated here before any
handler sees it, strictly (``"yes"`` is not a boolean, ``1.0`` not a line), so a bad argument
gets InvalidParams naming it instead of failing deep inside as an InternalError: strings holding
a NUL character (which no path, revision or task id may contain: the OS refuses them), strings
longer than any real one, positions outside LSP's unsigned integers, task ids that are not
ids. Unknown keys are ignored, so an older server accepts a newer client's argument.

Whether a document is inside a workspace folder is the handlers' question (they know the
folders); they answer it with InvalidParams too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, TypeVar
from urllib.parse import unquote

from lsprotocol import types
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError
from pygls.exceptions import JsonRpcInvalidParams

from tandem.flow.taskstore import is_task_id
from tandem.ledger.outcome_rows import DefectSeverity

M = TypeVar("M", bound=BaseModel)

MAX_UINTEGER = 2**31 - 1
"""LSP's ``uinteger``: lines and characters beyond it are not positions."""
MAX_URI_CHARS = 8_192
MAX_REQUEST_CHARS = 50_000
MAX_REVISION_CHARS = 256


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise PydanticCustomError("nul_character", "must not contain a NUL character (\\u0000)")
    return value


def _uri(value: str) -> str:
    if "\x00" in unquote(value):  # %00 becomes a NUL in the path
        raise PydanticCustomError(
            "nul_character", "must not contain a NUL character (\\u0000 or %00)"
        )
    return value


def _task_id(value: str) -> str:
    if not is_task_id(value):
        raise PydanticCustomError(
            "task_id",
            "not a task id (a letter or digit, then letters, digits, - and _; 81 at most)",
        )
    return value


Uri = Annotated[str, Field(min_length=1, max_length=MAX_URI_CHARS), AfterValidator(_uri)]
RequestText = Annotated[str, Field(max_length=MAX_REQUEST_CHARS), AfterValidator(_no_nul)]
Revision = Annotated[
    str, Field(min_length=1, max_length=MAX_REVISION_CHARS), AfterValidator(_no_nul)
]
TaskId = Annotated[str, AfterValidator(_task_id)]


class Argument(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)


class PositionArg(Argument):
    line: Annotated[int, Field(ge=0, le=MAX_UINTEGER)]
    character: Annotated[int, Field(ge=0, le=MAX_UINTEGER)]

    def lsp(self) -> types.Position:
        return types.Position(line=self.line, character=self.character)


class RangeArg(Argument):
    start: PositionArg
    end: PositionArg

    def lsp(self) -> types.Range:
        return types.Range(start=self.start.lsp(), end=self.end.lsp())


class PlanArgs(Argument):
    uri: Uri
    range: RangeArg | None = None
    request: RequestText | None = None


class TaskArgs(Argument):
    task_id: TaskId | None = None


class RequiredTaskArgs(Argument):
    task_id: TaskId


class ReviewArgs(Argument):
    uri: Uri | None = None
    range: RangeArg | None = None
    working_tree: bool = False
    base: Revision = "HEAD"
    task_id: TaskId | None = None

    @model_validator(mode="after")
    def _one_subject(self) -> ReviewArgs:
        subjects = [self.uri is not None, self.working_tree, self.task_id is not None]
        if sum(subjects) != 1:
            raise ValueError(
                'give exactly one of "uri" (with "range"), "working_tree": true, "task_id"'
            )
        return self


class EstimateArgs(Argument):
    uri: Uri
    range: RangeArg | None = None
    request: RequestText | None = None


class StatusArgs(Argument):
    pass


class RateTaskArgs(Argument):
    task_id: TaskId
    rating: Annotated[int, Field(ge=1, le=5)] | None = None
    cleanup_minutes: Annotated[float, Field(ge=0, le=10_000)] | None = None

    @model_validator(mode="after")
    def _something(self) -> RateTaskArgs:
        if self.rating is None and self.cleanup_minutes is None:
            raise ValueError('give "rating" (1-5) and/or "cleanup_minutes"')
        return self


class DefectArgs(Argument):
    task_id: TaskId
    note: Annotated[str, Field(min_length=1, max_length=MAX_REQUEST_CHARS)]
    severity: DefectSeverity = "major"


class FindingActedArgs(Argument):
    task_id: TaskId
    round: Annotated[int, Field(ge=1, le=2)]
    index: Annotated[int, Field(ge=0, le=10_000)]
    path: RequestText
    line: Annotated[int, Field(ge=0, le=MAX_UINTEGER)]


class ShowReportArgs(Argument):
    uri: Uri | None = None
    """Which workspace folder's report; the first folder's when absent or outside them all."""


def parse_argument(command: str, args: Sequence[Any], model: type[M]) -> M:
    """The command's single JSON-object argument (none, or ``null``, is ``{}``), validated; a
    clear InvalidParams naming the bad field otherwise."""
    if not args or (len(args) == 1 and args[0] is None):
        args = ({},)
    if len(args) != 1 or not isinstance(args[0], dict):
        raise JsonRpcInvalidParams(f"{command} takes exactly one argument, a JSON object")
    try:
        return model.model_validate(args[0])
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in problem['loc']) or 'argument'}: {problem['msg']}"
            for problem in error.errors()
        )
        raise JsonRpcInvalidParams(f"{command}: bad argument: {problems}") from error
