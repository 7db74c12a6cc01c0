"""Which repository files Tandem never reads: .gitignore, .tandemignore and configured globs.

Patterns use git's own gitignore semantics (pathspec's ``GitIgnoreSpec``: the last matching
pattern wins, ``!`` re-includes). Nested ``.gitignore`` and ``.tandemignore`` files apply to
their own folder: their patterns are re-rooted there. Each nested file is its own spec and a path
is excluded when any spec excludes it, so a ``!`` in a nested file never brings back what the
root files or the settings exclude (the settings' globs come last in the root spec for the same
reason). Paths are repository-relative, with forward slashes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec

    from tandem.config import ExclusionSettings


IGNORE_FILES = (".gitignore", ".tandemignore")
"""The ignore files read at the root and in every folder the walk enters."""


def _reroot(pattern: str, folder: str) -> str | None:
    """A nested ignore file's pattern rewritten relative to the repository root."""
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
    nested ``.gitignore`` and ``.tandemignore`` files are added by the repository walk as it
    meets them (one walk).
    """

    spec: GitIgnoreSpec
    sources: list[str] = field(default_factory=list)
    use_gitignore: bool = True
    use_tandemignore: bool = True
    nested: list[GitIgnoreSpec] = field(default_factory=list)
    _checks: list[tuple[GitIgnoreSpec, _Prefilter]] | None = field(
        default=None, repr=False, compare=False
    )

    @classmethod
    def load(cls, repo: Path, settings: ExclusionSettings) -> Exclusions:
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
        spec, prefilter = _compiled(tuple(lines))
        return cls(
            spec=spec,
            sources=sources,
            use_gitignore=settings.use_gitignore,
            use_tandemignore=settings.use_tandemignore,
            _checks=[(spec, prefilter)],
        )

    def uses(self, name: str) -> bool:
        """Whether the settings let ignore files called ``name`` exclude anything."""
        if name == ".gitignore":
            return self.use_gitignore
        return name == ".tandemignore" and self.use_tandemignore

    def add_nested_ignore(self, repo: Path, folder: str, name: str) -> None:
        """Apply ``<folder>/<name>`` (a repository-relative folder, ``name`` one of
        :data:`IGNORE_FILES`) to the paths under that folder."""
        if not folder or not self.uses(name):
            return
        lines = [
            r
            for raw in _read_lines(repo / folder / name)
            if (r := _reroot(raw, folder)) is not None
        ]
        if lines:
            spec, prefilter = _compiled(tuple(lines))
            checks = self._all_checks()
            self.nested.append(spec)
            checks.append((spec, prefilter))
            self.sources.append(f"{folder}/{name}")

    def add_nested_gitignore(self, repo: Path, folder: str) -> None:
        """Apply ``<folder>/.gitignore`` to the paths under that folder."""
        self.add_nested_ignore(repo, folder, ".gitignore")

    def excluded(self, relpath: str, *, is_dir: bool = False) -> bool:
        """Whether ``relpath`` (repository-relative) is excluded."""
        path = relpath.strip("/")
        if is_dir:
            path += "/"
        checks = self._checks
        if checks is None or len(checks) <= len(self.nested):
            checks = self._all_checks()
        return any(quick.may_match(path) and spec.match_file(path) for spec, quick in checks)

    def walked(self) -> None:
        """The walk is over: drop the answers cached per folder and name for it (up to 100,000
        each); later checks, one per changed file, do without them."""
        for _, quick in self._checks or ():
            quick.cache.clear()
            quick.folders.clear()

    def _all_checks(self) -> list[tuple[GitIgnoreSpec, _Prefilter]]:
        """Each spec with its prefilter (built here for specs given directly to the class)."""
        checks = self._checks
        if checks is None:
            checks = self._checks = [(self.spec, _Prefilter(self.spec))]
        while len(checks) < 1 + len(self.nested):
            spec = self.nested[len(checks) - 1]
            checks.append((spec, _Prefilter(spec)))
        return checks


@lru_cache(maxsize=256)
def _compiled(lines: tuple[str, ...]) -> tuple[GitIgnoreSpec, _Prefilter]:
    """Compile patterns once per process: a server slices the same repository again and again,
    and the prefilter's per-folder answers stay valid for the same patterns."""
    from pathspec import GitIgnoreSpec

    spec = GitIgnoreSpec.from_lines(lines)
    return spec, _Prefilter(spec)


_UNANCHORED = "^(?:.+/)?"
_FILE_OR_DIR = "(?:(?P<ps_d>/)|$)"
_DIR_ONLY = ("(?P<ps_d>/)", "/")
_NAMED_GROUP = re.compile(r"\(\?P<\w+>")


class _Prefilter:
    """A quick, never-wrong "no pattern of this spec can match" test.

    pathspec tries every pattern's regex on the whole path, which made exclusions the largest
    cost of walking a big repository. Most patterns name one path component (``*.pem``,
    ``.env*``, ``node_modules/``): those become two alternations matched against each
    component (answers cached per component name), and the rest one alternation searched on
    the path. Only a possible hit pays for the exact gitignore evaluation.
    """

    def __init__(self, spec: GitIgnoreSpec) -> None:
        names: list[str] = []
        dir_names: list[str] = []
        paths: list[str] = []
        self.exact_only = False
        flags = 0
        for pattern in spec.patterns:
            if pattern.include is None:
                continue  # a blank line or a comment
            regex = getattr(pattern, "regex", None)
            if not isinstance(regex, re.Pattern) or not isinstance(regex.pattern, str):
                self.exact_only = True  # an unknown pattern type: always evaluate exactly
                return
            flags |= regex.flags
            source = regex.pattern
            body = source.removeprefix(_UNANCHORED)
            component = body.removesuffix(_FILE_OR_DIR)
            if body != source and component != body and "/" not in component.replace("[^/]", ""):
                names.append(component)  # one whole path component, file or folder
                continue
            trailer = next((t for t in _DIR_ONLY if body.endswith(t)), None)
            if body != source and trailer is not None:
                inner = body.removesuffix(trailer)
                if "/" not in inner.replace("[^/]", ""):
                    dir_names.append(inner)
                    continue
            paths.append(_NAMED_GROUP.sub("(?:", source))
        never = re.compile(r"(?!)")

        def alternation(sources: list[str]) -> re.Pattern[str]:
            if not sources:
                return never
            return re.compile("|".join(f"(?:{s})" for s in sources), flags & ~re.UNICODE)

        self.names = alternation(names)
        self.dir_names = alternation([*names, *dir_names])
        paths_regex = alternation(paths)
        # pathspec searches, but its regexes start with "^": a match at 0 is the same answer.
        anchored = all(source.startswith("^") for source in paths)
        self.paths = paths_regex.match if anchored else paths_regex.search
        self.cache: dict[tuple[str, bool], bool] = {}
        self.folders: dict[str, bool] = {}

    def _component(self, name: str, is_dir: bool) -> bool:
        key = (name, is_dir)
        hit = self.cache.get(key)
        if hit is None:
            regex = self.dir_names if is_dir else self.names
            hit = self.cache[key] = regex.fullmatch(name) is not None
            if len(self.cache) > 100_000:
                self.cache.clear()
        return hit

    def _folder(self, folder: str) -> bool:
        """Whether a component of ``folder`` (all of them folders) matches; cached per folder."""
        hit = self.folders.get(folder)
        if hit is None:
            parent, _, name = folder.rpartition("/")
            hit = (bool(parent) and self._folder(parent)) or self._component(name, True)
            if len(self.folders) > 100_000:
                self.folders.clear()
            self.folders[folder] = hit
        return hit

    def may_match(self, path: str) -> bool:
        if self.exact_only:
            return True
        is_dir = path.endswith("/")
        parent, _, name = path.rstrip("/").rpartition("/")
        if (parent and self._folder(parent)) or self._component(name, is_dir):
            return True
        return self.paths(path) is not None


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
