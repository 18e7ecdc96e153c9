"""The candidate as the fuzz campaign reaches it: a generated request sent raw within the budgets and
counted, GET /health as the platform's probes are sent (a fresh connection each: an agent that
stalls keep-alive answers made every probe cost its 44 ms, and sending waited on them), and the
container's state once a request got no answer.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Callable, Iterable

from ..contract.agent_config import Budgets
from ..wire import mediatype, rawhttp

HEALTH_AFTER_TIMEOUT_S = 2.0  # GET /health after a generated request: is the agent still well?
KNOWN_ENDLESS_HEAD_S = 0.5  # a generated request to a stream known not to end: time for its head
DROP_SETTLE_S = 1.0  # after a dropped connection, Docker sees a dying process exit within this
# A generated request's event stream is read only as far as its judgement needs: the head and its
# first blocks (status, media type, framing so far). A stream in WHOLE_STREAM_EVERY, chosen by the
# request's bytes (so a request is always judged alike), is read to its end for the framing at its
# close; once a framing error is found every stream is read whole, so its shrinking is exact.
STREAM_BLOCKS = 2
WHOLE_STREAM_EVERY = 8
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})
_DROPS = ("reset", "connect-refused", "incomplete", "not-http")


class Sender:
    """Sends to one candidate at a time (`switch` goes on with a fresh one). Every request is
    counted in `counts` (a `Campaign`: `sent`, `tally`, `streams_cut`, `streams_whole`), from
    several threads at once; `on_sent()` is called after each generated request."""

    def __init__(self, candidate, budgets: Budgets, health_path: str, declared: Iterable[str], counts,
                 on_sent: Callable[[], None] | None = None):
        self.budgets = budgets
        self.health_path = health_path
        self.declared = frozenset(path.split("?")[0] for path in declared)
        self.counts = counts
        self.on_sent = on_sent
        self.down = False  # the container exited: nothing more is sent to it
        self._lock = threading.Lock()
        self.candidate = candidate
        self.host, self.port = candidate.address()
        self.probe = candidate.raw_probe(timeout_s=HEALTH_AFTER_TIMEOUT_S)

    def switch(self, candidate) -> None:
        """Go on with a fresh candidate (the first one exited, or a request changed its /health)."""
        self.candidate = candidate
        self.host, self.port = candidate.address()
        self.probe = candidate.raw_probe(timeout_s=HEALTH_AFTER_TIMEOUT_S)
        self.down = False

    def reaches_endpoint(self, request: rawhttp.RawRequest) -> bool:
        return request.target.split("?")[0] in self.declared

    def route(self, request: rawhttp.RawRequest) -> str:
        """The method and the declared path it went to, generated ones grouped (the plots count by it)."""
        method = request.method if request.method in _METHODS else "(other method)"
        return f"{method} {request.target.split('?')[0] if self.reaches_endpoint(request) else '(other path)'}"

    def send_generated(self, request: rawhttp.RawRequest, whole: bool = False):
        """Send a generated request: (its answer, None), or (None, why there was none)."""
        with self._lock:
            self.counts.sent += 1
        try:
            return self.send(request, whole), None
        except rawhttp.RawHTTPError as exc:
            return None, exc
        finally:
            if self.on_sent is not None:
                self.on_sent()

    def send(self, request: rawhttp.RawRequest, whole: bool = False) -> rawhttp.RawResponse:
        """Send it and count it (route, status), the baseline's plain requests too. `whole`: an
        event stream is read to its end; else only one in WHOLE_STREAM_EVERY is."""
        route = self.route(request)
        try:
            response = self._send_raw(request, whole)
        except rawhttp.RawHTTPError:
            with self._lock:
                self.counts.tally[(route, "no answer")] += 1
            raise
        with self._lock:
            self.counts.tally[(route, response.status)] += 1
            if 200 <= response.status < 300 and mediatype.is_media_type(response.header("content-type"),
                                                                        mediatype.EVENT_STREAM):
                if response.cut_short:
                    self.counts.streams_cut += 1
                else:
                    self.counts.streams_whole += 1
        return response

    def _send_raw(self, request: rawhttp.RawRequest, whole: bool) -> rawhttp.RawResponse:
        total = self.budgets.request_s
        accept = ", ".join(v for n, v in request.headers if n.lower() == "accept")
        if mediatype.asks_for_event_stream(accept) and self.candidate.traffic.endless(request.method, request.target):
            # The plain request's stream never ended either (in the baseline): only the head is news.
            total = min(total, KNOWN_ENDLESS_HEAD_S)
        blocks = None if whole or _whole_stream(request) else STREAM_BLOCKS
        return rawhttp.send(self.host, self.port, request, first_byte_timeout=min(self.budgets.first_byte_s, total),
                            total_timeout=total, max_header_bytes=self.budgets.header_bytes,
                            max_body_bytes=self.budgets.response_bytes, stream_blocks=blocks)

    def health(self) -> int | None:
        return self.probe(self.health_path).status

    def state(self) -> dict:
        return self.candidate.state()

    def log_tail(self) -> list[str]:
        return self.candidate.log_tail(10)

    def settled_state(self, error: rawhttp.RawHTTPError, health_status: int | None) -> dict:
        """The container's state after a request got no answer. A dying process drops its
        connections a moment before Docker sees it exit, hence the wait after a drop, unless
        /health answers at once as before (`health_status`): the process lives on (a panic
        contained to one connection), and shrinking such a cause does not cost a wait per request."""
        if error.kind not in _DROPS:
            return self.candidate.state()
        if health_status is not None and self.health() == health_status:
            return self.candidate.state()
        state = self.candidate.state()
        settle_until = time.monotonic() + DROP_SETTLE_S
        while state.get("Running") and time.monotonic() < settle_until:
            time.sleep(0.05)
            state = self.candidate.state()
        return state


def _whole_stream(request: rawhttp.RawRequest) -> bool:
    return zlib.crc32(request.to_bytes("h")) % WHOLE_STREAM_EVERY == 0
