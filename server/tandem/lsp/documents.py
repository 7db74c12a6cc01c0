"""pygls documents made bounded and cheap: unopened ones read with limits, open ones edited in
place of being re-split on every change.

pygls (``PYGLS_VERSION`` in ``tandem.lsp.pygls_overrides``, whose pin test covers these
overrides too) answers ``workspace.get_text_document(uri)`` for an unopened document with a
document that re-reads the path on every ``.source``: whatever the URI names, at any size. A
request naming ``file:///dev/zero`` would read until memory runs out, a FIFO would block a handler
forever, and a non-file URI such as ``untitled:x`` is read as a path relative to the server's
working directory. Here an unopened document is read only when its URI is a ``file:`` URI naming
a regular file of at most ``MAX_UNOPENED_BYTES``; otherwise ``.source`` raises ``OSError``, as
pygls does for a missing file, so features that handle a missing file handle these too. Invalid
UTF-8 becomes U+FFFD instead of an error.

pygls also splits an open document into lines on every ``.lines`` and rewrites it line by line
on every incremental change: each keystroke in a 20 MB buffer costs a pass over all of it in
Python. Here an open document keeps its lines (immutable :class:`~tandem.lsp.line_blocks.Lines`,
so a handler holding them across an ``await`` keeps its snapshot), a change replaces only the
block of lines it spans, and the text is joined again only when asked for.
``document_length`` answers the size without joining.
"""

from __future__ import annotations

import errno
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.workspace import TextDocument, Workspace

from tandem.lsp.line_blocks import Lines

MAX_UNOPENED_BYTES = 32 * 1024 * 1024
_LINE_ENDS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
"""Where ``str.splitlines`` (pygls' line split) ends a line; "\\r\\n" is one end."""


def read_bounded(uri: str, path: str) -> str:
    """The text of a regular file no larger than the limit; ``OSError`` for anything else."""
    if not uri.startswith("file:"):
        return ""  # nothing on disk backs an unopened non-file document
    try:
        file = Path(path)
        info = file.stat()
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", path)
        if info.st_size > MAX_UNOPENED_BYTES:
            raise OSError(errno.EFBIG, f"larger than {MAX_UNOPENED_BYTES} bytes", path)
        with file.open("rb") as stream:
            data = stream.read(MAX_UNOPENED_BYTES + 1)
    except ValueError as error:  # e.g. a NUL byte in the path
        raise OSError(errno.EINVAL, str(error), path) from None
    if len(data) > MAX_UNOPENED_BYTES:
        raise OSError(errno.EFBIG, f"larger than {MAX_UNOPENED_BYTES} bytes", path)
    return data.decode("utf-8", errors="replace")


def splice_lines(lines: Lines, low: int, high: int, middle: str) -> tuple[Lines, int]:
    """``lines`` with ``lines[low:high]`` replaced by the lines of ``middle``, split as
    ``"".join(...).splitlines(True)`` would split the whole text; and the change in length."""
    removed = sum(map(len, lines[low:high]))
    added = len(middle)
    while True:  # widen until both ends are line ends of the joined text too
        after = lines[high] if high < len(lines) else ""
        if after and middle and (middle[-1] not in _LINE_ENDS or middle[-1] + after[0] == "\r\n"):
            middle += after
            removed += len(after)
            added += len(after)
            high += 1
            continue
        if low and lines[low - 1][-1] == "\r" and (middle or after)[:1] == "\n":
            middle = lines[low - 1] + middle
            removed += len(lines[low - 1])
            added += len(lines[low - 1])
            low -= 1
            continue
        return lines.splice(low, high, middle.splitlines(True)), added - removed


class BoundedTextDocument(TextDocument):
    """A pygls document read with limits when not open, and edited by lines when open.

    Overrides ``source`` (for an unopened document pygls re-reads whatever path the URI names,
    at any size: ``/dev/zero``, a FIFO, a relative path for ``untitled:``), ``lines`` and
    ``_apply_incremental_change`` (both a pass over the whole text in pygls), and stores pygls'
    private ``_source`` through a property, so every text pygls sets drops the kept lines.
    """

    _text: str | None = None
    _lines: Lines | None = None
    _length: int | None = None

    @property
    def _source(self) -> str | None:
        if self._text is None and self._lines is not None:
            self._text = "".join(self._lines)
        return self._text

    @_source.setter
    def _source(self, value: str | None) -> None:
        self._text, self._lines = value, None
        self._length = None if value is None else len(value)

    @property
    def source(self) -> str:
        text = self._source
        if text is None and self.path is not None:
            return read_bounded(self.uri, self.path)
        return text or ""

    @property
    def lines(self) -> Sequence[str]:
        if self._lines is not None:
            return self._lines
        if self._text is None:  # not open: read again each time, as pygls does
            return tuple(self.source.splitlines(True))
        self._lines = Lines.of_text(self._text)
        return self._lines

    @property
    def length(self) -> int:
        """Characters in the open document's text (0 when not open), without joining it."""
        return self._length or 0

    def _apply_incremental_change(self, change: types.TextDocumentContentChangePartial) -> None:
        lines = self.lines if isinstance(self.lines, Lines) else Lines.of(self.lines)
        place = self._position_codec.range_from_client_units(lines, change.range)
        start, end = place.start, place.end
        if start.line == len(lines):  # an empty document: pygls appends
            self._source = self.source + change.text
            return
        if start.line > end.line:  # pygls writes every line once and drops the change
            return
        middle = lines[start.line][: start.character] + change.text
        middle += lines[end.line][end.character :] if end.line < len(lines) else ""
        length = self.length
        self._lines, grown = splice_lines(lines, start.line, end.line + 1, middle)
        self._text, self._length = None, length + grown


def document_length(document: TextDocument) -> int | None:
    """The open document's length in characters when known without reading its text."""
    return document.length if isinstance(document, BoundedTextDocument) else None


class BoundedWorkspace(Workspace):
    """pygls' workspace creating :class:`BoundedTextDocument` for every document.

    Overrides pygls' private ``_create_text_document``, its one factory of documents.
    """

    def _create_text_document(
        self,
        doc_uri: str,
        source: str | None = None,
        version: int | None = None,
        language_id: str | None = None,
    ) -> TextDocument:
        return BoundedTextDocument(
            doc_uri,
            source=source,
            version=version,
            language_id=language_id,
            sync_kind=self._sync_kind,
            position_codec=self._position_codec,
        )


def bound(workspace: Any) -> None:
    """Make the workspace pygls just created a :class:`BoundedWorkspace` (it adds no state).

    pygls builds its ``Workspace`` inside ``initialize`` with no hook to choose the class.
    """
    if type(workspace) is Workspace:
        workspace.__class__ = BoundedWorkspace
