"""HTTP to the candidate that always ends: every exchange has a deadline for the response head
and one for the whole answer, taken from the budgets and named after them in evidence.

httpx bounds each socket operation, not an exchange: a candidate that trickles its headers or its
body one byte at a time keeps every read short and the exchange alive forever. Here the sockets
themselves honour the exchange's deadlines (`first_byte_s` for the head; `request_s`, or
`stream_s` when the request accepts text/event-stream, for the whole answer). The response head
is also bounded in size by the HTTP client (h11 refuses more than 100 KiB).
"""

from __future__ import annotations

import ssl
import threading
import time
from collections import Counter
from dataclasses import dataclass

import httpcore
import httpx

from ..contract.agent_config import Budgets
from ..contract.platform import Platform
from .curl import DEFAULT_USER_URL
from .mediatype import asks_for_event_stream

TIMEOUT_KEY = "conformance.timeout_s"  # request extension: an explicit timeout instead of the budgets
KNOWN_ENDLESS_KEY = "conformance.known_endless"  # request extension: the stream is read for KNOWN_ENDLESS_S
# An endpoint whose event stream once ran into stream_s is read this long after that: waiting out
# the budget again would show nothing new (SSE-FRAMING already reports it), and it is long enough
# for the head and the first events the other checks judge.
KNOWN_ENDLESS_S = 2.0
CONNECT_TIMEOUT_S = 2.0
USER_AGENT = "agent-conformance"  # on every request the suite itself makes (the fuzzer's vary it)
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
    known_endless: float = 0.0  # cut at KNOWN_ENDLESS_S: this stream already went on past stream_s (this)

    def no_head(self) -> str:
        return f"no response head within {self.head_s:g} s{_named(self.head_cap)}"

    def unfinished(self, received: int) -> str:
        if self.known_endless:
            return (f"the stream did not end within {self.known_endless:g} s (cap stream_s) when this run first "
                    f"read it; this time it was read for {self.total_s:g} s only, {received} bytes received "
                    "(waiting again would show nothing new)")
        what = "the stream" if self.streaming else "the body"
        return f"{what} did not end within {self.total_s:g} s{_named(self.total_cap)}, {received} bytes received"


def _named(cap: str) -> str:
    return f" (cap {cap})" if cap else ""


def budgets_of(client: httpx.Client) -> Budgets:
    """The budgets a client reads within (a client not made by `Client`: the defaults)."""
    return getattr(client, "budgets", None) or Budgets()


def within(budgets: Budgets, accept: str | None, timeout_s: float | None = None, known_endless: bool = False) -> Within:
    """The deadlines of one exchange: an explicit timeout, or the budgets for its kind (for a
    stream known not to end, KNOWN_ENDLESS_S in all)."""
    streaming = asks_for_event_stream(accept)
    if timeout_s is not None:
        return Within(timeout_s, timeout_s, streaming=streaming)
    if streaming and known_endless:
        total_s = min(budgets.stream_s, KNOWN_ENDLESS_S)
        return Within(min(budgets.first_byte_s, total_s), total_s, "first_byte_s", "", True,
                      known_endless=budgets.stream_s)
    total_s, total_cap = (budgets.stream_s, "stream_s") if streaming else (budgets.request_s, "request_s")
    if budgets.first_byte_s <= total_s:
        return Within(budgets.first_byte_s, total_s, "first_byte_s", total_cap, streaming)
    return Within(total_s, total_s, total_cap, total_cap, streaming)


class _InFlight(threading.local):
    """One transport's exchange being read by the current thread: its deadline, which the sockets
    honour (set around each read of the head, in handle_request, and of the body, in _BodyWithin,
    so it belongs to the exchange being read whichever connection of the pool it uses), and
    `seen`: the first bytes that came for the head, for evidence when they make no HTTP answer."""

    deadline: float | None = None
    seen: bytearray | None = None


def _remaining(current: _InFlight, error: type[Exception]) -> float | None:
    deadline = current.deadline
    if deadline is None:
        return None
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise error("the exchange's deadline passed")
    return remaining


def _bounded(current: _InFlight, timeout: float | None, error: type[Exception]) -> float | None:
    remaining = _remaining(current, error)
    if remaining is None:
        return timeout
    return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, current: _InFlight):
        self._inner, self._current = inner, current

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data = self._inner.read(max_bytes, _bounded(self._current, timeout, httpcore.ReadTimeout))
        seen = self._current.seen
        if seen is not None and len(seen) < SEEN_BYTES:
            seen += data[: SEEN_BYTES - len(seen)]
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(self._current, timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, timeout), self._current)

    def get_extra_info(self, info: str):
        return self._inner.get_extra_info(info)


class _Backend(httpcore.SyncBackend):
    def __init__(self, current: _InFlight):
        self._current = current

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        return _DeadlineStream(super().connect_tcp(host, port, timeout, local_address, socket_options), self._current)


class _BodyWithin(httpx.SyncByteStream):
    def __init__(self, stream: httpx.SyncByteStream, deadline: float, current: _InFlight):
        self._stream, self._deadline, self._current = stream, deadline, current

    def __iter__(self):
        chunks = iter(self._stream)
        while True:
            self._current.deadline = self._deadline
            try:
                chunk = next(chunks)
            except StopIteration:
                return
            finally:
                self._current.deadline = None
            yield chunk

    def close(self) -> None:
        self._stream.close()


# Candidates speak plain HTTP. httpx builds a verifying TLS context per transport unless given
# one, loading the CA bundle each time: 30 ms of CPU a client, a run makes dozens of clients.
_NO_TLS = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class _Transport(httpx.HTTPTransport):
    def __init__(self, budgets: Budgets):
        super().__init__(verify=_NO_TLS)
        # httpx takes no network backend: its pool is replaced by one whose sockets keep deadlines.
        self.current = _InFlight()
        self._pool = httpcore.ConnectionPool(network_backend=_Backend(self.current))
        self.budgets = budgets

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        limits = within(self.budgets, request.headers.get("accept"), request.extensions.get(TIMEOUT_KEY),
                        bool(request.extensions.get(KNOWN_ENDLESS_KEY)))
        sent = time.monotonic()
        current = self.current
        current.deadline, current.seen = sent + limits.head_s, bytearray()
        try:
            response = super().handle_request(request)
        finally:
            current.deadline = None
        current.seen = None
        response.stream = _BodyWithin(response.stream, sent + limits.total_s, current)
        return response


class Traffic:
    """The requests one process of a run sent to the image's candidates, shared by its clients:
    how many per (method, target) and how long each took to its answer's head, for the report, and
    the (method, target)s whose event stream once went on past stream_s, so that they are not
    waited out again."""

    def __init__(self):
        self._endless: set[tuple[str, str]] = set()
        self._sent: Counter = Counter()
        self._heads: dict[tuple[str, str], list[float]] = {}
        self._lock = threading.Lock()

    def count(self, method: str, target: str) -> None:
        with self._lock:
            self._sent[(method, target)] += 1

    def took(self, method: str, target: str, head_s: float) -> None:
        """Seconds from sending a request to its answer's head (a stall shows here, not in the verdict)."""
        with self._lock:
            self._heads.setdefault((method, target), []).append(head_s)

    def drain_counts(self) -> Counter:
        """The requests counted since the last drain."""
        with self._lock:
            sent, self._sent = self._sent, Counter()
        return sent

    def drain_latencies(self) -> dict[tuple[str, str], list[float]]:
        """The head latencies taken since the last drain, by (method, target)."""
        with self._lock:
            heads, self._heads = self._heads, {}
        return heads

    def note_endless(self, method: str, target: str) -> None:
        with self._lock:
            self._endless.add((method, target))

    def endless(self, method: str, target: str) -> bool:
        with self._lock:
            return (method, target) in self._endless


class Client(httpx.Client):
    """An httpx client whose every exchange ends within the budgets (`budgets`); `traffic`, if
    shared with the run's other clients, counts its requests and cuts short a stream already
    known not to end."""

    def __init__(self, base_url: str, budgets: Budgets, traffic: Traffic | None = None,
                 user_url: str = DEFAULT_USER_URL):
        longest = max(budgets.request_s, budgets.stream_s, budgets.first_byte_s)
        super().__init__(base_url=base_url, transport=_Transport(budgets), follow_redirects=False,
                         timeout=httpx.Timeout(longest, connect=CONNECT_TIMEOUT_S))
        self.budgets = budgets
        self.traffic = traffic or Traffic()
        self.user_url = user_url  # what its exchanges' curl lines show instead of `base_url`

    def bytes_seen(self) -> bytes:
        """The first bytes the current thread's last exchange received before its head failed."""
        return bytes(self._transport.current.seen or b"")


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
    head_s: float | None = None  # from sending to the answer's head; None without a head
    known_endless: bool = False  # read for KNOWN_ENDLESS_S only (see `within`)

    @property
    def timed_out(self) -> bool:
        return isinstance(self.error, httpx.TimeoutException)


def read(client: httpx.Client, method: str, target: str, *, headers: dict[str, str], body: bytes | None,
         timeout_s: float | None = None, what: str = "the body", on_head=None, on_chunk=None,
         shortcut: bool = True) -> Reading:
    """Send one request and read its answer within the client's budgets (or `timeout_s` for head
    and body): the head within first_byte_s, the whole within request_s (stream_s when Accept asks
    for an event stream), at most response_mib of body. `on_head(response)` runs once the head came;
    `on_chunk(chunk)` gets every piece of the body as it arrives and may return a sentence to stop
    reading (another cap). Never raises for transport errors: they end up in `error`.

    Counted in the client's `traffic`. An event stream that runs into stream_s is noted there; after that, streams
    of the same method and target are read for KNOWN_ENDLESS_S only (unless `shortcut` is False)."""
    budgets = budgets_of(client)
    traffic: Traffic | None = getattr(client, "traffic", None)
    streaming = timeout_s is None and asks_for_event_stream(headers.get("Accept") or headers.get("accept"))
    extensions = {TIMEOUT_KEY: timeout_s} if timeout_s is not None else {}
    reading = Reading()
    if traffic is not None:
        traffic.count(method, target)
    if streaming and shortcut and traffic is not None and traffic.endless(method, target):
        extensions[KNOWN_ENDLESS_KEY] = reading.known_endless = True
    started = time.monotonic()
    try:
        with client.stream(method, target, headers=headers, content=body, follow_redirects=False,
                           extensions=extensions) as response:
            reading.status, reading.headers = response.status_code, tuple(response.headers.multi_items())
            reading.head_s = time.monotonic() - started
            reading.head_cut = head_cut(response, budgets)
            if on_head is not None:
                on_head(response)
            for chunk in response.iter_raw():
                reading.received += len(chunk)
                stop = on_chunk(chunk) if on_chunk is not None else None
                if reading.received > budgets.response_bytes:
                    stop = past_response_cap(budgets, what)
                    reading.over_size = True
                if stop:
                    reading.stopped = stop
                    break
    except httpx.HTTPError as exc:
        reading.error = exc
    reading.elapsed_s = time.monotonic() - started
    if traffic is not None and reading.head_s is not None:
        traffic.took(method, target, reading.head_s)
    if streaming and traffic is not None and reading.timed_out and reading.received and not reading.known_endless:
        traffic.note_endless(method, target)  # the stream flowed until stream_s cut it
    return reading


def past_response_cap(budgets: Budgets, what: str = "the body") -> str:
    """Why reading stopped at the response cap, with its figure and name."""
    return f"{what} went on past {budgets.response_mib:g} MiB (cap response_mib)"


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


def make_client(base_url: str, budgets: Budgets | None = None, traffic: Traffic | None = None,
                platform: Platform | None = None) -> Client:
    """An HTTP client that sends only what a check asks for (httpx's default `Accept: */*` and
    `Accept-Encoding` would decide content negotiation for us and compress the bytes we validate),
    and reads every answer within `budgets`; `traffic`: what the run knows of the candidate's streams;
    `platform`: what the platform sends with every call, and where a user reaches the image."""
    client = Client(base_url, budgets or Budgets(), traffic,
                            user_url=platform.user_url if platform else DEFAULT_USER_URL)
    # What the platform sends with every call (AgentCore's session ID): a check meets what it meets.
    client.headers = httpx.Headers({"User-Agent": USER_AGENT, **(platform.session_headers if platform else {})})
    return client
