"""HTTP to the candidate that always ends: every exchange has a deadline for the response head
and one for the whole answer, taken from the budgets and named after them in evidence.

httpx bounds each socket operation, not an exchange: a candidate that trickles its headers or its
body one byte at a time keeps every read short and the exchange alive forever. Here the sockets
themselves honour the exchange's deadlines (`first_byte_s` for the head; `request_s`, or
`stream_s` when the request accepts text/event-stream, for the whole answer). The response head
is also bounded in size by the HTTP client (h11 refuses more than 100 KiB).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import httpcore
import httpx

from ..contract.agent_config import Budgets
from .mediatype import asks_for_event_stream

TIMEOUT_KEY = "conformance.timeout_s"  # request extension: an explicit timeout instead of the budgets
CONNECT_TIMEOUT_S = 2.0
CLIENT_HEAD_LIMIT = "the response head went on past 100 KiB (the HTTP client's limit)"
SEEN_BYTES = 48  # of an answer that is not HTTP, kept for evidence


@dataclass(frozen=True)
class Within:
    """The time an exchange gets: for its head and in all, each with the budget it comes from
    ("" for an explicit timeout, such as a probe's)."""

    head_s: float
    total_s: float
    head_cap: str = ""
    total_cap: str = ""
    streaming: bool = False

    def no_head(self) -> str:
        return f"no response head within {self.head_s:g} s{_named(self.head_cap)}"

    def unfinished(self, received: int) -> str:
        what = "the stream" if self.streaming else "the body"
        return f"{what} did not end within {self.total_s:g} s{_named(self.total_cap)}, {received} bytes received"


def _named(cap: str) -> str:
    return f" (cap {cap})" if cap else ""


def budgets_of(client: httpx.Client) -> Budgets:
    """The budgets a client reads within (a client not made by `Client`: the defaults)."""
    return getattr(client, "budgets", None) or Budgets()


def within(budgets: Budgets, accept: str | None, timeout_s: float | None = None) -> Within:
    """The deadlines of one exchange: an explicit timeout, or the budgets for its kind."""
    streaming = asks_for_event_stream(accept)
    if timeout_s is not None:
        return Within(timeout_s, timeout_s, streaming=streaming)
    total_s, total_cap = (budgets.stream_s, "stream_s") if streaming else (budgets.request_s, "request_s")
    if budgets.first_byte_s <= total_s:
        return Within(budgets.first_byte_s, total_s, "first_byte_s", total_cap, streaming)
    return Within(total_s, total_s, total_cap, total_cap, streaming)


# The deadline of the exchange the current thread is reading; the sockets honour it. Set around
# each read of the head (handle_request) and of the body (_BodyWithin), so it always belongs to
# the exchange being read, whichever connection of the pool it uses. `seen`: the first bytes
# that came for the head, for evidence when they do not make an HTTP answer.
_current = threading.local()


def bytes_seen() -> bytes:
    """The first bytes the current thread's last exchange received before its head failed."""
    return bytes(getattr(_current, "seen", b""))


def _remaining(error: type[Exception]) -> float | None:
    deadline = getattr(_current, "deadline", None)
    if deadline is None:
        return None
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise error("the exchange's deadline passed")
    return remaining


def _bounded(timeout: float | None, error: type[Exception]) -> float | None:
    remaining = _remaining(error)
    if remaining is None:
        return timeout
    return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream):
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data = self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))
        seen = getattr(_current, "seen", None)
        if seen is not None and len(seen) < SEEN_BYTES:
            seen += data[: SEEN_BYTES - len(seen)]
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str):
        return self._inner.get_extra_info(info)


class _Backend(httpcore.SyncBackend):
    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        return _DeadlineStream(super().connect_tcp(host, port, timeout, local_address, socket_options))


class _BodyWithin(httpx.SyncByteStream):
    def __init__(self, stream: httpx.SyncByteStream, deadline: float):
        self._stream, self._deadline = stream, deadline

    def __iter__(self):
        chunks = iter(self._stream)
        while True:
            _current.deadline = self._deadline
            try:
                chunk = next(chunks)
            except StopIteration:
                return
            finally:
                _current.deadline = None
            yield chunk

    def close(self) -> None:
        self._stream.close()


class _Transport(httpx.HTTPTransport):
    def __init__(self, budgets: Budgets):
        super().__init__()
        # httpx takes no network backend: its pool is replaced by one whose sockets keep deadlines.
        self._pool = httpcore.ConnectionPool(network_backend=_Backend())
        self.budgets = budgets

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        limits = within(self.budgets, request.headers.get("accept"), request.extensions.get(TIMEOUT_KEY))
        sent = time.monotonic()
        _current.deadline, _current.seen = sent + limits.head_s, bytearray()
        try:
            response = super().handle_request(request)
        finally:
            _current.deadline = None
        _current.seen = None
        response.stream = _BodyWithin(response.stream, sent + limits.total_s)
        return response


class Client(httpx.Client):
    """An httpx client whose every exchange ends within the budgets (`budgets`)."""

    def __init__(self, base_url: str, budgets: Budgets):
        longest = max(budgets.request_s, budgets.stream_s, budgets.first_byte_s)
        super().__init__(base_url=base_url, transport=_Transport(budgets), follow_redirects=False,
                         timeout=httpx.Timeout(longest, connect=CONNECT_TIMEOUT_S))
        self.budgets = budgets


@dataclass
class Reading:
    """What one bounded exchange gave: the head (status, headers, whether it was over its size
    cap), how much body came, and why reading stopped early, if it did."""

    status: int | None = None  # None: no response head (see `error`)
    headers: tuple[tuple[str, str], ...] = ()
    head_cut: str = ""  # the head was over header_kib
    received: int = 0  # body bytes read
    stopped: str = ""  # a cap met while reading the body, in a sentence
    over_size: bool = False  # that cap was response_mib
    error: httpx.HTTPError | None = None  # what ended the exchange before its answer did
    elapsed_s: float = 0.0

    @property
    def timed_out(self) -> bool:
        return isinstance(self.error, httpx.TimeoutException)


def read(client: httpx.Client, method: str, target: str, *, headers: dict[str, str], body: bytes | None,
         timeout_s: float | None = None, what: str = "the body", on_head=None, on_chunk=None) -> Reading:
    """Send one request and read its answer within the client's budgets (or `timeout_s` for head
    and body): the head within first_byte_s, the whole within request_s (stream_s when Accept asks
    for an event stream), at most response_mib of body. `on_head(response)` runs once the head came;
    `on_chunk(chunk)` gets every piece of the body as it arrives and may return a sentence to stop
    reading (another cap). Never raises for transport errors: they end up in `error`."""
    budgets = budgets_of(client)
    extensions = {TIMEOUT_KEY: timeout_s} if timeout_s is not None else {}
    reading = Reading()
    started = time.monotonic()
    try:
        with client.stream(method, target, headers=headers, content=body, follow_redirects=False,
                           extensions=extensions) as response:
            reading.status, reading.headers = response.status_code, tuple(response.headers.multi_items())
            reading.head_cut = head_cut(response, budgets)
            if on_head is not None:
                on_head(response)
            for chunk in response.iter_raw():
                reading.received += len(chunk)
                stop = on_chunk(chunk) if on_chunk is not None else None
                if reading.received > budgets.response_bytes:
                    stop = f"{what} went on past {budgets.response_mib:g} MiB (cap response_mib)"
                    reading.over_size = True
                if stop:
                    reading.stopped = stop
                    break
    except httpx.HTTPError as exc:
        reading.error = exc
    reading.elapsed_s = time.monotonic() - started
    return reading


def head_bytes(response: httpx.Response) -> int:
    """The size of the response head as it came on the wire (status line, headers, CRLFs)."""
    return 12 + len(response.reason_phrase) + sum(len(k) + len(v) + 4 for k, v in response.headers.raw) + 2


def head_cut(response: httpx.Response, budgets: Budgets) -> str:
    size = head_bytes(response)
    if size <= budgets.header_bytes:
        return ""
    return f"the response head is {size} bytes (cap header_kib = {budgets.header_kib:g})"


def is_head_limit(exc: Exception) -> bool:
    """h11 refused a response head over its 100 KiB limit."""
    return isinstance(exc, httpx.RemoteProtocolError) and "Receive buffer too long" in str(exc)
