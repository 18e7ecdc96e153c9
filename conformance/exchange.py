"""One HTTP request and its answer, kept as evidence: the request as a `curl` command, the status,
the headers and the first bytes of the body. Redirects are never followed."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from .curl import USER_BASE_URL, curl_command

_SHOWN_BODY_BYTES = 300
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

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)

    def _shown(self, value: str) -> str:
        return value.replace(self.origin, USER_BASE_URL) if self.origin else value

    @property
    def content_type(self) -> str | None:
        return self.header("content-type")

    @property
    def curl(self) -> str:
        accept_sse = any(k.lower() == "accept" and "event-stream" in v for k, v in self.request_headers)
        return curl_command(self.method, self.target, self.request_headers, self.request_body, stream=accept_sse)

    def summary(self) -> str:
        """`GET /ready → 307 (Location: /ready/) in 3 ms` style one-liner."""
        if self.status is None:
            return f"{self.method} {self.target} → no answer: {self.error}"
        shown = ", ".join(f"{k}: {self._shown(v)}" for k, v in self.headers if k.lower() in _SHOWN_HEADERS)
        return f"{self.method} {self.target} → {self.status} ({shown or 'no Content-Type'}) in {self.elapsed_s * 1000:.0f} ms"

    def evidence(self) -> list[str]:
        lines = [f"sent: {self.curl}"]
        if self.status is None:
            lines.append(f"received: nothing — {self.error}")
            return lines
        lines.append(f"received: HTTP {self.status} in {self.elapsed_s * 1000:.0f} ms")
        lines += [f"  {k}: {self._shown(v)}" for k, v in self.headers]
        body = self.body[:_SHOWN_BODY_BYTES]
        more = f" … ({len(self.body)} bytes)" if len(self.body) > _SHOWN_BODY_BYTES else ""
        lines.append(f"  body: {body!r}{more}")
        return lines


def describe_error(exc: Exception, timeout_s: float) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out after {timeout_s:g} s ({type(exc).__name__})"
    if isinstance(exc, httpx.ConnectError):
        return f"connection failed ({exc or 'refused'})"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"connection dropped or not HTTP ({exc})"
    return f"{type(exc).__name__}: {exc}"


def request(
    client: httpx.Client,
    method: str,
    target: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout_s: float = 10.0,
    max_body_bytes: int = 1 << 20,
) -> Exchange:
    """Send one request; never raises for transport errors (they become `Exchange.error`)."""
    origin = str(client.base_url).rstrip("/")
    sent_headers = tuple((headers or {}).items())
    if body is not None and not any(k.lower() == "content-type" for k, _ in sent_headers):
        sent_headers += (("Content-Type", "application/json"),)
    started = time.monotonic()
    try:
        with client.stream(
            method, target, headers=dict(sent_headers), content=body, timeout=timeout_s, follow_redirects=False
        ) as response:
            received = bytearray()
            for chunk in response.iter_raw():
                received += chunk
                if len(received) >= max_body_bytes or time.monotonic() - started > timeout_s:
                    break
            return Exchange(
                method, target, sent_headers, body, response.status_code,
                tuple(response.headers.multi_items()), bytes(received), time.monotonic() - started, origin=origin,
            )
    except httpx.HTTPError as exc:
        return Exchange(method, target, sent_headers, body, None, elapsed_s=time.monotonic() - started,
                        error=describe_error(exc, timeout_s), origin=origin)


def make_client(base_url: str, timeout_s: float) -> httpx.Client:
    """An HTTP client that sends only what a check asks for: httpx's default `Accept: */*` and
    `Accept-Encoding` would decide content negotiation for us and compress the bytes we validate."""
    client = httpx.Client(base_url=base_url, timeout=httpx.Timeout(timeout_s, connect=2.0), follow_redirects=False)
    client.headers = httpx.Headers({"User-Agent": "agent-conformance"})
    return client
