"""Reading an SSE answer as it arrives: raw bytes (never `iter_lines()`, which splits on more than
CR/LF) fed to the event-stream validator, with the arrival time of every chunk — the evidence for
SSE-FRAMING and SSE-INCREMENTAL. Bounded in time and size."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field

import httpx

from ..contract.agent_config import Endpoint
from . import bounded, exchange, mediatype
from .sse import EventStreamValidator, Violation, format_violation

_KEPT_BYTES = 4096  # for evidence
_KEPT_CHUNKS = 1000  # of the arrival timeline, at each end: a long stream arrives in millions of chunks
_SPREAD_POINTS = 200  # arrivals kept for the plots, spread over the whole stream


@dataclass
class StreamCapture:
    answer: exchange.Exchange  # status, headers, the first bytes
    chunks: list[tuple[float, int]] = field(default_factory=list)  # (seconds since sent, bytes)
    # For the report's plots, spread over the whole answer: (seconds, events complete by then), (seconds, bytes)
    event_arrivals: list[tuple[float, int]] = field(default_factory=list)
    chunk_sample: list[tuple[float, int]] = field(default_factory=list)
    events: int = 0
    data_events: int = 0
    violations: list[Violation] = field(default_factory=list)
    ended: str = "eof"  # eof | time cap | size cap | event cap | dropped
    duration_s: float = 0.0
    total_bytes: int = 0

    @property
    def is_event_stream(self) -> bool:
        return self.answer.status is not None and 200 <= self.answer.status < 300 and mediatype.is_media_type(
            self.answer.content_type, mediatype.EVENT_STREAM)

    def timeline(self, limit: int = 12) -> str:
        shown = ", ".join(f"{t * 1000:.0f} ms: {n} B" for t, n in self.chunks[:limit])
        more = f", … ({len(self.chunks)} chunks kept)" if len(self.chunks) > limit else ""
        return f"chunk arrivals (since the request was sent): {shown or 'none'}{more}"

    def errors(self) -> list[Violation]:
        return [v for v in self.violations if v.severity == "error"]

    def violation_lines(self, limit: int = 10) -> list[str]:
        lines = [format_violation(v) for v in self.errors()[:limit]]
        if len(self.errors()) > limit:
            lines.append(f"… and {len(self.errors()) - limit} more")
        return lines


def capture(client: httpx.Client, endpoint: Endpoint, accept: str) -> StreamCapture:
    """Read one answer to `accept` as it arrives, within the client's budgets: the head within
    first_byte_s, the whole stream within stream_s (request_s when `accept` is not an event
    stream), at most response_mib of it and stream_events events."""
    budgets = bounded.budgets_of(client)
    headers = (("Accept", accept),) + ((("Content-Type", mediatype.JSON),) if endpoint.json is not None else ())
    body = endpoint.body_bytes()
    origin = str(client.base_url).rstrip("/")
    validator = EventStreamValidator()
    kept = bytearray()
    chunks = _Timeline()
    event_arrivals, chunk_sample = _Spread(), _Spread()
    streaming = False
    started = time.monotonic()

    def on_head(response: httpx.Response) -> None:
        nonlocal streaming
        streaming = mediatype.is_media_type(response.headers.get("content-type"), mediatype.EVENT_STREAM)

    def on_chunk(chunk: bytes) -> str | None:
        arrival = (time.monotonic() - started, len(chunk))
        chunks.append(arrival)
        chunk_sample.append(arrival)
        if len(kept) < _KEPT_BYTES:
            kept.extend(chunk[: _KEPT_BYTES - len(kept)])
        if streaming:
            before = validator.events_seen
            validator.feed(chunk)
            if validator.events_seen > before:
                event_arrivals.append((arrival[0], validator.events_seen))
            if validator.events_seen > budgets.stream_events:
                return f"the stream went on past {budgets.stream_events} events (cap stream_events)"
        return None

    reading = bounded.read(client, endpoint.method, endpoint.path, headers=dict(headers), body=body,
                           what="the stream", on_head=on_head, on_chunk=on_chunk)
    limits = bounded.within(budgets, accept, known_endless=reading.known_endless)
    duration = time.monotonic() - started
    if reading.status is None:
        answer = exchange.Exchange(endpoint.method, endpoint.path, headers, body, None, elapsed_s=duration,
                                   error=exchange.no_head(reading.error, limits, client), origin=origin,
                                   user_url=getattr(client, "user_url", exchange.DEFAULT_USER_URL))
        return StreamCapture(answer, ended="dropped", duration_s=answer.elapsed_s)
    ended, cut = "eof", reading.head_cut
    if reading.stopped:
        ended, cut = ("size cap" if reading.over_size else "event cap"), reading.stopped
    elif reading.timed_out:
        ended, cut = "time cap", limits.unfinished(reading.received)
    elif reading.error is not None:
        ended = "dropped"
    received = reading.received
    whole = received <= len(kept)
    answer = exchange.Exchange(endpoint.method, endpoint.path, headers, body, reading.status, reading.headers,
                               bytes(kept), duration, origin=origin, cut=cut, body_size=-1 if whole else received,
                               not_json=None if whole else f"not judged: only its first {len(kept)} bytes were kept",
                               user_url=getattr(client, "user_url", exchange.DEFAULT_USER_URL))
    result = StreamCapture(answer, chunks.kept(), ended=ended, duration_s=duration, total_bytes=received,
                           chunk_sample=chunk_sample.points)
    if streaming:
        if ended == "eof":
            validator.close()
        result.events, result.data_events = validator.events_seen, validator.data_events
        result.event_arrivals = event_arrivals.points
        result.violations = list(validator.violations)
    return result


class _Timeline:
    """Chunk arrivals, bounded: the first ones and the last ones (what the verdicts read)."""

    def __init__(self):
        self.first: list[tuple[float, int]] = []
        self.last: deque[tuple[float, int]] = deque(maxlen=_KEPT_CHUNKS)

    def append(self, arrival: tuple[float, int]) -> None:
        (self.first if len(self.first) < _KEPT_CHUNKS else self.last).append(arrival)


    def __bool__(self) -> bool:
        return bool(self.first)

    def kept(self) -> list[tuple[float, int]]:
        return self.first + list(self.last)


class _Spread:
    """At most 2 × _SPREAD_POINTS arrivals spread over the whole stream, however long: every
    `stride`-th is kept, and when full every other one is dropped and the stride doubles."""

    def __init__(self):
        self.points: list[tuple[float, int]] = []
        self._stride, self._seen = 1, 0

    def append(self, arrival: tuple[float, int]) -> None:
        if self._seen % self._stride == 0:
            self.points.append(arrival)
            if len(self.points) >= 2 * _SPREAD_POINTS:
                self.points, self._stride = self.points[::2], self._stride * 2
        self._seen += 1


class StreamInFlight:
    """An SSE request on a declared endpoint, read in a thread so that something (SIGTERM) can
    happen while it streams. The thread owns `client` (closed when the stream ends) and reads
    within its budgets."""

    def __init__(self, client: httpx.Client, endpoint: Endpoint):
        self.endpoint = endpoint
        self.client = client
        self.limits = bounded.within(bounded.budgets_of(client), mediatype.EVENT_STREAM)
        self.status: int | None = None
        self.received = 0
        self.ended = ""  # "completed" | "cut: …"
        self.answered = threading.Event()  # the response began (status and headers) or the request failed
        self._thread = threading.Thread(target=self._read, name="stream-in-flight", daemon=True)

    def start(self) -> bool:
        """Start the request; True once the response has begun and not yet ended (in flight). The
        headers are the earliest sign: a short stream may be over by its first event."""
        self._thread.start()
        self.answered.wait(self.limits.head_s + 1)
        return self.status is not None and not self.ended

    def _read(self) -> None:
        headers = {"Accept": mediatype.EVENT_STREAM}
        body = self.endpoint.body_bytes()
        if body is not None:
            headers["Content-Type"] = mediatype.JSON

        def on_head(response: httpx.Response) -> None:
            self.status = response.status_code
            self.answered.set()

        def on_chunk(chunk: bytes) -> None:
            self.received += len(chunk)

        try:
            with self.client:
                # Read as long as the budgets allow: what SIGTERM does to a stream in flight is the question.
                reading = bounded.read(self.client, self.endpoint.method, self.endpoint.path, headers=headers,
                                       body=body, what="the stream", on_head=on_head, on_chunk=on_chunk,
                                       shortcut=False)
            if reading.stopped:
                self.ended = f"was abandoned: {reading.stopped}"
            elif reading.timed_out:
                self.ended = (f"was still streaming {self.limits.total_s:g} s after it began (abandoned)"
                              if self.status is not None else f"sent no response head ({self.limits.no_head()})")
            elif reading.error is not None:
                self.ended = f"was cut ({type(reading.error).__name__})"
            else:
                self.ended = "completed"
        finally:
            self.answered.set()

    def finish(self) -> str:
        """Wait (bounded) for the stream's end; what the client saw, in a phrase."""
        self._thread.join(self.limits.total_s + 1)
        if self._thread.is_alive():
            return f"was still open {self.limits.total_s:g} s after SIGTERM ({self.received} bytes received)"
        if self.ended == "completed":
            return f"ended cleanly ({self.received} bytes received)"
        return f"{self.ended} after {self.received} bytes"
