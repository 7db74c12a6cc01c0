"""Which repository files Tandem never reads: .gitignore, .tandemignore and configured globs.

Patterns use git's own gitignore semantics (pathspec's ``GitIgnoreSpec``: the last matching
pattern wins, ``!`` re-includes). Nested ``.gitignore`` files apply to
their own folder: their patterns are re-rooted there. Paths are repository-relative, with forward
slashes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec

    from tandem.config import ExclusionSettings


def _reroot(pattern: str, folder: str) -> str | None:
    """A nested .gitignore pattern rewritten relative to the repository root."""
    line = pattern.rstrip("\n").rstrip()
    if not line or line.startswith("#"):
        return None
    negate = line.startswith("!")
    body = line[1:] if negate else line
    if not folder:
        return line
    anchored = "/" in body.rstrip("/")
    body = body.lstrip("/")
    rerooted = f"/{folder}/{body}" if anchored else f"/{folder}/**/{body}"
    return ("!" if negate else "") + rerooted


@dataclass
class Exclusions:
    """A compiled set of exclusion rules for one repository.

    The root ``.gitignore``, ``.tandemignore`` and the settings' globs are read at load time;
    nested ``.gitignore`` files are added by the repository walk as it meets them (one walk).
    """

    spec: GitIgnoreSpec
    sources: list[str] = field(default_factory=list)
    use_gitignore: bool = True
    nested: list[GitIgnoreSpec] = field(default_factory=list)

    @classmethod
    def load(cls, repo: Path, settings: ExclusionSettings) -> Exclusions:
        from pathspec import GitIgnoreSpec

        # Later patterns win, so the settings come last: a ``!.env`` in a repository's
        # .gitignore must not re-include a secret the settings exclude.
        lines: list[str] = []
        sources: list[str] = []
        if settings.use_gitignore and (repo / ".gitignore").is_file():
            lines += _read_lines(repo / ".gitignore")
            sources.append(".gitignore")
        if settings.use_tandemignore and (repo / ".tandemignore").is_file():
            lines += _read_lines(repo / ".tandemignore")
            sources.append(".tandemignore")
        lines += settings.globs
        sources.append("settings.exclusions.globs")
        return cls(
            spec=GitIgnoreSpec.from_lines(lines),
            sources=sources,
            use_gitignore=settings.use_gitignore,
        )

    def add_nested_gitignore(self, repo: Path, folder: str) -> None:
        """Apply ``<folder>/.gitignore`` (repository-relative folder) to paths under it."""
        from pathspec import GitIgnoreSpec

        if not self.use_gitignore or not folder:
            return
        lines = [
            r
            for raw in _read_lines(repo / folder / ".gitignore")
            if (r := _reroot(raw, folder)) is not None
        ]
        if lines:
            self.nested.append(GitIgnoreSpec.from_lines(lines))
            self.sources.append(f"{folder}/.gitignore")

    def excluded(self, relpath: str, *, is_dir: bool = False) -> bool:
        """Whether ``relpath`` (repository-relative) is excluded."""
        path = relpath.strip("/")
        if is_dir:
            path += "/"
        if self.spec.match_file(path):
            return True
        return any(spec.match_file(path) for spec in self.nested)


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
