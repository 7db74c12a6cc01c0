"""Which test files belong with a changed file by convention: paired names, shared packages."""

from __future__ import annotations

import functools
import re
from pathlib import PurePosixPath

_INDEX_STEMS = ("index", "mod", "lib", "__init__", "init", "main")
_JVM_ROOT = re.compile(r"(^|/)src/(main|test)/(java|kotlin)/")
_ISSUE = re.compile(r"\d{3,}$")  # a test of one reported issue: ``JsonPointer1425Test``


@functools.lru_cache(maxsize=65_536)
def _stem_key(path: str) -> str:
    """The module a file is about, with test affixes removed: ``test_core.py`` → ``core``."""
    name = path.rpartition("/")[2]
    stem = name.split(".")[0]
    for pre in ("test_",):
        if stem.startswith(pre):
            stem = stem[len(pre) :]
    for suf in ("_test", "_tests", "Tests", "Test", "IT", "_spec"):
        if stem.endswith(suf) and len(stem) > len(suf):
            stem = stem[: -len(suf)]
            break
    if stem.startswith("Test") and len(stem) > 4 and stem[4].isupper():
        stem = stem[4:]
    return stem.lower().replace("_", "").replace("-", "")


@functools.lru_cache(maxsize=65_536)
def paired(test_path: str, src_path: str) -> bool:
    """Whether a test file is named after a source file (``test_core.py``, ``CoreTest.java``,
    ``JsonPointer1425Test.java``: the test of one reported issue)."""
    if test_path == src_path:
        return False
    t, s = PurePosixPath(test_path), PurePosixPath(src_path)
    tk, sk = _stem_key(test_path), _stem_key(src_path)
    if sk and sk in (tk, _ISSUE.sub("", tk)) and sk not in _INDEX_STEMS:
        return True
    if tk in _INDEX_STEMS or sk in _INDEX_STEMS or sk == "":
        # a package's index pairs with a test named after its folder
        return tk == s.parent.name.lower() or sk == t.parent.name.lower()
    return False


@functools.lru_cache(maxsize=65_536)
def package_of(path: str) -> str | None:
    """The package a file belongs to, where a language convention makes that a folder.

    Go: the file's folder (tests sit next to the code). Java: the folder below
    ``src/main/java`` or ``src/test/java`` of the same module, so a test and the code it tests
    share a package although they live in two trees.
    """
    parent = str(PurePosixPath(path).parent)
    if path.endswith(".go"):
        return "go:" + parent
    if path.endswith(".java"):
        m = _JVM_ROOT.search(parent + "/")
        if m is None:
            return None
        return "java:" + parent[: m.start()] + "|" + (parent + "/")[m.end() :]
    return None
