"""Documents the editor has not opened, read from disk with limits.

pygls answers ``workspace.get_text_document(uri)`` for an unopened document with a document that
re-reads the path on every ``.source``: whatever the URI names, at any size. A request naming
``file:///dev/zero`` would read until memory runs out, a FIFO would block a handler forever, and a
non-file URI such as ``untitled:x`` is read as a path relative to the server's working directory.
Here (through ``BoundedWorkspace`` in ``tandem.lsp.pygls_overrides``) an unopened document is
read only when its URI is a ``file:`` URI naming a regular file of at most
``MAX_UNOPENED_BYTES``; otherwise ``.source`` raises ``OSError``, as pygls does for a missing
file, so features that handle a missing file handle these too. Invalid UTF-8 becomes
U+FFFD instead of an error. Open documents are untouched: their text is the editor's.
"""

from __future__ import annotations

import errno
import stat
from pathlib import Path

MAX_UNOPENED_BYTES = 32 * 1024 * 1024


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
