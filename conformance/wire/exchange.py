"""One HTTP request and its answer, kept as evidence: the request as a `curl` command, the status,
the headers and the first bytes of the body. Redirects are never followed. Reading is bounded by
the client's budgets (`wire.bounded`): an answer cut at a cap says which, with the figure."""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx

from ..contract.agent_config import Budgets
from . import bounded, mediatype
from . import headers as headers_of
from .curl import DEFAULT_USER_URL, curl_command

_SHOWN_BODY_BYTES = 300
# A body is kept whole up to this; past it only its start and whether it parses as JSON, so a
# run's many answers cannot add up to the response cap each.
KEPT_BODY_BYTES = 64 << 10
_SHOWN_HEADERS = ("content-type", "content-length", "location", "transfer-encoding")


@dataclass(frozen=True)
class Exchange:
    method: str
    target: str
    request_headers: tuple[tuple[str, str], ...]
    request_body: bytes | None
    status: int | None  # None: no HTTP answer (see error)
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    elapsed_s: float = 0.0
    error: str = ""  # why there is no answer: "connection refused", "timed out after 10 s", …
    origin: str = ""  # the candidate's ephemeral http://127.0.0.1:PORT, shown as the user's :8080
    cut: str = ""  # why reading stopped before the answer ended: a cap, with its figure and name
    body_size: int = -1  # bytes of body read (-1: `body` is all of it)
    not_json: str | None = None  # a body not kept whole: why it does not parse as JSON (None: it does)
    user_url: str = DEFAULT_USER_URL  # what a user reaches the image at (`docker run -p PORT:PORT`): shown for origin

    def json_error(self) -> str | None:
        """Why the body is not a JSON document, or None."""
        if self.cut:
            return self.cut
        if self.body_size >= 0:
            return self.not_json
        return _json_error(self.body)

    def json(self):
        """The body as JSON (None when it is not a whole JSON document)."""
        if self.json_error() is not None or self.body_size >= 0:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def header(self, name: str) -> str | None:
        return headers_of.first(self.headers, name)

    def _shown(self, value: str) -> str:
        return value.replace(self.origin, self.user_url) if self.origin else value

    @property
    def content_type(self) -> str | None:
        return self.header("content-type")

    @property
    def curl(self) -> str:
        accept = headers_of.first(self.request_headers, "accept")
        return curl_command(self.method, self.target, self.request_headers, self.request_body,
                            base_url=self.user_url, stream=mediatype.asks_for_event_stream(accept))

    def summary(self) -> str:
        """`GET /ready → 307 (Location: /ready/) in 3 ms` style one-liner."""
        if self.status is None:
            return f"{self.method} {self.target} → no answer: {self.error}"
        shown = ", ".join(f"{k}: {self._shown(v)}" for k, v in self.headers if k.lower() in _SHOWN_HEADERS)
        cut = f"; {self.cut}" if self.cut else ""
        return (f"{self.method} {self.target} → {self.status} ({shown or 'no Content-Type'}) in "
                f"{self.elapsed_s * 1000:.0f} ms{cut}")

    def evidence(self) -> list[str]:
        lines = [f"sent: {self.curl}"]
        if self.status is None:
            lines.append(f"received: nothing — {self.error}")
            return lines
        lines.append(f"received: HTTP {self.status} in {self.elapsed_s * 1000:.0f} ms")
        lines += [f"  {k}: {self._shown(v)}" for k, v in self.headers]
        body = self.body[:_SHOWN_BODY_BYTES]
        size = self.body_size if self.body_size >= 0 else len(self.body)
        more = f" … ({size} bytes)" if size > _SHOWN_BODY_BYTES else ""
        lines.append(f"  body: {body!r}{more}")
        if self.cut:
            lines.append(f"  cut: {self.cut}")
        return lines


def _json_error(body: bytes) -> str | None:
    try:
        json.loads(body)
    except ValueError as exc:
        return f"the body does not parse as JSON ({exc})"
    except RecursionError:
        return "the body does not parse as JSON (nested too deeply)"
    return None


def describe_error(exc: Exception, timeout_s: float, seen: bytes = b"") -> str:
    """Why there is no answer; `seen`: the first bytes that came instead of an HTTP head."""
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out after {timeout_s:g} s ({type(exc).__name__})"
    if isinstance(exc, httpx.ConnectError):
        return f"connection failed ({exc or 'refused'})"
    if bounded.is_head_limit(exc):
        return bounded.CLIENT_HEAD_LIMIT
    if isinstance(exc, httpx.RemoteProtocolError):
        came = f"; it sent {seen!r}{' …' if len(seen) >= bounded.SEEN_BYTES else ''}" if seen else ""
        return f"connection dropped or not HTTP ({exc}){came}"
    return f"{type(exc).__name__}: {exc}"


def no_head(exc: httpx.HTTPError, limits: bounded.Within, client: httpx.Client) -> str:
    """Why no response head came: its deadline passed, or the transport failed (with the first
    bytes that came instead of an HTTP head, as `client` read them)."""
    if isinstance(exc, httpx.ReadTimeout):
        return limits.no_head()
    if isinstance(exc, httpx.TimeoutException):
        return describe_error(exc, limits.head_s)
    seen = client.bytes_seen() if isinstance(client, bounded.Client) else b""
    return describe_error(exc, limits.total_s, seen)


def request(
    client: httpx.Client,
    method: str,
    target: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout_s: float | None = None,
) -> Exchange:
    """Send one request; never raises for transport errors (they become `Exchange.error`). Bounded
    by the client's budgets (`bounded.Client`), or by `timeout_s` for head and body when given."""
    origin = str(client.base_url).rstrip("/")
    user_url = getattr(client, "user_url", DEFAULT_USER_URL)
    sent_headers = tuple((headers or {}).items())
    if body is not None and not headers_of.has(sent_headers, "content-type"):
        sent_headers += (("Content-Type", mediatype.JSON),)
    received = bytearray()
    reading = bounded.read(client, method, target, headers=dict(sent_headers), body=body, timeout_s=timeout_s,
                           on_chunk=received.extend)
    limits = bounded.within(bounded.budgets_of(client), (headers or {}).get("Accept"), timeout_s, reading.known_endless)
    cut = reading.head_cut or (f"{reading.stopped}; the rest was not read" if reading.stopped else "")
    if reading.error is not None:
        if reading.status is not None and reading.timed_out:
            cut = limits.unfinished(reading.received)  # the head came: what came of the body is evidence
        else:  # no head, or a dropped connection: no answer, even after the head
            error = (no_head(reading.error, limits, client) if reading.status is None
                     else describe_error(reading.error, limits.total_s))
            return Exchange(method, target, sent_headers, body, None, elapsed_s=reading.elapsed_s, error=error,
                            origin=origin, user_url=user_url)
    return answered(method, target, sent_headers, body, reading.status, reading.headers, received, reading.elapsed_s,
                    origin, cut, user_url)


def answered(method, target, sent_headers, body, status, answer_headers, received: bytes | bytearray,
             elapsed: float, origin: str, cut: str, user_url: str = DEFAULT_USER_URL) -> Exchange:
    """The Exchange of an answer, its body kept whole only when small (see KEPT_BODY_BYTES): the
    httpx clients' and the raw probes' (`rawprobe`) alike."""
    if len(received) <= KEPT_BODY_BYTES:
        return Exchange(method, target, sent_headers, body, status, answer_headers, bytes(received), elapsed,
                        origin=origin, cut=cut, user_url=user_url)
    return Exchange(method, target, sent_headers, body, status, answer_headers, bytes(received[:KEPT_BODY_BYTES]),
                    elapsed, origin=origin, cut=cut, body_size=len(received),
                    not_json=None if cut else _json_error(received), user_url=user_url)
