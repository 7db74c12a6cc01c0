"""What a cold slice skips: files it need not parse, and caches that still follow every change."""

from __future__ import annotations

from slice_repos import RepoBuilder

from tandem.config import Settings
from tandem.slicing import slice_repository
from tandem.slicing.index import RepoIndex
from tandem.slicing.records import identifiers
from tandem.slicing.result import FileRangeAnchor


def test_only_sibling_files_up_to_the_first_that_may_define_a_callee_are_parsed(
    make_repo: RepoBuilder,
) -> None:
    repo = make_repo(
        {
            "pkg/a.py": "def run(x):\n    return helper(x) + 1\n",
            "pkg/b.py": "def helper(x: int) -> int:\n    return x * 2\n",
            "pkg/c.py": "def unrelated(y: int) -> int:\n    return y\n",
            "pkg/ab.py": "helpers = [1]\n",  # spells it only inside another name
            "pkg/d.py": "def helper(x: int) -> str:\n    return str(x)\n",  # after the first
        }
    )
    settings = Settings()
    index = RepoIndex(repo, settings.context.max_file_bytes)
    anchor = FileRangeAnchor(path="pkg/a.py", start_line=2, end_line=2)
    result = slice_repository(repo, anchor, settings, index=index)
    assert [(c.path, c.signature) for c in result.callees] == [
        ("pkg/b.py", "def helper(x: int) -> int")
    ]
    assert index.known("pkg/b.py") is not None
    for unparsed in ("pkg/c.py", "pkg/ab.py", "pkg/d.py"):  # read for the name at most
        assert index.known(unparsed) is None, unparsed


def test_identifiers_are_ascii_names_and_other_bytes_split_them() -> None:
    data = "naïve_x = $el + café2 # h\xe9\n".encode() + b"\xff\xfeok_1"
    assert identifiers(data) == frozenset({"na", "ve_x", "$el", "caf", "h", "ok_1"})
