"""The frame decoder recovers every valid frame after garbage, cut-short frames and lies about
length, and never raises or buffers a declared body it will refuse."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from tandem.lsp.transport import MAX_HEADER_BYTES, Frame, FrameDecoder, Skipped


def frame(body: bytes, *, content_type: bool = False) -> bytes:
    extra = b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n" if content_type else b""
    return b"Content-Length: %d\r\n" % len(body) + extra + b"\r\n" + body


def decode(*chunks: bytes) -> list[Frame | Skipped]:
    decoder = FrameDecoder()
    events: list[Frame | Skipped] = []
    for chunk in chunks:
        decoder.feed(chunk)
        events.extend(decoder.events())
    return events


def bodies(events: list[Frame | Skipped]) -> list[bytes]:
    return [event.body for event in events if isinstance(event, Frame)]


def ping(n: int) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": n, "method": "tandem/ping"}).encode()


def test_well_formed_frames_decode_without_skipping_anything() -> None:
    events = decode(frame(ping(1)) + frame(ping(2), content_type=True) + frame(b""))
    assert events == [Frame(ping(1)), Frame(ping(2)), Frame(b"")]


def test_header_names_are_case_insensitive() -> None:
    assert decode(b"content-length: 2\r\n\r\n{}") == [Frame(b"{}")]


def test_a_header_without_content_length_is_skipped_and_the_next_frame_kept() -> None:
    events = decode(b"Content-Type: text/plain\r\n\r\n{}" + frame(ping(1)))
    assert bodies(events) == [ping(1)]
    assert any(isinstance(e, Skipped) and "without a valid" in e.reason for e in events)


def test_a_non_numeric_or_negative_length_is_skipped() -> None:
    for header in (b"Content-Length: abc\r\n\r\n", b"Content-Length: -5\r\n\r\n"):
        assert bodies(decode(header + frame(ping(1)))) == [ping(1)]


def test_a_header_with_no_body_does_not_swallow_the_next_frame() -> None:
    events = decode(b"Content-Length: 40\r\n\r\n" + frame(ping(1)))
    assert bodies(events) == [ping(1)]
    assert any(isinstance(e, Skipped) and "cut short" in e.reason for e in events)


def test_a_truncated_body_does_not_swallow_the_next_frame() -> None:
    events = decode(frame(ping(7))[:-10] + frame(ping(1)) + frame(ping(2)))
    assert bodies(events) == [ping(1), ping(2)]


def test_a_cut_short_frame_is_detected_before_its_declared_length_arrives() -> None:
    decoder = FrameDecoder()
    decoder.feed(b"Content-Length: 200000000\r\n\r\n{" + frame(ping(1)))
    assert bodies(list(decoder.events())) == [ping(1)]


def test_a_huge_declared_length_is_refused_without_reading_the_body() -> None:
    decoder = FrameDecoder(max_body=1000)
    decoder.feed(b"Content-Length: 99999999999999999\r\n\r\n")
    events = list(decoder.events())
    assert len(events) == 1 and isinstance(events[0], Skipped)
    assert "exceeds the limit" in events[0].reason
    decoder.feed(frame(ping(1)))
    assert bodies(list(decoder.events())) == [ping(1)]


def test_garbage_without_a_header_is_dropped_once_it_exceeds_the_header_limit() -> None:
    decoder = FrameDecoder()
    decoder.feed(b"x" * (MAX_HEADER_BYTES * 4))
    assert isinstance(decoder.next_event(), Skipped)
    assert decoder.buffered < 100
    decoder.feed(frame(ping(1)))
    assert bodies(list(decoder.events())) == [ping(1)]


def test_a_large_body_arrives_in_many_chunks() -> None:
    body = json.dumps({"text": "a\nb" * 1_000_000}).encode()
    data = frame(body) + frame(ping(1))
    chunks = [data[i : i + 65536] for i in range(0, len(data), 65536)]
    assert bodies(decode(*chunks)) == [body, ping(1)]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
compact_json = json_values.map(lambda v: json.dumps(v, separators=(",", ":")).encode())
garbage = st.binary(max_size=300).filter(lambda b: b"content-length" not in b.lower())


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


@settings(max_examples=200, deadline=None)
@given(st.lists(compact_json, min_size=1, max_size=5), st.lists(st.integers(0, 10_000)))
def test_any_chunking_of_valid_frames_yields_exactly_those_frames(
    payloads: list[bytes], cuts: list[int]
) -> None:
    data = b"".join(frame(p) for p in payloads)
    assert decode(*split(data, cuts)) == [Frame(p) for p in payloads]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(garbage, compact_json), min_size=1, max_size=4),
    st.lists(st.integers(0, 10_000)),
)
def test_every_valid_frame_after_garbage_is_recovered(
    pieces: list[tuple[bytes, bytes]], cuts: list[int]
) -> None:
    data = b"".join(junk + frame(p) for junk, p in pieces)
    assert bodies(decode(*split(data, cuts))) == [p for _, p in pieces]


@settings(max_examples=300, deadline=None)
@given(compact_json, st.integers(1, 10_000), compact_json, st.lists(st.integers(0, 10_000)))
def test_a_cut_short_frame_costs_only_itself(
    cut: bytes, missing: int, following: bytes, cuts: list[int]
) -> None:
    truncated = frame(cut)[: -(1 + missing % len(cut))]
    data = truncated + frame(following) + frame(ping(1))
    assert bodies(decode(*split(data, cuts))) == [following, ping(1)]


def test_a_body_a_few_bytes_short_does_not_eat_the_next_header() -> None:
    for missing in range(1, 30):
        truncated = frame(ping(7))[:-missing]
        assert bodies(decode(truncated + frame(ping(1)))) == [ping(1)], missing


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=200), max_size=8))
def test_arbitrary_bytes_never_raise_and_a_valid_frame_afterwards_is_recovered(
    chunks: list[bytes],
) -> None:
    events = decode(*chunks, b"\r\n\r\n", frame(ping(1)))
    assert bodies(events)[-1] == ping(1)
