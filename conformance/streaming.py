"""Reading an SSE answer as it arrives: raw bytes (never `iter_lines()`, which splits on more than
CR/LF) fed to the event-stream validator, with the arrival time of every chunk — the evidence for
SSE-FRAMING and SSE-INCREMENTAL. Bounded in time and size."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import httpx

from . import exchange, mediatype
from .config import Endpoint
from .sse import EventStreamValidator, Violation, format_violation

_KEPT_BYTES = 4096  # for evidence


@dataclass
class StreamCapture:
    answer: exchange.Exchange  # status, headers, the first bytes
    chunks: list[tuple[float, int]] = field(default_factory=list)  # (seconds since sent, bytes)
    events: int = 0
    data_events: int = 0
    violations: list[Violation] = field(default_factory=list)
    ended: str = "eof"  # eof | time cap | size cap | read timeout | dropped
    duration_s: float = 0.0

    @property
    def is_event_stream(self) -> bool:
        return self.answer.status is not None and 200 <= self.answer.status < 300 and mediatype.is_media_type(
            self.answer.content_type, mediatype.EVENT_STREAM)

    @property
    def total_bytes(self) -> int:
        return sum(n for _, n in self.chunks)

    def timeline(self, limit: int = 12) -> str:
        shown = ", ".join(f"{t * 1000:.0f} ms: {n} B" for t, n in self.chunks[:limit])
        more = f", … ({len(self.chunks)} chunks)" if len(self.chunks) > limit else ""
        return f"chunk arrivals (since the request was sent): {shown or 'none'}{more}"

    def errors(self) -> list[Violation]:
        return [v for v in self.violations if v.severity == "error"]

    def violation_lines(self, limit: int = 10) -> list[str]:
        lines = [format_violation(v) for v in self.errors()[:limit]]
        if len(self.errors()) > limit:
            lines.append(f"… and {len(self.errors()) - limit} more")
        return lines


def capture(
    client: httpx.Client, endpoint: Endpoint, accept: str, *, timeout_s: float, max_bytes: int = 16 << 20
) -> StreamCapture:
    headers = (("Accept", accept),) + ((("Content-Type", "application/json"),) if endpoint.json is not None else ())
    body = endpoint.body_bytes()
    origin = str(client.base_url).rstrip("/")
    started = time.monotonic()
    validator = EventStreamValidator()
    kept = bytearray()
    chunks: list[tuple[float, int]] = []
    ended = "eof"
    try:
        with client.stream(endpoint.method, endpoint.path, headers=dict(headers), content=body, timeout=timeout_s,
                           follow_redirects=False) as response:
            answer_headers = tuple(response.headers.multi_items())
            status = response.status_code
            streaming = mediatype.is_media_type(response.headers.get("content-type"), mediatype.EVENT_STREAM)
            for chunk in response.iter_raw():
                chunks.append((time.monotonic() - started, len(chunk)))
                if len(kept) < _KEPT_BYTES:
                    kept += chunk[: _KEPT_BYTES - len(kept)]
                if streaming:
                    validator.feed(chunk)
                if sum(n for _, n in chunks) >= max_bytes:
                    ended = "size cap"
                    break
                if time.monotonic() - started > timeout_s:
                    ended = "time cap"
                    break
    except httpx.ReadTimeout:
        ended = "read timeout"
    except httpx.HTTPError as exc:
        if not chunks and "answer_headers" not in locals():
            answer = exchange.Exchange(endpoint.method, endpoint.path, headers, body, None,
                                       elapsed_s=time.monotonic() - started,
                                       error=exchange.describe_error(exc, timeout_s), origin=origin)
            return StreamCapture(answer, ended="dropped", duration_s=answer.elapsed_s)
        ended = "dropped"
    duration = time.monotonic() - started
    answer = exchange.Exchange(endpoint.method, endpoint.path, headers, body, status, answer_headers, bytes(kept),
                               duration, origin=origin)
    result = StreamCapture(answer, chunks, ended=ended, duration_s=duration)
    if streaming:
        if ended == "eof":
            validator.close()
        result.events, result.data_events = validator.events_seen, validator.data_events
        result.violations = list(validator.violations)
    return result
