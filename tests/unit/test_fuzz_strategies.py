"""conformance.fuzz: every generated request is valid on the wire, and the odd cases do occur."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import h11
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from conformance.fuzz import strategies as fuzz
from conformance.wire.rawhttp import RawRequest, send

EXAMPLE = {"messages": [{"role": "user", "content": "hi"}], "stream": False, "temperature": 0.2}
HOST_HEADER = "127.0.0.1:8080"
CTL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")

PROPERTY = settings(
    deadline=None,
    database=None,
    max_examples=300,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
all_requests = st.one_of(fuzz.requests_for("POST", "/chat", EXAMPLE), fuzz.requests_for("GET", "/", None))


def _h11_parse(raw: bytes) -> tuple[h11.Request, bytes]:
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(raw)
    request = conn.next_event()
    assert isinstance(request, h11.Request), request
    body = b""
    while not isinstance(event := conn.next_event(), h11.EndOfMessage):
        assert isinstance(event, h11.Data), event  # NEED_DATA here would mean broken framing
        body += event.data
    return request, body


@PROPERTY
@given(all_requests)
def test_every_request_parses_with_h11_as_sent(request):
    parsed, body = _h11_parse(request.to_bytes(HOST_HEADER))
    assert parsed.method.decode() == request.method
    assert parsed.target.decode() == request.target
    expected = [("Host", HOST_HEADER), *request.headers]
    if request.body is not None:
        expected.append(("Content-Length", str(len(request.body))))
    expected.append(("Connection", "close"))
    assert [(n.decode("latin-1"), v.decode("latin-1")) for n, v in parsed.headers.raw_items()] == expected
    assert body == (request.body or b"")
    assert request.curl().startswith("curl ")


@PROPERTY
@given(all_requests)
def test_headers_and_targets_are_clean(request):
    for name, value in request.headers:
        assert name and set(name) <= set(fuzz.TCHAR), name
        assert name.lower() not in fuzz.EXCLUDED_HEADERS
        assert not set(value) & {"\r", "\n", "\0"}, value
        assert value == value.strip(" \t")
        assert all(" " <= ch <= "~" or ch == "\t" or "\x80" <= ch <= "\xff" for ch in value), value
    assert request.target.startswith("/")
    assert not CTL_OR_SPACE.search(request.target) and set(request.target) <= set(fuzz.TARGET_CHARS)
    assert len(request.target) <= fuzz.MAX_TARGET
    assert request.method and set(request.method) <= set(fuzz.TCHAR)


# --- the interesting cases are reached ----------------------------------------------------------

SEARCH = settings(database=None, max_examples=3000, phases=[Phase.generate], suppress_health_check=list(HealthCheck))


def _segments(target: str) -> list[str]:
    return target.split("?")[0].split("/")


def _is_invalid_utf8(body: bytes | None) -> bool:
    try:
        (body or b"").decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _json(body: bytes | None):
    try:
        return json.loads(body)
    except (TypeError, ValueError):
        return None


def _depth(value) -> int:
    if isinstance(value, (list, dict)):
        return 1 + max(map(_depth, value.values() if isinstance(value, dict) else value), default=0)
    return 0


def _repeated(headers) -> bool:
    names = [n.lower() for n, _ in headers]
    return len(names) != len(set(names))


_COMMON = {name.lower() for name in fuzz.COMMON_HEADERS}
PATHS, ACCEPTS, BODIES = fuzz.paths("/chat"), fuzz.accept_values(), fuzz.bodies(EXAMPLE)
REQUESTS = fuzz.requests_for("POST", "/chat", EXAMPLE)
REACHED = {
    "dot segment": (PATHS, lambda t: ".." in _segments(t) or "." in _segments(t)),
    "encoded dot": (PATHS, lambda t: "%2e" in t.lower()),
    "invalid escape": (PATHS, lambda t: re.search(r"%(?![0-9A-Fa-f]{2})", t)),
    "double slash": (PATHS, lambda t: "//" in t.split("?")[0]),
    "trailing slash": (PATHS, lambda t: t == "/chat/"),
    "long target": (PATHS, lambda t: len(t) > 3000),
    "deep target": (PATHS, lambda t: t.count("/") > 100),
    "odd query": (PATHS, lambda t: "?" in t and re.search(r"[^\w=&?/]", t.split("?", 1)[1])),
    "valid q-value": (ACCEPTS, lambda a: re.search(r"q=(0(\.\d+)?|1(\.0+)?)(?![\w.])", a)),
    "invalid q-value": (ACCEPTS, lambda a: "q=abc" in a or "q=2" in a),
    "event-stream in a list": (ACCEPTS, lambda a: "text/event-stream" in a and "," in a),
    "empty accept": (ACCEPTS, lambda a: a == ""),
    "extension method": (fuzz.methods(), lambda m: m not in fuzz.STANDARD_METHODS),
    "obs-text value": (fuzz.header_values(), lambda v: any(ch >= "\x80" for ch in v)),
    "tab in value": (fuzz.header_values(), lambda v: "\t" in v),
    "invalid UTF-8 body": (BODIES, _is_invalid_utf8),
    "no body": (BODIES, lambda b: b is None),
    "empty body": (BODIES, lambda b: b == b""),
    "not JSON": (BODIES, lambda b: b and not _is_invalid_utf8(b) and _json(b) is None),
    "top-level array": (BODIES, lambda b: isinstance(_json(b), list)),
    "top-level scalar": (BODIES, lambda b: isinstance(_json(b), (int, str))),
    "key dropped": (BODIES, lambda b: isinstance(d := _json(b), dict) and "messages" not in d),
    "extra key": (BODIES, lambda b: isinstance(d := _json(b), dict) and set(d) - set(EXAMPLE)),
    "type swapped": (BODIES, lambda b: isinstance(d := _json(b), dict) and isinstance(d.get("stream"), str)),
    "astral string": (BODIES, lambda b: any(ord(c) > 0xFFFF for c in json.dumps(_json(b), ensure_ascii=False))),
    "deep nesting": (BODIES, lambda b: _depth(_json(b)) >= 100),
    "huge body": (BODIES, lambda b: b is not None and len(b) > 64 << 10),
    "repeated header": (REQUESTS, lambda r: _repeated(r.headers)),
    "off the endpoint": (REQUESTS, lambda r: not r.target.startswith("/chat")),
    "random header name": (REQUESTS, lambda r: any(n.lower() not in _COMMON for n, _ in r.headers)),
}


@pytest.mark.filterwarnings("ignore:Generating overly large repr")  # the huge body, found
@pytest.mark.parametrize("case", REACHED)
def test_strategy_reaches(case):
    strategy, predicate = REACHED[case]
    find(strategy, predicate, settings=SEARCH)  # raises NoSuchExample if never generated


def test_most_requests_target_the_endpoint():
    seen = []

    @settings(database=None, max_examples=300, deadline=None, derandomize=True)  # a share, not a draw
    @given(fuzz.requests_for("POST", "/chat", EXAMPLE))
    def collect(request):
        seen.append(request.method == "POST" and request.target == "/chat")

    collect()
    assert sum(seen) / len(seen) > 0.4


# --- end to end against a real server -----------------------------------------------------------


class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def __getattr__(self, name):  # any method token
        if name.startswith("do_"):
            return self._any
        raise AttributeError(name)

    def _any(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        out = json.dumps({"method": self.command, "length": len(body)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(out)


@pytest.fixture(scope="module")
def echo_port():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@settings(deadline=None, database=None, max_examples=200, suppress_health_check=list(HealthCheck))
@given(request=fuzz.requests_for("POST", "/chat", EXAMPLE))
def test_generated_requests_reach_a_real_server(echo_port, request: RawRequest):
    response = send("127.0.0.1", echo_port, request, first_byte_timeout=5, total_timeout=5)
    assert response.status == 200, request.curl()
    if request.method != "HEAD":
        assert json.loads(response.body) == {"method": request.method, "length": len(request.body or b"")}


def test_generation_in_a_thread_gives_what_a_seeded_run_generates():
    """The fuzzer sends a round's requests as its generation thread makes them; they must be
    exactly the ones the round's own seeded run generates afterwards (its answers are replayed)."""
    from conformance.fuzz import generation as generating

    strategy = fuzz.requests_for("POST", "/chat", {"message": "hi"})
    direct: list = []
    generating.generate(strategy, 60, 7, direct.append)
    generation = generating.Generation(strategy, 60, 7)
    handed = []
    while (request := generation.next_ready(block=True)) is not generating.END:
        handed.append(request)
    generation.finish()
    assert handed == direct and generation.complete and len(handed) == 60


def test_a_stopped_generation_ends_early():
    from conformance.fuzz import generation as generating

    generation = generating.Generation(fuzz.requests_for("POST", "/chat", {"message": "hi"}), 100000, 1)
    assert generation.next_ready(block=True) is not generating.END
    generation.finish(timeout_s=10)
    assert not generation.complete and len(generation.requests) < 100000


def test_a_stream_cut_short_is_judged_on_its_complete_blocks():
    """A stream read to its first blocks has no end to judge (no data event yet is not a defect),
    but a framing error within those blocks still is."""
    from conformance.fuzz.judging import broken_property
    from conformance.wire.rawhttp import RawResponse

    asked = RawRequest("POST", "/chat", (("Accept", "text/event-stream"),), b"{}")
    head = (("Content-Type", "text/event-stream"),)
    comments_only = RawResponse(200, "OK", head, b": a\n\n: b\n\n", 0.1, False, cut_short=True)
    assert broken_property(asked, comments_only) is None
    whole = RawResponse(200, "OK", head, b": a\n\n: b\n\n", 0.1, False)
    assert broken_property(asked, whole).requirement == "SSE-FRAMING"
    bad_utf8 = RawResponse(200, "OK", head, b"data: \xff\xfe\n\n", 0.1, False, cut_short=True)
    assert broken_property(asked, bad_utf8).requirement == "SSE-FRAMING"
