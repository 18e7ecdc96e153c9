"""A bounded raw HTTP/1.1 client over a plain socket.

httpx normalises paths and insists on ASCII header strings, so wire-level fuzzing (ROBUST-INPUT)
needs a client that sends bytes exactly as given and, unlike a library, says *how* an exchange
failed: a dropped connection, a hang and a non-HTTP answer are different findings. Every read is
bounded (time and bytes), so a hostile candidate cannot stall or exhaust the suite.
One request per connection (`Connection: close`) keeps fuzz cases independent of each other.
"""

from __future__ import annotations

import errno
import re
import selectors
import socket
import time
from dataclasses import dataclass

from . import headers as headers_of
from . import mediatype
from .curl import curl_command

ERROR_KINDS = frozenset(
    {"connect-refused", "reset", "timeout", "first-byte-timeout", "not-http", "headers-too-large", "incomplete"}
)
_RECV = 65536
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_STATUS_LINE = re.compile(rb"HTTP/(\d)\.(\d) (\d{3})(?: (.*))?")
_MAX_CHUNK_LINE = 4096
# The blank line that ends an event-stream block: two line ends, a CR LF pair counting as one.
_LINE_END = rb"(?:\r\n|\r(?!\n)|\n)"
_BLOCK_END = re.compile(_LINE_END + _LINE_END)


@dataclass(frozen=True)
class RawRequest:
    """A request as it goes on the wire; the caller leaves Host, Content-Length and Connection to us."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None

    def to_bytes(self, host: str) -> bytes:
        """Wire bytes. Text is latin-1 encoded, so U+0080–U+00FF in a value go out as one obs-text byte."""
        lines = [f"{self.method} {self.target} HTTP/1.1", f"Host: {host}"]
        lines += [f"{name}: {value}" for name, value in self.headers]
        if self.body is not None:  # b"" still says Content-Length: 0; None sends no framing at all
            lines.append(f"Content-Length: {len(self.body)}")
        lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (self.body or b"")

    def curl(self, base_url: str | None = None) -> str:
        """`base_url`: what the user reaches the agent at (the platform's `user_url`)."""
        accept = ", ".join(headers_of.every(self.headers, "accept"))
        return curl_command(self.method, self.target, self.headers, self.body, base_url=base_url,
                            stream=mediatype.asks_for_event_stream(accept))


@dataclass(frozen=True)
class RawResponse:
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]  # wire order, duplicates kept, latin-1 decoded
    body: bytes  # de-chunked
    elapsed_s: float
    truncated: bool  # the body went on past max_body_bytes and was cut there
    cut_short: bool = False  # an event stream read only to its first blocks, on purpose (`stream_blocks`)
    head_s: float = 0.0  # from connecting to the final response head

    def header(self, name: str) -> str | None:
        """First value of `name`, case-insensitively."""
        name = name.lower()
        return headers_of.first(self.headers, name)


class RawHTTPError(Exception):
    """The exchange failed; `kind` is one of ERROR_KINDS, the message carries the figures."""

    def __init__(self, kind: str, message: str, elapsed_s: float):
        assert kind in ERROR_KINDS, kind
        super().__init__(f"{kind}: {message} (after {elapsed_s:.2f} s)")
        self.kind = kind
        self.message = message
        self.elapsed_s = elapsed_s

    def __reduce__(self):  # picklable across pytest-xdist workers despite the custom __init__
        return type(self), (self.kind, self.message, self.elapsed_s)


def send(
    host: str,
    port: int,
    request: RawRequest,
    *,
    connect_timeout: float = 2.0,
    first_byte_timeout: float = 10.0,
    total_timeout: float = 10.0,
    max_header_bytes: int = 65536,
    max_body_bytes: int = 8 << 20,
    stream_blocks: int | None = None,
) -> RawResponse:
    """Send `request` on a fresh connection and read one response within every bound.

    total_timeout covers connect to last body byte; first_byte_timeout runs from the moment the
    request is sent (or the server answers early). `stream_blocks`: a 2xx event stream is read
    only until that many blocks (events, comments) are complete, the body cut after the last one
    (`cut_short`); a stream that ends first is read whole. Raises RawHTTPError.
    """
    start = time.monotonic()
    deadline = start + total_timeout
    try:
        sock = socket.create_connection((host, port), timeout=min(connect_timeout, total_timeout))
    except TimeoutError:
        message = f"no connection to {host}:{port} within {connect_timeout} s"
        raise RawHTTPError("timeout", message, time.monotonic() - start)
    except ConnectionResetError as exc:  # accepted, then dropped at once: the server's doing
        raise RawHTTPError("reset", f"connect to {host}:{port}: {_oserror(exc)}", time.monotonic() - start)
    except OSError as exc:  # refused, unreachable, …: nothing listens there for us
        raise RawHTTPError("connect-refused", f"connect to {host}:{port}: {_oserror(exc)}", time.monotonic() - start)
    with sock:
        conn = _Conn(sock, start, deadline, first_byte_timeout, total_timeout, max_header_bytes)
        authority = f"[{host}]" if ":" in host else host  # an IPv6 literal needs brackets in Host
        conn.send(request.to_bytes(authority if port == 80 else f"{authority}:{port}"))
        status, reason, headers = conn.read_head()
        while 100 <= status < 200 and status != 101:  # interim (100, 103): the final answer follows
            status, reason, headers = conn.read_head()
        head_s = time.monotonic() - start
        enough = None
        if stream_blocks and 200 <= status < 300 and mediatype.is_media_type(
                headers_of.first(headers, "content-type"), mediatype.EVENT_STREAM):
            enough = _blocks_end(stream_blocks)
        body, truncated = conn.read_body(request.method, status, headers, max_body_bytes, enough)
    cut_short = truncated is None
    return RawResponse(status, reason, headers, body, time.monotonic() - start, bool(truncated), cut_short, head_s)


def _blocks_end(blocks: int):
    """The body's length up to the end of its `blocks`-th event-stream block, or None before."""

    def enough(body) -> int | None:
        ends = 0
        for match in _BLOCK_END.finditer(body):
            ends += 1
            if ends == blocks:
                return match.end()
        return None

    return enough


def _oserror(exc: OSError) -> str:
    return f"{errno.errorcode.get(exc.errno, exc.errno)} ({exc.strerror})" if exc.errno else repr(exc)


class _Conn:
    """The socket, a receive buffer and the clocks every read is checked against."""

    def __init__(self, sock, start, deadline, first_byte_timeout, total_timeout, max_header_bytes):
        self.sock, self.start, self.deadline = sock, start, deadline
        self.first_byte_timeout, self.total_timeout = first_byte_timeout, total_timeout
        self.max_header_bytes = max_header_bytes
        self.first_byte_deadline = deadline
        self.buf = bytearray()
        self.received = 0

    def error(self, kind: str, message: str) -> RawHTTPError:
        return RawHTTPError(kind, message, time.monotonic() - self.start)

    def send(self, data: bytes) -> None:
        """Send everything, unless the server answers or closes first: then stop and read that.

        A server may reject a request (413, 400) without reading its body; blocking on sendall
        would turn that legitimate answer into a timeout or a reset.
        """
        view = memoryview(data)
        with selectors.DefaultSelector() as sel:
            sel.register(self.sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
            while view:
                remaining = self.deadline - time.monotonic()
                if remaining <= 0:
                    sent = len(data) - len(view)
                    raise self.error("timeout", f"server took {sent} of {len(data)} request bytes in {self.total_timeout} s")
                events = sel.select(remaining)
                if any(mask & selectors.EVENT_READ for _, mask in events):
                    break
                if events:
                    try:
                        view = view[self.sock.send(view[:_RECV]) :]
                    except OSError:  # EPIPE/ECONNRESET: whatever the server said first is still readable
                        break
        self.first_byte_deadline = min(self.deadline, time.monotonic() + self.first_byte_timeout)

    def recv(self) -> bool:
        """Append what arrives to the buffer; False at a clean EOF."""
        waiting = self.received == 0
        remaining = (self.first_byte_deadline if waiting else self.deadline) - time.monotonic()
        try:
            if remaining <= 0:
                raise TimeoutError
            self.sock.settimeout(remaining)
            data = self.sock.recv(_RECV)
        except TimeoutError:
            if waiting:
                raise self.error(
                    "first-byte-timeout",
                    f"no response byte (first-byte timeout {self.first_byte_timeout} s, total {self.total_timeout} s)",
                ) from None
            message = f"response unfinished within {self.total_timeout} s, {self.received} bytes received"
            raise self.error("timeout", message) from None
        except OSError as exc:  # ECONNRESET mostly: the server dropped the connection
            raise self.error("reset", f"{_oserror(exc)} after {self.received} response bytes") from None
        self.buf += data
        self.received += len(data)
        return bool(data)

    def read_head(self) -> tuple[int, str, tuple[tuple[str, str], ...]]:
        while not (end := _HEAD_END.search(self.buf)):
            got = bytes(self.buf[:5])
            if not b"HTTP/".startswith(got):
                raise self.error("not-http", f"response starts {bytes(self.buf[:40])!r}")
            if len(self.buf) > self.max_header_bytes:
                message = f"{len(self.buf)} bytes without the end of the head (limit {self.max_header_bytes})"
                raise self.error("headers-too-large", message)
            if not self.recv():
                if not self.received:
                    raise self.error("reset", "connection closed before any status line")
                raise self.error("incomplete", f"connection closed inside the response head, {len(self.buf)} bytes in")
        if end.start() > self.max_header_bytes:
            message = f"response head of {end.start()} bytes (limit {self.max_header_bytes})"
            raise self.error("headers-too-large", message)
        lines = bytes(self.buf[: end.start()]).split(b"\n")
        del self.buf[: end.end()]
        status = _STATUS_LINE.fullmatch(lines[0].rstrip(b"\r"))
        if not status:
            raise self.error("not-http", f"bad status line {lines[0][:80]!r}")
        headers: list[list[str]] = []
        for raw in lines[1:]:
            line = raw.rstrip(b"\r")
            if line[:1] in (b" ", b"\t") and headers:  # obs-fold: continuation of the previous value
                headers[-1][1] += " " + line.strip(b" \t").decode("latin-1")
                continue
            name, colon, value = line.partition(b":")
            if not colon or not name.strip():
                raise self.error("not-http", f"bad header line {line[:80]!r}")
            headers.append([name.strip().decode("latin-1"), value.strip(b" \t").decode("latin-1")])
        reason = (status.group(4) or b"").decode("latin-1")
        return int(status.group(3)), reason, tuple((n, v) for n, v in headers)

    def read_body(self, method, status, headers, cap, enough=None) -> tuple[bytes, bool | None]:
        """RFC 9112 §6.3 framing. The body is cut at `cap`; truncated means more was coming.
        `enough(body)`: where to stop reading early, if anywhere yet (truncated is then None)."""
        if method == "HEAD" or status in (101, 204, 304):
            return b"", False
        values = lambda name: headers_of.every(headers, name)  # noqa: E731
        codings = [c.strip().lower() for v in values("transfer-encoding") for c in v.split(",")]
        if codings:
            return self._chunked(cap, enough) if codings[-1] == "chunked" else self._until_close(cap, enough)
        lengths = {c.strip() for v in values("content-length") for c in v.split(",")}
        if not lengths:
            return self._until_close(cap, enough)
        if len(lengths) > 1 or not next(iter(lengths)).isdigit():
            raise self.error("not-http", f"invalid Content-Length {values('content-length')!r}")
        length = int(lengths.pop())
        while len(self.buf) < min(length, cap):
            if not self.recv():
                message = f"connection closed after {len(self.buf)} of {length} body bytes (Content-Length)"
                raise self.error("incomplete", message)
        return bytes(self.buf[: min(length, cap)]), length > cap

    def _until_close(self, cap: int, enough=None) -> tuple[bytes, bool | None]:
        while len(self.buf) <= cap and self.recv():
            if enough is not None and (end := enough(self.buf)) is not None:
                return bytes(self.buf[:end]), None
        return bytes(self.buf[:cap]), len(self.buf) > cap

    def _line(self, what: str) -> bytes:
        while (nl := self.buf.find(b"\n")) < 0:
            if len(self.buf) > _MAX_CHUNK_LINE:
                raise self.error("not-http", f"{what} line longer than {_MAX_CHUNK_LINE} bytes")
            if not self.recv():
                message = f"connection closed inside the chunked body ({what}), {self.received} bytes received"
                raise self.error("incomplete", message)
        line = bytes(self.buf[:nl]).rstrip(b"\r")
        del self.buf[: nl + 1]
        return line

    def _chunked(self, cap: int, enough=None) -> tuple[bytes, bool | None]:
        body = bytearray()
        while True:
            size_line = self._line("chunk size")
            try:
                size = int(size_line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise self.error("not-http", f"bad chunk size line {size_line[:40]!r}") from None
            if size == 0:
                trailer = 0
                while line := self._line("trailer"):
                    trailer += len(line)
                    if trailer > self.max_header_bytes:
                        raise self.error("headers-too-large", f"trailers over {self.max_header_bytes} bytes")
                return bytes(body), False
            while size:
                if not self.buf and not self.recv():
                    raise self.error("incomplete", f"connection closed inside a chunk after {len(body)} body bytes")
                take = min(size, len(self.buf))
                body += self.buf[:take]
                del self.buf[:take]
                size -= take
                if len(body) > cap:
                    return bytes(body[:cap]), True
            if enough is not None and (end := enough(body)) is not None:
                return bytes(body[:end]), None
            if self._line("chunk end"):
                raise self.error("not-http", "chunk data not followed by CRLF")
