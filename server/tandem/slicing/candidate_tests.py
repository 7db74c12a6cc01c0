"""The files whose tests may relate to a change: test files of the changed languages, read once."""

from __future__ import annotations

from tandem.slicing.files import RepoFiles
from tandem.slicing.index import RepoIndex
from tandem.slicing.languages import FAMILY
from tandem.slicing.records import FileRecord
from tandem.slicing.units import is_test_file

# Where any file may hold tests, a test marker picks the files worth parsing.
_TEST_MARKERS: dict[str, tuple[bytes, ...]] = {
    "rust": (b"#[test", b"test]", b"cfg(test)"),
    "java": (b"@Test", b"@ParameterizedTest", b"@RepeatedTest", b"@TestFactory", b"TestCase"),
}


def records_with_tests(
    index: RepoIndex,
    walk: RepoFiles,
    records: dict[str, FileRecord],
    families: set[str],
    warnings: list[str],
) -> list[FileRecord]:
    """The records that may hold related tests: test files in the changed ``families`` (the
    changed files' language families), then changed files that hold tests of their own."""
    out = _test_files(index, walk, families, set(records), warnings)
    for path, rec in records.items():
        if path not in {r.path for r in out} and any(u.is_test for u in rec.units):
            out.append(rec)
    return out


def _test_files(
    index: RepoIndex,
    walk: RepoFiles,
    families: set[str],
    changed: set[str],
    warnings: list[str],
) -> list[FileRecord]:
    wanted: list[str] = []
    for rel in walk.files:
        language = walk.languages[rel]
        family = FAMILY[language]
        if family not in families:
            continue
        if family != "rust" and not is_test_file(rel, language):
            continue
        markers = _TEST_MARKERS.get(family)
        if markers and rel not in changed and not _has_marker(index, rel, markers):
            continue
        wanted.append(rel)
    index.prefetch(wanted)  # read once, one query to the shared store
    out: list[FileRecord] = []
    for rel in wanted:
        rec = index.record(rel)
        if isinstance(rec, str):
            if "language not supported" not in rec:
                warnings.append(rec)
            continue
        out.append(rec)
    return out


def _has_marker(index: RepoIndex, rel: str, markers: tuple[bytes, ...]) -> bool:
    """Whether the file holds a test marker; a record the index holds answers without a read
    (markers are ASCII, which decoding, even with replacement characters, leaves as it is)."""
    known = index.known(rel)
    if isinstance(known, FileRecord):
        found = _MARKER_HITS.get((known.blob, markers))
        if found is None:
            data = known.text.encode("utf-8")
            found = _MARKER_HITS[(known.blob, markers)] = any(m in data for m in markers)
            if len(_MARKER_HITS) > 50_000:
                _MARKER_HITS.clear()
        return found
    try:
        data = (index.repo / rel).read_bytes()
    except OSError:
        return False
    return any(m in data for m in markers)


# (blob id, markers) -> found: a file version is searched once per process.
_MARKER_HITS: dict[tuple[str, tuple[bytes, ...]], bool] = {}
