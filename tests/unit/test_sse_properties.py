"""Hypothesis properties of conformance.wire.sse.

1. Round trip: random events, serialised with random line ends, comments, optional BOM, cut
   at random chunk boundaries, parse back to exactly those events with no violation.
2. The same valid streams give the same events as httpx-sse (minus its phantom events).
3. On arbitrary byte soup, chunking never changes anything, and the events match a slow,
   literal transcription of the WHATWG algorithm.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st
from httpx_sse._decoders import SSEDecoder, SSELineDecoder

from conformance.wire.sse import BOM, Event, EventStreamValidator

SETTINGS = settings(deadline=None, database=None, max_examples=150)
SOUP_SETTINGS = settings(deadline=None, database=None, max_examples=600)

# Text without line ends; non-ASCII and NUL included (NUL is fine in data and event names).
line_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=12)
id_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\0"), max_size=8)
EOLS = ("\r\n", "\n", "\r")


@dataclass
class Group:
    """One blank-line-closed group: an event (data is not None) or a data-less group."""
    data: list[str] | None  # data lines
    type: str | None
    id: str | None
    retry: int | None
    comments: list[str]


groups = st.builds(
    Group,
    data=st.one_of(st.none(), st.lists(line_text, min_size=1, max_size=3)),
    type=st.one_of(st.none(), line_text),
    id=st.one_of(st.none(), id_text),
    retry=st.one_of(st.none(), st.integers(0, 10**6)),
    comments=st.lists(line_text, max_size=2),
)


@st.composite
def streams(draw):
    """(body, expected events, the groups) for a random valid stream."""
    plan = draw(st.lists(groups, max_size=6).filter(lambda gs: any(g.data for g in gs)))
    bom = draw(st.booleans())
    out = [BOM] if bom else []
    pos = len(out[0]) if bom else 0
    prev_eol = ""
    expected: list[Event] = []
    last_id = ""

    def emit(line: str) -> None:
        nonlocal pos, prev_eol
        eol = draw(st.sampled_from(EOLS))
        if prev_eol == "\r" and not line and eol == "\n":
            eol = "\r\n"  # "\r" then "\n" would read as one CRLF: keep the blank line
        raw = (line + eol).encode()
        out.append(raw)
        pos += len(raw)
        prev_eol = eol

    def field(name: str, value: str) -> None:
        # "name:value" and "name: value" mean the same unless the value starts with a space.
        if value.startswith(" ") or draw(st.booleans()):
            emit(f"{name}: {value}")
        else:
            emit(f"{name}:{value}")

    for g in plan:
        start = pos
        lines: list[tuple[str, str | None]] = [(":" + c, None) for c in g.comments]
        if g.id is not None:
            lines.append(("id", g.id))
        if g.type is not None:
            lines.append(("event", g.type))
        if g.retry is not None:
            lines.append(("retry", str(g.retry)))
        lines += [("data", d) for d in g.data or []]
        data_lines = iter(g.data or [])
        for name, value in draw(st.permutations(lines)):  # any order, but data lines keep theirs
            if name == "data":
                value = next(data_lines)
            if value is None:
                emit(name)  # a comment
            else:
                field(name, value)
        if g.id is not None:
            last_id = g.id
        emit("")
        if g.data is not None:
            expected.append(Event(g.type or "message", "\n".join(g.data), last_id, g.retry,
                                  start, pos))
    if draw(st.booleans()):
        emit(": bye")  # a trailing comment is fine
    return b"".join(out), expected, plan


def cut_points():
    """Chunk boundaries, taken modulo the body length."""
    return st.lists(st.integers(0, 10**6), max_size=8)


def feed_in_chunks(body: bytes, cuts: list[int]) -> tuple[list[Event], EventStreamValidator]:
    bounds = sorted({c % (len(body) + 1) for c in cuts} | {0, len(body)})
    v = EventStreamValidator()
    events: list[Event] = []
    for a, b in zip(bounds, bounds[1:]):
        events += v.feed(body[a:b])
    events += v.close()
    return events, v


@SETTINGS
@given(streams(), cut_points())
def test_round_trip(stream, cuts):
    body, expected, _ = stream
    events, v = feed_in_chunks(body, cuts)
    assert events == expected
    assert v.violations == []
    assert v.data_events == len(expected)


def httpx_sse_events(body: bytes, cuts: list[int]) -> list[tuple]:
    """What an httpx-sse client sees: httpx's incremental UTF-8 decode, then
    SSELineDecoder, then SSEDecoder.decode per line (as in httpx_sse._api)."""
    bounds = sorted({c % (len(body) + 1) for c in cuts} | {0, len(body)})
    text = codecs.getincrementaldecoder("utf-8")(errors="replace")
    lines = SSELineDecoder()
    decoder = SSEDecoder()
    seen = []

    def decode(line: str) -> None:
        # httpx-sse emits an event at every blank line after *any* field, even with no
        # data (upstream issue #35: "phantom" events after id-only / retry-only groups,
        # and after every comment-only group once an id was seen). Per the spec those
        # groups dispatch nothing, so drop what it emits when its data buffer is empty.
        phantom = not line and not decoder._data
        sse = decoder.decode(line)
        if sse is not None and not phantom:
            seen.append((sse.event, sse.data, sse.id, sse.retry))

    for a, b in zip(bounds, bounds[1:]):
        for line in lines.decode(text.decode(body[a:b])) if a < b else []:
            decode(line)
    rest = text.decode(b"", True)
    for line in (lines.decode(rest) if rest else []) + lines.flush():
        decode(line)
    return seen


@SETTINGS
@given(streams(), cut_points())
def test_same_events_as_httpx_sse(stream, cuts):
    body, expected, _ = stream
    ours, _ = feed_in_chunks(body, cuts)
    # httpx-sse does not strip the BOM (httpx decodes with plain "utf-8"), so the first
    # field name would read "\ufeffdata": compare on the stream without it.
    theirs = httpx_sse_events(body.removeprefix(BOM), cuts)
    assert [(e.type, e.data, e.last_event_id, e.retry) for e in ours] == theirs


def test_httpx_sse_phantom_event_is_real():
    """Guard for the filter above: if httpx-sse fixes issue #35, this starts failing."""
    decoder = SSEDecoder()
    assert decoder.decode("id: 1") is None
    assert decoder.decode("") is not None  # an event with no data field
    v = EventStreamValidator()
    assert v.feed(b"id: 1\n\n") == []


# -- arbitrary bytes ---------------------------------------------------------------------

# Line-shaped soup: plausible and broken field names, separators, values (NUL, invalid and
# truncated UTF-8), any line end (or none, gluing lines), blank lines, BOMs.
NAMES = [b"data", b"data", b"event", b"id", b"retry", b"", b"", b"dat", b"Data", b"x",
         b"\xef\xbb\xbfdata", b"\xffid"]
SEPS = [b"", b":", b": ", b": ", b":  "]
VALUES = [b"x", b"7", b"12", b"\0", b" ", b"\t", b":", b"\xc3\xa9", b"\xff", b"\xe2\x82", b"\xac"]
LINE_ENDS = [b"\n", b"\r", b"\r\n", b"\n", b"\r\n", b""]
line = st.one_of(
    st.tuples(st.sampled_from(NAMES), st.sampled_from(SEPS),
              st.lists(st.sampled_from(VALUES), max_size=3).map(b"".join),
              st.sampled_from(LINE_ENDS)).map(b"".join),
    st.sampled_from([b"\n", b"\r", b"\r\n", b": c\n"]),  # blank lines, comments
)
soup = st.tuples(st.sampled_from([b"", b"", BOM, BOM + BOM, b"\xef\xbb"]),
                 st.lists(line, max_size=16).map(b"".join)).map(b"".join)


def reference(body: bytes) -> tuple[list[tuple], set[str]]:
    """The WHATWG algorithm, transcribed literally (character by character), plus the
    violation codes the validator must report for `body`."""
    codes = set()
    if body.startswith(BOM):
        body = body[3:]
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        codes.add("invalid-utf8")
    text = body.decode("utf-8", "replace")
    lines, line, i = [], "", 0
    while i < len(text):
        ch = text[i]
        if ch == "\r":
            lines.append(line)
            line = ""
            if text[i + 1:i + 2] == "\n":
                i += 1
        elif ch == "\n":
            lines.append(line)
            line = ""
        else:
            line += ch
        i += 1
    if line:  # an unterminated final line: discarded, as the spec says
        codes.add("unterminated-event")
    events, data, etype, last_id, retry = [], "", "", "", None
    for line in lines:
        if line == "":
            if data:
                events.append((etype or "message", data[:-1], last_id, retry))
            data, etype, retry = "", "", None
            continue
        if line.startswith(":"):
            continue
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            data += value + "\n"
        elif name == "event":
            etype = value
        elif name == "id":
            if "\0" not in value:
                last_id = value
        elif name == "retry":
            if value and all(c in "0123456789" for c in value):
                retry = int(value)
            else:
                codes.add("bad-retry")
        else:
            codes.add("unknown-field")
    if data:
        codes.add("unterminated-event")
    if not events:
        codes.add("no-data-event")
    return events, codes


@SOUP_SETTINGS
@given(soup, cut_points())
def test_arbitrary_bytes_match_the_literal_algorithm_and_ignore_chunking(body, cuts):
    whole, v = feed_in_chunks(body, [])
    expected, codes = reference(body)
    assert [(e.type, e.data, e.last_event_id, e.retry) for e in whole] == expected
    assert {x.code for x in v.violations} == codes
    chunked, w = feed_in_chunks(body, cuts)
    assert chunked == whole
    assert w.violations == v.violations
    assert (w.events_seen, w.data_events, w.bytes_seen, w.reconnection_time) == (
        v.events_seen, v.data_events, v.bytes_seen, v.reconnection_time)
