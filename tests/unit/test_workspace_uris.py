"""How the server turns a client's ``file:`` URI back into the path on disk."""

from pathlib import Path

import pytest

from tandem.session.workspaces import path_from_uri


@pytest.mark.parametrize(
    "name", ["plain.py", "with space.py", "%41.py", "100%.py", "é.py", "a#b.py"]
)
def test_a_file_uri_made_from_a_path_reads_back_as_that_very_path(
    tmp_path: Path, name: str
) -> None:
    file = tmp_path / name
    assert path_from_uri(file.as_uri()) == file


def test_a_percent_sequence_in_a_file_name_is_not_decoded_twice(tmp_path: Path) -> None:
    # ``%2541`` is the URI of a file literally named ``%41``, never of one named ``A``
    assert path_from_uri((tmp_path / "%41.py").as_uri()) != tmp_path / "A.py"
    assert (tmp_path / "%41.py").as_uri().endswith("/%2541.py")


def test_a_uri_of_another_scheme_has_no_path() -> None:
    assert path_from_uri("untitled:Untitled-1") is None
    assert path_from_uri("https://example.com/a.py") is None
