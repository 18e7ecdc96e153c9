"""Rule-by-rule tests of conformance.wire.sse (WHATWG "Parsing an event stream").

The `WPT` streams mirror web-platform-tests/wpt eventsource/format-*: their server
(resources/message.py) sends `message` + `newline` (default "\\n\\n") + "\\n", so each stream
below is the test's message with that suffix spelled out.
"""

from __future__ import annotations

import dataclasses

import pytest

from conformance.wire.sse import (
    EXCERPT_MAX,
    Event,
    EventStreamValidator,
    Violation,
    format_violation,
    validate,
)

DEFAULT_END = b"\n\n\n"  # message.py's default newline + its final "\n"
NONE_END = b"\n"  # newline=none


@dataclasses.dataclass
class Run:
    """The events of one validated stream; other attributes come from its validator."""
    events: list[Event]
    validator: EventStreamValidator

    def __getattr__(self, name):
        return getattr(self.validator, name)


def run(body: bytes, chunk_size: int | None = None, **kw) -> Run:
    v = EventStreamValidator(**kw)
    step = chunk_size or max(len(body), 1)
    events: list[Event] = []
    for i in range(0, len(body), step):
        events += v.feed(body[i:i + step])
    events += v.close()
    return Run(events, v)


def summary(events: list[Event]) -> list[tuple]:
    return [(e.type, e.data, e.last_event_id, e.retry) for e in events]


def codes(violations: list[Violation]) -> list[tuple[str, int, bytes]]:
    return [(v.code, v.offset, v.excerpt) for v in violations]


# -- web-platform-tests eventsource/format-* --------------------------------------------

LONG = b"x" * 2048
WPT = {
    # format-bom: the first BOM is stripped, the second is part of a field name.
    "format-bom": (
        b"\xef\xbb\xbfdata:1\n\n\xef\xbb\xbfdata:2\n\ndata:3" + DEFAULT_END,
        [("message", "1", "", None), ("message", "3", "", None)],
        [("unknown-field", 11, b"\xef\xbb\xbfdata:2")],
    ),
    # format-bom-2: two BOMs: only one is stripped, so "data:1" is lost.
    "format-bom-2": (
        b"\xef\xbb\xbf\xef\xbb\xbfdata:1\n\ndata:2\n\ndata:3" + DEFAULT_END,
        [("message", "2", "", None), ("message", "3", "", None)],
        [("unknown-field", 3, b"\xef\xbb\xbfdata:1")],
    ),
    # format-comments: comments (with NUL, CR, long ones) between data lines.
    "format-comments": (
        b"data:1\r:\0\n:\r\ndata:2\n:" + LONG + b"\rdata:3\n:data:fail\r:" + LONG
        + b"\ndata:4\n" + NONE_END,
        [("message", "1\n2\n3\n4", "", None)],
        [],
    ),
    # format-data-before-final-empty-line: the last event never gets its blank line.
    "format-data-before-final-empty-line": (
        b"retry:1000\ndata:test1\n\nid:test\ndata:test2" + NONE_END,
        [("message", "test1", "", 1000)],
        [("unterminated-event", 23, b"id:test\ndata:test2\n")],
    ),
    # format-field-data: "data:" is an empty line of data; "data" alone too.
    "format-field-data": (
        b"data:\n\ndata\ndata\n\ndata:test" + DEFAULT_END,
        [("message", "", "", None), ("message", "\n", "", None), ("message", "test", "", None)],
        [],
    ),
    # format-field-event-empty: an empty event type means "message".
    "format-field-event-empty": (
        b"event: \ndata:data" + DEFAULT_END,
        [("message", "data", "", None)],
        [],
    ),
    # format-field-event: the type applies to its own event only.
    "format-field-event": (
        b"event:test\ndata:x\n\ndata:x" + DEFAULT_END,
        [("test", "x", "", None), ("message", "x", "", None)],
        [],
    ),
    # format-field-id (resources/last-event-id.py, first connection).
    "format-field-id": (
        "id: …\nretry: 200\ndata: hello\n\n".encode(),
        [("message", "hello", "…", 200)],
        [],
    ),
    # format-field-id-3 (resources/last-event-id2.py): the id persists ...
    "format-field-id-3-persists": (
        b"id: 1\ndata: 1\n\ndata:2\n\n",
        [("message", "1", "1", None), ("message", "2", "1", None)],
        [],
    ),
    # ... changes and persists ...
    "format-field-id-3-changes": (
        b"id: 1\ndata: 1\n\nid: 2\ndata:2\n\ndata:3\n\n",
        [("message", "1", "1", None), ("message", "2", "2", None), ("message", "3", "2", None)],
        [],
    ),
    # ... and an empty id resets it.
    "format-field-id-3-resets": (
        b"id: 1\ndata: 1\n\nid:\ndata:2\n\ndata:3\n\n",
        [("message", "1", "1", None), ("message", "2", "", None), ("message", "3", "", None)],
        [],
    ),
    # format-field-id-null: an id containing NUL is ignored.
    "format-field-id-null": (
        b"id: \0\0\nretry: 200\ndata: hello\n\n",
        [("message", "hello", "", 200)],
        [],
    ),
    # format-field-parsing: case, NUL and punctuation make other (unknown) field names.
    "format-field-parsing": (
        b"data:\0\ndata:  2\rData:1\ndata\0:2\ndata:1\r\0data:4\nda-ta:3\rdata_5\ndata:3\r"
        b"data:\r\n data:32\ndata:4\n" + NONE_END,
        [("message", "\0\n 2\n1\n3\n\n4", "", None)],
        [("unknown-field", 16, b"Data:1"), ("unknown-field", 23, b"data\0:2"),
         ("unknown-field", 38, b"\0data:4"), ("unknown-field", 46, b"da-ta:3"),
         ("unknown-field", 54, b"data_5"), ("unknown-field", 75, b" data:32")],
    ),
    # format-field-retry-bogus: "1000x" is ignored, 2000 stays.
    "format-field-retry-bogus": (
        b"retry:2000\nretry:1000x\ndata:x" + DEFAULT_END,
        [("message", "x", "", 2000)],
        [("bad-retry", 11, b"retry:1000x")],
    ),
    # format-field-retry: leading zeros are decimal, not octal.
    "format-field-retry": (
        b"retry:02000\ndata:x" + DEFAULT_END,
        [("message", "x", "", 2000)],
        [],
    ),
    # format-field-retry-empty: "retry" with no value is ignored.
    "format-field-retry-empty": (
        b"retry\ndata:test" + DEFAULT_END,
        [("message", "test", "", None)],
        [("bad-retry", 0, b"retry")],
    ),
    # format-field-unknown: unknown names, a line without colon, a comment.
    "format-field-unknown": (
        b"data:test\n data\ndata\nfoobar:xxx\njustsometext\n:thisisacommentyay\ndata:test"
        + DEFAULT_END,
        [("message", "test\n\ntest", "", None)],
        [("unknown-field", 10, b" data"), ("unknown-field", 21, b"foobar:xxx"),
         ("unknown-field", 32, b"justsometext")],
    ),
    # format-leading-space: only one space is stripped; a tab is kept; CR ends a line.
    "format-leading-space": (
        b"data:\ttest\rdata: \ndata:test" + DEFAULT_END,
        [("message", "\ttest\n\ntest", "", None)],
        [],
    ),
    # format-newlines: CRLF, LF and CR mixed; the final "\r" + "\n" is one (CRLF) line end.
    "format-newlines": (
        b"data:test\r\ndata\ndata:test\r\n\r" + NONE_END,
        [("message", "test\n\ntest", "", None)],
        [],
    ),
    # format-null-character: NUL is data like any other character.
    "format-null-character": (
        b"data:\0\n\n" + DEFAULT_END,
        [("message", "\0", "", None)],
        [],
    ),
    # format-utf-8: always UTF-8, whatever the charset says.
    "format-utf-8": (
        b"data:ok\xe2\x80\xa6" + DEFAULT_END,
        [("message", "ok…", "", None)],
        [],
    ),
}


@pytest.mark.parametrize("name", WPT)
def test_wpt_format_streams(name):
    body, events, violations = WPT[name]
    v = run(body)
    assert summary(v.events) == events
    assert codes(v.violations) == violations


@pytest.mark.parametrize("name", WPT)
def test_wpt_streams_split_at_every_byte_position(name):
    body = WPT[name][0]
    whole = run(body)
    for cut in range(1, len(body)):
        v = EventStreamValidator()
        events = v.feed(body[:cut]) + v.feed(body[cut:]) + v.close()
        assert events == whole.events, cut
        assert v.violations == whole.violations, cut
    bytewise = run(body, chunk_size=1)
    assert bytewise.events == whole.events
    assert bytewise.violations == whole.violations
    assert (bytewise.events_seen, bytewise.data_events) == (whole.events_seen, whole.data_events)


def test_bom_stripped_once_even_when_split():
    body = b"\xef\xbb\xbfdata: x\n\n"
    for size in (1, 2, 3, 4):
        v = run(body, chunk_size=size)
        assert summary(v.events) == [("message", "x", "", None)]
        assert v.events[0].offset == 3
        assert v.violations == []


def test_bom_only_at_stream_start():
    # A BOM after the first byte is an ordinary (invalid-name) character sequence.
    v = run(b"data: a\n\n\xef\xbb\xbfdata: b\n\n")
    assert summary(v.events) == [("message", "a", "", None)]
    assert codes(v.violations) == [("unknown-field", 9, b"\xef\xbb\xbfdata: b")]


def test_truncated_bom_is_invalid_utf8():
    v = run(b"\xef\xbbdata: x\n\n")
    assert summary(v.events) == []  # the field name is "\ufffddata"
    assert [x.code for x in v.violations] == ["invalid-utf8", "unknown-field", "no-data-event"]
    assert v.violations[0].offset == 0


# -- fields ------------------------------------------------------------------------------

@pytest.mark.parametrize("line, value", [
    (b"data:x", "x"),
    (b"data: x", "x"),
    (b"data:  x", " x"),  # exactly one space is stripped
    (b"data:\tx", "\tx"),  # a tab is not a space
    (b"data: x: y", "x: y"),  # only the first colon splits
    (b"data", ""),  # no colon: empty value
    (b"data:", ""),
    (b"data: ", ""),
])
def test_data_value(line, value):
    v = run(line + b"\n\n")
    assert summary(v.events) == [("message", value, "", None)]
    assert v.violations == []


def test_data_lines_join_with_lf():
    v = run(b"data: a\ndata\ndata: c\n\n")
    assert v.events[0].data == "a\n\nc"


@pytest.mark.parametrize("body, last_ids", [
    (b"id: 7\ndata: a\n\ndata: b\n\n", ["7", "7"]),  # persists across events
    (b"id:7\ndata: a\n\nid\ndata: b\n\n", ["7", ""]),  # "id" alone resets it
    (b"id:  7\ndata: a\n\n", [" 7"]),  # one leading space stripped, not two
    (b"id: 7\ndata: a\n\nid: 8\x00\ndata: b\n\n", ["7", "7"]),  # NUL: ignored
    (b"data: a\nid: 9\n\n", ["9"]),  # order within the group does not matter
    (b"id: 1\n\ndata: a\n\n", ["1"]),  # an id-only group still sets the buffer
])
def test_id_field(body, last_ids):
    v = run(body)
    assert [e.last_event_id for e in v.events] == last_ids
    assert v.violations == []


def test_retry_field():
    v = run(b"retry: 3000\ndata: a\n\ndata: b\n\nretry: 10\n\ndata: c\n\n")
    # retry belongs to the group it is in; the stream-level value is the last valid one.
    assert [e.retry for e in v.events] == [3000, None, None]
    assert v.reconnection_time == 10
    assert v.violations == []


@pytest.mark.parametrize("line", [
    b"retry: abc", b"retry:", b"retry", b"retry: -1", b"retry: 1.5", b"retry: +5",
    b"retry: 5 ", b"retry:  5", "retry: ١٢".encode(), "retry: ²".encode(),
])
def test_bad_retry(line):
    v = run(b"data: a\n" + line + b"\n\n")
    assert summary(v.events) == [("message", "a", "", None)]
    assert codes(v.violations) == [("bad-retry", 8, line)]
    assert v.violations[0].severity == "error"
    assert v.reconnection_time is None


def test_absurdly_long_retry_does_not_crash():
    digits = b"9" * 5000  # beyond int()'s 4300-digit guard
    v = run(b"retry: " + digits + b"\ndata: a\n\nretry: " + digits + b"\n")
    assert v.events[0].retry == int("9" * 4000) * 10**1000 + int("9" * 1000)
    assert v.reconnection_time == v.events[0].retry
    assert v.violations == []


def test_event_field():
    v = run(b"event: token\ndata: a\n\ndata: b\n\nevent:\ndata: c\n\nevent: x\n\ndata: d\n\n")
    assert [e.type for e in v.events] == ["token", "message", "message", "message"]


def test_unknown_field_is_a_warning_reported_once_per_name():
    v = run(b"foo: 1\ndata: a\n\nfoo: 2\nbar\ndata: b\n\n")
    assert len(v.events) == 2
    assert codes(v.violations) == [("unknown-field", 0, b"foo: 1"), ("unknown-field", 23, b"bar")]
    assert {x.severity for x in v.violations} == {"warning"}
    assert v.errors == []


def test_comments_are_ignored():
    v = run(b": hello\ndata: a\n:\n: data: b\n\n:only a comment\n\n")
    assert summary(v.events) == [("message", "a", "", None)]
    assert v.violations == []
    assert v.events_seen == 1  # a comment-only group is not an event


# -- line ends and dispatch ----------------------------------------------------------------

@pytest.mark.parametrize("eol", [b"\n", b"\r", b"\r\n"])
def test_each_line_end(eol):
    body = eol.join([b"id: 1", b"data: a", b"data: b", b"", b": c", b"data: c", b"", b""])
    v = run(body)
    assert summary(v.events) == [("message", "a\nb", "1", None), ("message", "c", "1", None)]
    assert v.violations == []
    assert v.events[0].offset == 0
    assert v.events[0].end == len(eol.join([b"id: 1", b"data: a", b"data: b", b"", b""]))


def test_mixed_line_ends_in_one_stream():
    body = b"data: a\r\ndata: b\rdata: c\n\r\ndata: d\r\r: x\n\n"
    v = run(body)
    assert summary(v.events) == [("message", "a\nb\nc", "", None), ("message", "d", "", None)]
    assert [(e.offset, e.end) for e in v.events] == [(0, 27), (27, 36)]


def test_blank_lines_dispatch_only_with_data():
    v = run(b"\n\n\nevent: x\nid: 5\n\n\ndata: a\n\n\n\n")
    assert summary(v.events) == [("message", "a", "5", None)]
    assert v.events_seen == 2  # the id/event-only group counts, but is not dispatched
    assert v.data_events == 1
    assert v.violations == []


def test_event_offsets_and_ends():
    body = b": ping\n\nid: 1\ndata: a\n\n\n\ndata: b\r\n\r\n"
    v = run(body)
    # offset: the event's first line; end: just after the blank line that dispatched it.
    assert [(e.offset, e.end) for e in v.events] == [(8, 23), (25, 36)]
    assert body[8:23] == b"id: 1\ndata: a\n\n"
    assert body[25:36] == b"data: b\r\n\r\n"


def test_cr_at_chunk_end_then_lf_is_one_line_end():
    v = EventStreamValidator()
    assert v.feed(b"data: a\r") == []
    assert v.feed(b"\n\r") == []  # the blank line's CR may still be followed by an LF
    events = v.feed(b"\n")
    assert summary(events) == [("message", "a", "", None)]
    assert events[0].end == 11  # one CRLF blank line, not "\r" then "\n" (two lines)
    assert v.close() == []
    assert v.violations == []


def test_cr_at_chunk_end_without_lf_is_a_line_end():
    v = EventStreamValidator()
    assert v.feed(b"data: a\r\r") == []
    events = v.feed(b"data: b\r\r")  # the held CR was a line end on its own
    assert summary(events) == [("message", "a", "", None)]
    assert events[0].end == 9
    assert summary(v.close()) == [("message", "b", "", None)]  # a final CR ends its line
    assert v.violations == []


def test_event_is_returned_by_the_chunk_that_completes_it():
    v = EventStreamValidator()
    assert v.feed(b"data: a\n") == []
    assert summary(v.feed(b"\ndata: b")) == [("message", "a", "", None)]
    assert v.feed(b"\n") == []
    assert summary(v.feed(b"\n")) == [("message", "b", "", None)]


def test_multibyte_utf8_split_across_chunks():
    body = "data: é日本🙂\n\n".encode()
    for cut in range(1, len(body)):
        v = EventStreamValidator()
        events = v.feed(body[:cut]) + v.feed(body[cut:]) + v.close()
        assert summary(events) == [("message", "é日本🙂", "", None)], cut
        assert v.violations == []


def test_huge_event_in_small_chunks():
    lines = [b"data: %d" % i for i in range(5000)]
    body = b"\n".join(lines) + b"\n\n"
    v = run(body, chunk_size=7)
    assert v.events[0].data == "\n".join(str(i) for i in range(5000))
    assert v.violations == []


# -- sse-starlette framing -----------------------------------------------------------------

def test_sse_starlette_crlf_framing_with_pings():
    ping = b": ping - 2024-05-01 12:00:00.123456+00:00\r\n\r\n"
    body = (
        ping
        + b"id: 1\r\nevent: token\r\ndata: {\"t\":\"Hel\"}\r\nretry: 15000\r\n\r\n"
        + ping
        + b"id: 2\r\nevent: token\r\ndata: line 1\r\ndata: line 2\r\n\r\n"
        + b": comment only\r\ndata: [DONE]\r\n\r\n"
        + ping
    )
    v = run(body)
    assert summary(v.events) == [
        ("token", '{"t":"Hel"}', "1", 15000),
        ("token", "line 1\nline 2", "2", None),
        ("message", "[DONE]", "2", None),
    ]
    assert v.violations == []
    assert v.reconnection_time == 15000
    for size in (1, 2, 5, 64):
        chunked = run(body, chunk_size=size)
        assert chunked.events == v.events and chunked.violations == []


# -- end of stream ---------------------------------------------------------------------------

def test_unterminated_event_at_end_of_stream():
    body = b"data: a\n\nid: 2\ndata: b\n"
    v = run(body)
    assert summary(v.events) == [("message", "a", "", None)]
    assert codes(v.violations) == [("unterminated-event", 9, b"id: 2\ndata: b\n")]
    assert v.violations[0].severity == "error"


def test_final_line_without_line_end():
    v = run(b"data: a\n\ndata: b")
    assert summary(v.events) == [("message", "a", "", None)]
    assert codes(v.violations) == [("unterminated-event", 9, b"data: b")]
    assert "no line end" in v.violations[0].message


def test_final_comment_without_line_end_is_still_an_unended_line():
    v = run(b"data: a\n\n: bye")
    assert codes(v.violations) == [("unterminated-event", 9, b": bye")]


@pytest.mark.parametrize("body", [
    b"data: a\n\n: bye\n",
    b"data: a\n\n\n\n",
    b"data: a\r\n\r\n: ping\r\n\r\n",
    b"data: a\n\nid: 5\n",  # an unclosed group without data loses nothing visible
])
def test_trailing_comments_and_blank_lines_are_fine(body):
    v = run(body)
    assert summary(v.events)[0][1] == "a"
    assert v.violations == []


def test_unterminated_excerpt_is_bounded():
    body = b"data: " + b"x" * 500 + b"\n"
    v = run(body)
    (unterminated, no_data) = v.violations
    assert unterminated.code == "unterminated-event"
    assert unterminated.excerpt == body[:EXCERPT_MAX]
    assert no_data.code == "no-data-event"


@pytest.mark.parametrize("body", [
    b"",
    b": ping\n\n: ping\n\n",
    b"id: 1\n\nevent: x\n\n",  # groups without data are never dispatched
    b"data: never closed\n",
])
def test_no_data_event(body):
    v = run(body)
    assert v.events == []
    assert v.violations[-1].code == "no-data-event"
    assert v.violations[-1].severity == "error"
    assert v.violations[-1].excerpt == body[:EXCERPT_MAX]


# -- UTF-8 -------------------------------------------------------------------------------------

def test_invalid_utf8_is_reported_and_replaced():
    body = b"data: ok\n\ndata: caf\xe9!\n\n"
    v = run(body)
    assert summary(v.events) == [("message", "ok", "", None), ("message", "caf\ufffd!", "", None)]
    assert codes(v.violations) == [("invalid-utf8", 19, b"data: caf\xe9!")]
    assert "b'\\xe9'" in v.violations[0].message


def test_invalid_utf8_one_report_per_line_and_in_every_part_of_the_stream():
    # bad bytes in data, in a comment, in a field name, and in an unended final line
    body = b"data: \xff\xff\xff\n:\xfe\n\n\xc3(\n\ndata: \xe2\x82"
    v = run(body)
    assert [(x.code, x.offset) for x in v.violations] == [
        ("invalid-utf8", 6), ("invalid-utf8", 11), ("invalid-utf8", 14), ("unknown-field", 14),
        ("unterminated-event", 18), ("invalid-utf8", 24),
    ]
    assert v.events[0].data == "\ufffd\ufffd\ufffd"
    assert v.violations[5].excerpt == b"data: \xe2\x82"


def test_invalid_utf8_excerpt_is_bounded():
    body = b"data: " + b"a" * 200 + b"\xff" + b"b" * 200 + b"\n\n"
    v = run(body)
    (bad,) = v.violations
    assert bad.offset == 206
    assert len(bad.excerpt) <= EXCERPT_MAX
    assert b"\xff" in bad.excerpt


# -- reporting ---------------------------------------------------------------------------------

def test_max_violations_cap_and_counts():
    body = b"".join(b"retry: x%d\ndata: a\n\n" % i for i in range(150))
    v = run(body, max_violations=100)
    assert len(v.violations) == 100
    assert v.dropped == 50
    assert v.counts == {"bad-retry": 150}
    assert v.error_count == 150
    assert len(v.events) == 150


def test_errors_displace_warnings_at_the_cap():
    body = b"".join(b"f%d: 1\ndata: a\n\n" % i for i in range(10)) + b"retry: x\ndata: b\n\n"
    v = run(body, max_violations=10)
    assert len(v.violations) == 10
    assert [x.code for x in v.errors] == ["bad-retry"]
    assert v.counts == {"unknown-field": 10, "bad-retry": 1}
    assert v.dropped == 1


def test_violations_are_in_stream_order():
    body = b"retry: x\ndata: \xff\n\nfoo\ndata: a\n\n"
    v = run(body)
    assert [x.offset for x in v.violations] == sorted(x.offset for x in v.violations)
    assert [x.code for x in v.violations] == ["bad-retry", "invalid-utf8", "unknown-field"]


def test_format_violation():
    (v,) = run(b"data: a\n\ndata: x\n").violations
    assert format_violation(v) == (
        "byte 9: unterminated-event: event is not closed by a blank line before the stream "
        "ends; clients discard it; offending bytes: b'data: x\\n'"
    )


def test_validate_helper_and_counters():
    body = b"data: a\n\nid: 1\n\ndata: b\n\n"
    events, violations = validate(body, chunk_size=3)
    assert summary(events) == [("message", "a", "", None), ("message", "b", "1", None)]
    assert violations == []
    v = run(body)
    assert (v.events_seen, v.data_events, v.bytes_seen) == (3, 2, len(body))


def test_event_is_frozen():
    (event,) = validate(b"data: a\n\n")[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.data = "b"  # type: ignore[misc]
    assert event == Event("message", "a", "", None, 0, 9)


def test_feed_after_close_is_an_error():
    v = EventStreamValidator()
    v.close()
    with pytest.raises(RuntimeError):
        v.feed(b"data: a\n\n")
    assert v.close() == []  # idempotent
