"""Unified diffs: parse them, check them against the tree, and find the changed new-side lines."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


class DiffError(ValueError):
    """The diff cannot be used: malformed, or it does not match the files in the tree."""


@dataclass
class Hunk:
    header: str
    old_start: int
    old_len: int
    new_start: int
    new_len: int
    lines: list[tuple[str, str]] = field(default_factory=list)  # (" " | "+" | "-", text)


@dataclass
class Deletion:
    """A run of removed lines and the new-side line just after the place they were removed."""

    point: int
    lines: list[str]


@dataclass
class FileDiff:
    old_path: str | None  # None for a new file
    new_path: str | None  # None for a deleted file
    hunks: list[Hunk] = field(default_factory=list)
    binary: bool = False

    @property
    def path(self) -> str:
        return self.new_path or self.old_path or "?"

    def added_lines(self) -> set[int]:
        """New-side line numbers of '+' lines."""
        out: set[int] = set()
        for hunk in self.hunks:
            line = hunk.new_start
            for op, _ in hunk.lines:
                if op == "+":
                    out.add(line)
                if op != "-":
                    line += 1
        return out

    def deletion_points(self) -> set[int]:
        """For each run of '-' lines, the new-side line just after where they were removed."""
        return {deletion.point for deletion in self.deletions()}

    def deletions(self) -> list[Deletion]:
        """Each run of '-' lines with the new-side line just after where it was removed."""
        out: list[Deletion] = []
        for hunk in self.hunks:
            line = hunk.new_start if hunk.new_len else hunk.new_start + 1
            previous = ""
            for op, text in hunk.lines:
                if op == "-":
                    if previous != "-":
                        out.append(Deletion(line, []))
                    out[-1].lines.append(text)
                else:
                    line += 1
                previous = op
        return out

    def changed_text(self, op: str) -> list[str]:
        return [text for hunk in self.hunks for o, text in hunk.lines if o == op]


def _strip_path(raw: str) -> str | None:
    path = raw.split("\t")[0].strip()
    if path.startswith('"') and path.endswith('"'):
        path = path[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")
        path = path.encode("latin-1", "replace").decode("utf-8", "replace")
    if path == "/dev/null":
        return None
    if path[:2] in ("a/", "b/"):
        path = path[2:]
    return path


def parse_diff(text: str) -> list[FileDiff]:
    """Parse a unified diff (git or plain). Raises DiffError on a malformed hunk."""
    files: list[FileDiff] = []
    current: FileDiff | None = None
    hunk: Hunk | None = None
    old_left = new_left = 0
    # Diff lines end at "\n" only; a form feed or "\u2028" inside a line is content.
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    if lines and lines[-1] == "":
        lines.pop()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if hunk is not None and (old_left > 0 or new_left > 0):
            if line.startswith("\\"):
                continue
            op = line[:1] if line else " "
            if op not in (" ", "+", "-"):
                raise DiffError(
                    f"malformed diff: hunk {hunk.header!r} of {current.path if current else '?'} "
                    f"ends early (expected {old_left} more old and {new_left} more new lines)"
                )
            hunk.lines.append((op, line[1:]))
            if op != "+":
                old_left -= 1
            if op != "-":
                new_left -= 1
            continue
        if line.startswith("diff --git "):
            current = FileDiff(old_path=None, new_path=None)
            files.append(current)
            hunk = None
            m = re.match(r"diff --git (\S+) (\S+)$", line)
            if m:
                current.old_path = _strip_path(m.group(1))
                current.new_path = _strip_path(m.group(2))
            continue
        if line.startswith("--- ") and i < len(lines) and lines[i].startswith("+++ "):
            if current is None or current.hunks:
                current = FileDiff(old_path=None, new_path=None)
                files.append(current)
            current.old_path = _strip_path(line[4:])
            current.new_path = _strip_path(lines[i][4:])
            i += 1
            hunk = None
            continue
        if line.startswith("new file mode") and current is not None:
            current.old_path = None
            continue
        if line.startswith("deleted file mode") and current is not None:
            current.new_path = None
            continue
        if line.startswith("Binary files") and current is not None:
            current.binary = True
            continue
        m = _HUNK.match(line)
        if m:
            if current is None:
                raise DiffError(f"malformed diff: hunk {line!r} has no file header (--- / +++)")
            hunk = Hunk(
                header=line.split(" @@")[0] + " @@",
                old_start=int(m.group(1)),
                old_len=int(m.group(2)) if m.group(2) is not None else 1,
                new_start=int(m.group(3)),
                new_len=int(m.group(4)) if m.group(4) is not None else 1,
            )
            current.hunks.append(hunk)
            old_left, new_left = hunk.old_len, hunk.new_len
    return files


def check_hunks(file_diff: FileDiff, new_lines: list[str]) -> None:
    """Raise DiffError naming the first hunk whose new-side lines differ from the file."""
    for hunk in file_diff.hunks:
        line = hunk.new_start
        for op, text in hunk.lines:
            if op == "-":
                continue
            actual = new_lines[line - 1] if 0 < line <= len(new_lines) else None
            if actual is None or actual.rstrip() != text.rstrip():
                found = "end of file" if actual is None else repr(actual[:80])
                raise DiffError(
                    f"diff does not match the tree: hunk {hunk.header!r} of {file_diff.path} "
                    f"expects {text[:80]!r} at line {line}, the file has {found}; "
                    "make the diff against this tree (new side = the files on disk)"
                )
            line += 1
