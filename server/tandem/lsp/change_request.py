"""Where the change request of "Plan this change…" comes from, in this order:

1. the command argument ``request`` (the VS Code and Neovim plugins ask the user and pass it);
2. the selected text, when every selected line is a comment (comment markers are stripped), or a
   selected line (the cursor's line when nothing is selected) holding ``TODO`` or ``FIXME`` (the
   text after the marker);
3. ``.tandem/request.md`` in the workspace (the whole file, HTML comments left out).

With none of them the command fails with :class:`MissingRequest`, whose message says all three.
Pure text handling: no LSP types, so it is tested on its own.
"""

from __future__ import annotations

import re
from pathlib import Path

REQUEST_FILE = Path(".tandem") / "request.md"

_COMMENT = re.compile(r"^\s*(#+|//+|--|/\*+|\*+/?|;+|<!--|\"\"\"|''')\s?")
_COMMENT_END = re.compile(r"\s*(\*/|-->|\"\"\"|''')\s*$")
_TODO = re.compile(r"\b(?:TODO|FIXME)\b(?:\([^)]*\))?\s*[:\-]?\s*(?P<text>.*)$")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


class MissingRequest(ValueError):
    """No change request anywhere; the message says where one can come from."""


def _is_comment(line: str) -> bool:
    return bool(_COMMENT.match(line))


def _strip_comment(line: str) -> str:
    return _COMMENT_END.sub("", _COMMENT.sub("", line, count=1)).strip()


def request_from_selection(selected_lines: list[str]) -> str | None:
    """The request a selection holds: all-comment lines, else a TODO/FIXME line's text."""
    lines = [line for line in selected_lines if line.strip()]
    if not lines:
        return None
    todos = [match.group("text").strip() for line in lines if (match := _TODO.search(line))]
    todos = [_COMMENT_END.sub("", todo).strip() for todo in todos]
    if any(todos):
        return " ".join(todo for todo in todos if todo)
    if all(_is_comment(line) for line in lines):
        text = " ".join(part for line in lines if (part := _strip_comment(line)))
        return text or None
    return None


def request_from_file(workspace: Path | None) -> str | None:
    if workspace is None:
        return None
    file = workspace / REQUEST_FILE
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return _HTML_COMMENT.sub("", text).strip() or None


def resolve_request(
    argument: str | None, selected_lines: list[str], workspace: Path | None
) -> tuple[str, str]:
    """The request and where it came from (``argument``, ``selection`` or ``request.md``)."""
    if argument is not None and argument.strip():
        return argument.strip(), "argument"
    selected = request_from_selection(selected_lines)
    if selected:
        return selected, "selection"
    written = request_from_file(workspace)
    if written:
        return written, "request.md"
    raise MissingRequest(
        "no change request: pass 'request' in the command argument, select a comment or a "
        f"TODO/FIXME line, or write the request in {REQUEST_FILE}"
    )
