"""The JavaScript/TypeScript import graph: which files lead, through imports, to a changed file.

This is Jest's and Vitest's "related tests" idea at file level. A test file whose imports all
resolve, and none of which leads to a changed file, cannot run the changed code; the ranking
drops its tests however many words they share with the change. Resolution follows the
conventions bundlers and TypeScript share: relative specifiers with or without an extension
(``./x.js`` naming ``x.ts`` too), folder index files, and imports of a package of the same
repository by its ``package.json`` name, through its ``exports`` map (``zod/v4`` → the
package's source). Specifiers of packages that are not in the repository are external.

Per file, the specifiers are found once per file version (cached on the text); the graph is
rebuilt per slice from those, which costs a few set look-ups per import.
"""

from __future__ import annotations

import functools
import json
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

JS_EXTENSIONS = (".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs")
_JS_TO_TS = {".js": (".ts", ".tsx"), ".jsx": (".tsx",), ".mjs": (".mts",), ".cjs": (".cts",)}
# One literal-led pattern (``from "x"``, ``import "x"``, ``import("x")``, ``require("x")``, and
# ``export ... from "x"`` through its ``from``); a word boundary is checked after the match,
# because a look-behind makes the scan several times slower.
_SPECIFIER = re.compile(r"""(?:from|import|require)\s*\(?\s*['"]([^'"\n]+)['"]""")
# Specifiers that name a file of this repository through configuration we do not read
# (tsconfig ``paths``, package ``imports``): a test using one is not understood, never dropped.
_ALIASED = re.compile(r"^(?:[@~#]/|#|\$)")


def is_js(path: str) -> bool:
    return path.endswith(JS_EXTENSIONS)


# Keyed on whole texts: every edited version of an open file is a new key, so the bound is what
# keeps a long editor session from holding old versions (16k texts of 10 KB: about 160 MB).
@functools.lru_cache(maxsize=16_384)
def specifiers(text: str) -> tuple[str, ...]:
    """Module specifiers a JS/TS file imports, re-exports or requires, in order."""
    found = (
        m.group(1)
        for m in _SPECIFIER.finditer(text)
        if m.start() == 0 or not (text[m.start() - 1].isalnum() or text[m.start() - 1] in "_$.")
    )
    return tuple(dict.fromkeys(found))


@dataclass
class _Package:
    folder: str  # relative to the repository root, "" at the root
    name: str
    exports: object
    main: list[str]


def _string_leaves(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _string_leaves(v)]
    if isinstance(value, list):
        return [s for v in value for s in _string_leaves(v)]
    return []


@dataclass
class ImportResolver:
    """Resolves specifiers to repository files. ``read`` gives a file's text or None."""

    files: set[str]
    read: Callable[[str], str | None]
    _packages: dict[str, _Package | None] = field(default_factory=dict)  # folder -> package
    _by_name: dict[str, _Package] | None = None
    _memo: dict[tuple[str, str], str | None] = field(default_factory=dict)

    def _package_in(self, folder: str) -> _Package | None:
        if folder not in self._packages:
            pkg = None
            text = self.read(posixpath.join(folder, "package.json") if folder else "package.json")
            if text:
                try:
                    raw = json.loads(text)
                except ValueError:
                    raw = None
                if isinstance(raw, dict) and isinstance(raw.get("name"), str):
                    main = [raw[k] for k in ("source", "module", "main", "types") if k in raw]
                    pkg = _Package(folder, raw["name"], raw.get("exports"), _string_leaves(main))
            self._packages[folder] = pkg
        return self._packages[folder]

    def _packages_by_name(self) -> dict[str, _Package]:
        if self._by_name is None:
            folders: set[str] = set()
            for path in self.files:
                folder = posixpath.dirname(path)
                while folder not in folders:
                    folders.add(folder)
                    if not folder:
                        break
                    folder = posixpath.dirname(folder)
            self._by_name = {}
            for folder in sorted(folders):
                pkg = self._package_in(folder)
                if pkg is not None:
                    self._by_name.setdefault(pkg.name, pkg)
        return self._by_name

    def _file(self, base: str) -> str | None:
        base = posixpath.normpath(base)
        if base.startswith("../") or base == "..":
            return None
        if base in self.files:
            return base
        stem, ext = posixpath.splitext(base)
        for alt in _JS_TO_TS.get(ext, ()):
            if stem + alt in self.files:
                return stem + alt
        for ext in JS_EXTENSIONS:
            if base + ext in self.files:
                return base + ext
        for ext in JS_EXTENSIONS:
            if posixpath.join(base, "index" + ext) in self.files:
                return posixpath.join(base, "index" + ext)
        return None

    def _in_package(self, pkg: _Package, subpath: str) -> str | None:
        targets: list[str] = []
        exports = pkg.exports
        if isinstance(exports, dict) and any(str(k).startswith(".") for k in exports):
            entry = exports.get(subpath)
            if entry is None:
                for key, value in exports.items():
                    head, star, tail = str(key).partition("*")
                    if star and subpath.startswith(head) and subpath.endswith(tail):
                        middle = subpath[len(head) : len(subpath) - len(tail)]
                        targets += [t.replace("*", middle) for t in _string_leaves(value)]
            else:
                targets += _string_leaves(entry)
        elif subpath == "." and exports is not None:
            targets += _string_leaves(exports)
        if subpath == ".":
            targets += pkg.main
        targets.append(subpath)
        # Source files first: a published entry (``./index.js``) may exist only after a build.
        targets.sort(key=lambda t: not t.endswith((".ts", ".tsx", ".mts", ".cts")))
        for target in targets:
            found = self._file(posixpath.join(pkg.folder, target))
            if found is not None:
                return found
        return self._file(posixpath.join(pkg.folder, "src", subpath))

    def resolve(self, importer: str, spec: str) -> str | None:
        """The repository file ``spec`` names from ``importer``; None when it is not one."""
        key = (posixpath.dirname(importer) if spec.startswith(".") else "", spec)
        if key not in self._memo:
            self._memo[key] = self._resolve(importer, spec)
        return self._memo[key]

    def _resolve(self, importer: str, spec: str) -> str | None:
        if spec.startswith("."):
            return self._file(posixpath.join(posixpath.dirname(importer), spec))
        parts = spec.split("/")
        name = "/".join(parts[:2]) if spec.startswith("@") else parts[0]
        pkg = self._packages_by_name().get(name)
        if pkg is None:
            return None
        return self._in_package(pkg, "." + spec[len(name) :])

    def understood(self, importer: str, specs: Iterable[str]) -> bool:
        """Whether every specifier is a repository file or a package outside the repository."""
        for spec in specs:
            if self.resolve(importer, spec) is not None:
                continue
            if spec.startswith(".") or _ALIASED.match(spec):
                return False
            parts = spec.split("/")
            name = "/".join(parts[:2]) if spec.startswith("@") else parts[0]
            if name in self._packages_by_name():
                return False
        return True


def leading_to(
    targets: Iterable[str], texts: Mapping[str, str], resolver: ImportResolver
) -> set[str]:
    """The files of ``texts`` that import one of ``targets``, directly or through others."""
    importers: dict[str, list[str]] = {}
    for path, text in texts.items():
        for spec in specifiers(text):
            dep = resolver.resolve(path, spec)
            if dep is not None and dep != path:
                importers.setdefault(dep, []).append(path)
    reached = set(targets)
    frontier = list(reached)
    while frontier:
        nxt: list[str] = []
        for dep in frontier:
            for imp in importers.get(dep, ()):
                if imp not in reached:
                    reached.add(imp)
                    nxt.append(imp)
        frontier = nxt
    return reached
