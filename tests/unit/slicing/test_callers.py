"""The source lookup finds whole identifiers only, exactly like a look-behind regex would."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from tandem.slicing.callers import _mentions, _pattern

NAMES = ["feed", "Parser", "a.b", "b", "x$y", "_tmp", "feed_all"]
TEXT = st.lists(
    st.sampled_from([*NAMES, "x", "_", "$", ".", " ", "(", "\n", "é", "9"]), max_size=12
).map("".join)


@settings(max_examples=200, deadline=None)
@given(names=st.lists(st.sampled_from(NAMES), min_size=1, max_size=3), text=TEXT)
def test_mentions_agree_with_a_look_behind_regex(names: list[str], text: str) -> None:
    pattern = _pattern(names)
    assert pattern is not None
    alternatives = b"|".join(
        re.escape(n.encode()) for n in sorted(set(names), key=len, reverse=True)
    )
    reference = re.compile(rb"(?<![\w$])(?:" + alternatives + rb")(?![\w$])")
    data = text.encode()
    assert _mentions(pattern, data) == (reference.search(data) is not None)


def test_a_name_inside_a_longer_identifier_is_not_a_mention() -> None:
    pattern = _pattern(["feed"])
    assert pattern is not None
    assert not _mentions(pattern, b"refeed(); feeder(); $feed")
    assert _mentions(pattern, b"x = refeed + feed(1)")
