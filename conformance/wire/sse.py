"""Event-stream (Server-Sent Events) validator: pure, incremental, bytes in.

Interprets a `text/event-stream` body exactly as the WHATWG HTML rules do ("Parsing an event
stream" / "Interpreting an event stream",
https://html.spec.whatwg.org/multipage/server-sent-events.html) and reports, with byte offsets
and the offending bytes, everything that makes a stream deviate from them (SSE-FRAMING).

How it stays fast (it must beat httpx-sse's own parser on the same bytes):
- It works a group at a time. A *group* is the run of lines closed by a blank line; a chunk
  is interpreted only up to its last complete group, the rest is carried over as raw bytes
  (joined only once a chunk brings a blank line, so a huge event is not re-joined chunk
  after chunk).
- Groups are cut from the bytes with `bytes.split` on the block's line end (a regex only for
  the rare block mixing CR, LF and CRLF), so byte offsets come from group lengths. Each group
  is decoded once (strict: that is the UTF-8 check; only on failure are the bad bytes
  located and the group decoded with errors="replace"). Line ends are ASCII, so decoding
  group by group gives exactly what a browser's whole-stream decode gives.
- Bad `retry` values and unknown fields only flag their group; the group is re-read slowly
  afterwards to report them with offsets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from itertools import repeat

__all__ = [
    "Event",
    "Violation",
    "EventStreamValidator",
    "validate",
    "format_violation",
    "SEVERITY",
]

BOM = b"\xef\xbb\xbf"
EXCERPT_MAX = 80
SEVERITY = {
    "invalid-utf8": "error",
    "unterminated-event": "error",
    "no-data-event": "error",
    "bad-retry": "error",
    "unknown-field": "warning",
}

_BLANKS = re.compile(rb"((?>\r\n|\r|\n){2})")  # a line end + a blank line; atomic: CRLF is one
_TEXT_EOL = re.compile(r"\r\n|\r|\n")
_LINE = re.compile(rb"[^\r\n]+")
# A blank line always shows as one of these pairs: a line end, then the blank line's own end.
# (CR then LF is never one: that is a single CRLF line end.)
_JUNCTIONS = (b"\n\r", b"\n\n", b"\r\r")
_FIELDS = (b"data", b"event", b"id", b"retry")


@dataclass(frozen=True, slots=True)
class Event:
    type: str  # "message" unless an event field set it
    data: str
    last_event_id: str  # the last-event-id buffer at dispatch ("" if none)
    retry: int | None  # set by a retry field in this event's group, else None
    offset: int  # byte offset where this event's first line (or comment) starts
    end: int  # byte offset just after the blank line that dispatched it


@dataclass(frozen=True, slots=True)
class Violation:
    code: str
    severity: str  # "error" | "warning"
    offset: int  # byte offset of the offending bytes
    excerpt: bytes  # the offending bytes, at most EXCERPT_MAX
    message: str


# An Event built slot by slot costs half what the frozen dataclass __init__ costs; with
# hundreds of thousands of events per stream that is most of the margin over httpx-sse.
_new = object.__new__
_set_type, _set_data, _set_id, _set_retry, _set_offset, _set_end = (
    getattr(Event, name).__set__ for name in Event.__slots__)


def _integer(digits: str) -> int:
    # int() refuses strings over 4300 digits (a CPython DoS guard); a stream must not crash us.
    return int(digits) if len(digits) < 4300 else int(Decimal(digits))


class EventStreamValidator:
    """Feed the raw bytes of one response body; collect events and violations.

    ``events_seen`` counts groups with at least one field closed by a blank line (including
    id-, event- or retry-only groups, which clients do not dispatch); ``data_events`` counts
    the events dispatched (groups with a data field); ``bytes_seen`` counts bytes fed.
    ``reconnection_time`` is the stream's last valid retry value.
    """

    def __init__(self, max_violations: int = 100):
        self.max_violations = max_violations
        self.violations: list[Violation] = []
        self.dropped = 0  # violations not kept because of the cap (still in `counts`)
        self.counts: dict[str, int] = {}
        self.events_seen = 0
        self.data_events = 0
        self.bytes_seen = 0
        self.reconnection_time: int | None = None
        self.closed = False
        self._last_id = ""  # the only parser state that outlives a group
        self._tail: list[bytes] = []  # bytes after the last complete group, not yet read
        self._pos = 0  # stream offset of the tail's first byte
        self._head = b""  # first bytes of the stream: evidence for no-data-event
        self._started = False  # leading BOM dealt with
        self._unknown: set[bytes] = set()  # unknown field names already reported
        self._junctions = list(_JUNCTIONS)  # most recently seen first

    @property
    def errors(self) -> list[Violation]:
        return [v for v in self.violations if v.severity == "error"]

    @property
    def error_count(self) -> int:
        """Errors found, including any dropped by the cap."""
        return sum(n for code, n in self.counts.items() if SEVERITY[code] == "error")

    # -- input -------------------------------------------------------------------------

    def feed(self, chunk: bytes) -> list[Event]:
        """Consume the next bytes of the stream; return the events they complete."""
        if self.closed:
            raise RuntimeError("feed() after close()")
        if not chunk:
            return []
        self.bytes_seen += len(chunk)
        if len(self._head) < EXCERPT_MAX:
            self._head += chunk[:EXCERPT_MAX - len(self._head)]
        tail = self._tail
        if not self._started:  # strip one BOM, and only at the very start
            chunk = b"".join(tail) + chunk
            del tail[:]
            if len(chunk) < 3 and BOM.startswith(chunk):
                tail.append(chunk)  # could still become a BOM
                return []
            self._started = True
            if chunk.startswith(BOM):
                chunk, self._pos = chunk[3:], 3
                if not chunk:
                    return []
        # Nothing can complete before a blank line arrives; look at the tail's last bytes
        # too, as a blank line can straddle chunks (or wait behind a final CR).
        probe = tail[-1][-2:] + chunk[:2] if tail else b""
        for junction in self._junctions:
            if junction in chunk or junction in probe:
                break
        else:
            tail.append(chunk)
            return []
        if junction is not self._junctions[0]:
            self._junctions.remove(junction)
            self._junctions.insert(0, junction)
        buf = b"".join(tail) + chunk if tail else chunk
        # Read up to the last line end, except a final CR: it may pair with an LF to come.
        stop = len(buf) - 1 if buf[-1] == 13 else len(buf)
        cut = max(buf.rfind(b"\n", 0, stop), buf.rfind(b"\r", 0, stop)) + 1
        events, used = self._process(buf[:cut] if cut < len(buf) else buf, self._pos)
        self._tail = [buf[used:]] if used < len(buf) else []
        self._pos += used
        return events

    def close(self) -> list[Event]:
        """End of stream: dispatch what is complete and report end-of-stream violations."""
        if self.closed:
            return []
        self.closed = True
        buf, pos = b"".join(self._tail), self._pos
        self._tail = []
        if not self._started and buf.startswith(BOM):
            buf, pos = buf[3:], pos + 3
        cut = max(buf.rfind(b"\n"), buf.rfind(b"\r")) + 1  # a final CR is a line end now
        events, used = self._process(buf[:cut], pos) if cut else ([], 0)
        rest, pos = buf[used:], pos + used  # an unclosed group, then maybe an unended line
        found: list[Violation] = []
        if rest:
            self._check_utf8(rest, pos, found)
            self._check_fields(rest[:cut - used], pos, found)
        lines = [(m.start(), m.group()) for m in _LINE.finditer(rest, 0, cut - used)]
        for _, line in lines:  # the spec applies retry at once, even in a dropped group
            name, _, value = line.partition(b":")
            value = value[1:] if value[:1] == b" " else value
            if name == b"retry" and value.isdigit():
                self.reconnection_time = _integer(value.decode())
        if any(line.partition(b":")[0] == b"data" for _, line in lines):
            at = lines[0][0]
            found.append(self._violation(
                "unterminated-event", pos + at, rest[at:],
                "event is not closed by a blank line before the stream ends; "
                "clients discard it"))
        elif cut - used < len(rest):
            at = cut - used
            found.append(self._violation(
                "unterminated-event", pos + at, rest[at:],
                f"final line {rest[at:at + 40]!r} has no line end; clients discard it"))
        if not self.data_events:
            found.append(self._violation(
                "no-data-event", 0, self._head,
                f"the {self.bytes_seen}-byte stream has no event with a data field; "
                "clients receive no message"))
        self._report(found)
        return events

    # -- interpretation ----------------------------------------------------------------

    def _process(self, block: bytes, pos: int) -> tuple[list[Event], int]:
        """Interpret the groups closed in `block` (complete lines at stream offset `pos`).

        Returns the events and how many bytes were used: the lines after the last blank line
        are left for later, unread.
        """
        eol: bytes | None = None  # the block's only kind of line end, if it has one kind
        if b"\r" not in block:
            eol = b"\n"
        elif b"\n" not in block:
            eol = b"\r"
        elif block.count(b"\r\n") == block.count(b"\r") == block.count(b"\n"):
            eol = b"\r\n"
        if eol:
            groups = block.split(eol + eol)
            seps = repeat(2 * len(eol))
        else:  # mixed line ends (rare): a regex finds each line end + blank line pair
            parts = _BLANKS.split(block)
            groups, seps = parts[0::2], [len(sep) for sep in parts[1::2]]
        used = len(block) - len(groups.pop())  # the unclosed rest waits for its blank line

        found: list[Violation] = []
        events: list[Event] = []
        suspects: list[tuple[bytes, int]] = []  # groups with a bad retry or unknown field
        last_id = self._last_id
        data: list[str] = []
        etype, retry, fields, seen = "message", None, False, 0
        text_eol = eol.decode() if eol else ""
        for group, sep in zip(groups, seps):
            # One decode per group both validates it and spares decoding each value.
            try:
                text = group.decode()
            except UnicodeDecodeError:
                self._check_utf8(group, pos, found)
                text = group.decode("utf-8", "replace")
            start = pos
            for line in text.split(text_eol) if eol else _TEXT_EOL.split(text):
                # The usual spellings first, then the general field rules.
                if line[:6] == "data: ":
                    data.append(line[6:])
                    continue
                if line[:4] == "id: ":
                    fields = True
                    if "\0" not in line:  # an id containing NUL is ignored
                        last_id = line[4:]
                    continue
                if line[:7] == "event: ":
                    fields = True
                    etype = line[7:] or "message"
                    continue
                if not line:  # blank lines open the group (3+ line ends in a row)
                    start = pos + len(group) - len(group.lstrip(b"\r\n"))
                    continue
                if line[0] == ":":  # comment
                    continue
                fields = True
                name, _, value = line.partition(":")  # no colon: all name, value ""
                if value[:1] == " ":
                    value = value[1:]
                if name == "data":
                    data.append(value)
                elif name == "id":
                    if "\0" not in value:
                        last_id = value
                elif name == "event":
                    etype = value or "message"
                elif name == "retry" and value.isascii() and value.isdigit():  # not "" or "²"
                    retry = self.reconnection_time = _integer(value)
                elif not suspects or suspects[-1][1] != pos:
                    suspects.append((group, pos))
            pos += len(group) + sep
            if data:  # dispatch
                ev = _new(Event)
                _set_type(ev, etype)
                _set_data(ev, data[0] if len(data) == 1 else "\n".join(data))
                _set_id(ev, last_id)
                _set_retry(ev, retry)
                _set_offset(ev, start)
                _set_end(ev, pos)
                events.append(ev)
                data = []
            elif fields:
                seen += 1  # fields but no data: clients dispatch nothing
            etype, retry, fields = "message", None, False

        self._last_id = last_id
        for group, at in suspects:
            self._check_fields(group, at, found)
        self.events_seen += seen + len(events)
        self.data_events += len(events)
        if found:
            self._report(found)
        return events, used

    def _check_fields(self, group: bytes, pos: int, found: list[Violation]) -> None:
        """Report bad retry values and (once per name) unknown field names in `group`."""
        for m in _LINE.finditer(group):
            line = m.group()
            name, _, value = line.partition(b":")
            if value[:1] == b" ":
                value = value[1:]
            if name == b"retry" and not value.isdigit():
                found.append(self._violation(
                    "bad-retry", pos + m.start(), line,
                    f"retry value {value[:40]!r} is not ASCII digits; clients ignore it"))
            elif name and name not in _FIELDS and name not in self._unknown:
                self._unknown.add(name)
                found.append(self._violation(
                    "unknown-field", pos + m.start(), line,
                    f"unknown field name {name[:40]!r}; clients ignore the line"))

    def _check_utf8(self, block: bytes, pos: int, found: list[Violation]) -> None:
        """Report each line of `block` holding invalid UTF-8 (its first bad bytes)."""
        try:
            block.decode("utf-8")
            return
        except UnicodeDecodeError as exc:
            first = exc.start
        line_start = max(block.rfind(b"\n", 0, first), block.rfind(b"\r", 0, first)) + 1
        for m in _LINE.finditer(block, line_start):
            line = m.group()
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                found.append(self._violation(
                    "invalid-utf8", pos + m.start() + exc.start,
                    line[max(0, exc.start - 32):exc.end + 32],
                    f"invalid UTF-8 bytes {line[exc.start:exc.end]!r}; "
                    "clients decode them as U+FFFD"))

    # -- reporting ---------------------------------------------------------------------

    @staticmethod
    def _violation(code: str, offset: int, excerpt: bytes, message: str) -> Violation:
        return Violation(code, SEVERITY[code], offset, bytes(excerpt[:EXCERPT_MAX]), message)

    def _report(self, found: list[Violation]) -> None:
        # Stream order whatever the chunking (UTF-8 problems are found before field ones).
        for v in sorted(found, key=lambda v: v.offset):
            self.counts[v.code] = self.counts.get(v.code, 0) + 1
            if len(self.violations) < self.max_violations:
                self.violations.append(v)
                continue
            self.dropped += 1
            if v.severity == "error":
                # At the cap an error displaces the latest warning: warnings must never
                # hide an error from whoever reads only `violations`.
                for i in range(len(self.violations) - 1, -1, -1):
                    if self.violations[i].severity == "warning":
                        del self.violations[i]
                        self.violations.append(v)
                        break


def validate(body: bytes, chunk_size: int | None = None) -> tuple[list[Event], list[Violation]]:
    """Validate a whole body, optionally fed in `chunk_size` pieces."""
    validator = EventStreamValidator()
    step = chunk_size or max(len(body), 1)
    events: list[Event] = []
    for i in range(0, len(body), step):
        events += validator.feed(body[i:i + step])
    events += validator.close()
    return events, validator.violations


def format_violation(v: Violation) -> str:
    """One report line, e.g. "byte 12: bad-retry: ...; offending bytes: b'retry: x'"."""
    return f"byte {v.offset}: {v.code}: {v.message}; offending bytes: {v.excerpt!r}"
