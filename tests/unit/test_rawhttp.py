"""conformance.wire.rawhttp against real local servers: a stdlib HTTP server, and raw sockets misbehaving."""

from __future__ import annotations

import json
import pickle
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conformance.wire.rawhttp import RawHTTPError, RawRequest, RawResponse, send
from tests.rawservers import HOST, raw_server, read_head as _read_head


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # so chunked answers are allowed

    def log_message(self, *args):  # keep pytest output clean
        pass

    def __getattr__(self, name):  # any method token, not only the do_GET family
        if name.startswith("do_"):
            return self._any
        raise AttributeError(name)

    def _any(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"hello ", b"chunked ", b"world"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\nX-Trailer: yes\r\n\r\n")
            return
        if self.path == "/until-close":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"x" * 5000)
            self.close_connection = True
            return
        echo = {
            "method": self.command,
            "target": self.path,
            "headers": [[n, v] for n, v in self.headers.items()],
            "body": body.decode("latin-1"),
        }
        out = json.dumps(echo).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Set-Cookie", "a=1")
        self.send_header("Set-Cookie", "b=2")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(out)


@pytest.fixture(scope="module")
def http_server():
    server = ThreadingHTTPServer((HOST, 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _fails(port, kind, request=RawRequest("GET", "/"), **bounds) -> RawHTTPError:
    with pytest.raises(RawHTTPError) as info:
        send(HOST, port, request, **bounds)
    assert info.value.kind == kind, str(info.value)
    return info.value


# --- normal exchanges ---------------------------------------------------------------------------


def test_get_json_keeps_header_order_and_duplicates(http_server):
    response = send(HOST, http_server, RawRequest("GET", "/x?a=1"))
    assert isinstance(response, RawResponse)
    assert (response.status, response.reason, response.truncated) == (200, "OK", False)
    assert response.header("content-type") == "application/json"
    assert [v for n, v in response.headers if n == "Set-Cookie"] == ["a=1", "b=2"]
    assert response.header("SET-COOKIE") == "a=1" and response.header("missing") is None
    echo = json.loads(response.body)
    assert echo["target"] == "/x?a=1"
    assert ["Host", f"{HOST}:{http_server}"] in echo["headers"]
    assert ["Connection", "close"] in echo["headers"]
    assert not any(n.lower() == "content-length" for n, _ in echo["headers"])  # body None: no framing
    assert 0 <= response.elapsed_s < 2


def test_sends_exactly_what_it_is_given(http_server):
    headers = (("X-Rep", "1"), ("x-rep", "2"), ("X-Obs", "caf\xe9"), ("X-Empty", ""))
    request = RawRequest("FROB", "/a/../b/%zz/./c", headers, b"\xff\x00 body")
    echo = json.loads(send(HOST, http_server, request).body)
    assert (echo["method"], echo["target"]) == ("FROB", "/a/../b/%zz/./c")
    sent = [tuple(h) for h in echo["headers"]]
    assert [h for h in sent if h[0].lower().startswith("x-")] == list(headers)  # order, case, duplicates, obs-text
    assert ("Content-Length", "7") in sent
    assert echo["body"] == "\xff\x00 body"


def test_empty_body_is_framed(http_server):
    echo = json.loads(send(HOST, http_server, RawRequest("POST", "/", body=b"")).body)
    assert ["Content-Length", "0"] in echo["headers"]


def test_head_has_no_body(http_server):
    response = send(HOST, http_server, RawRequest("HEAD", "/"), total_timeout=3)
    assert response.status == 200 and response.body == b"" and int(response.header("Content-Length")) > 0


def test_chunked_and_close_delimited_bodies(http_server):
    assert send(HOST, http_server, RawRequest("GET", "/chunked")).body == b"hello chunked world"
    response = send(HOST, http_server, RawRequest("GET", "/until-close"))
    assert response.body == b"x" * 5000 and not response.truncated
    cut = send(HOST, http_server, RawRequest("GET", "/until-close"), max_body_bytes=100)
    assert cut.body == b"x" * 100 and cut.truncated
    cut = send(HOST, http_server, RawRequest("GET", "/chunked"), max_body_bytes=8)
    assert cut.body == b"hello ch" and cut.truncated


def test_content_length_over_cap_is_truncated(http_server):
    response = send(HOST, http_server, RawRequest("POST", "/", body=b"y" * 1000), max_body_bytes=10)
    assert len(response.body) == 10 and response.truncated


def test_curl_reproduction():
    request = RawRequest("POST", "/chat", (("Accept", "text/event-stream"),), b'{"a": 1}')
    line = request.curl()
    assert line.startswith("curl ") and "-N" in line and "/chat" in line and "--data-binary" in line


def test_to_bytes_adds_host_length_and_close():
    raw = RawRequest("PUT", "/p", (("A", "b"),), b"xyz").to_bytes("h:1")
    assert raw == b"PUT /p HTTP/1.1\r\nHost: h:1\r\nA: b\r\nContent-Length: 3\r\nConnection: close\r\n\r\nxyz"


# --- hostile servers ----------------------------------------------------------------------------


def test_connect_refused():
    with socket.socket() as s:  # a port nothing listens on
        s.bind((HOST, 0))
        port = s.getsockname()[1]
    _fails(port, "connect-refused")


def test_never_answers_is_a_first_byte_timeout():
    def silent(conn, stop):
        _read_head(conn)
        stop.wait(10)

    with raw_server(silent) as port:
        error = _fails(port, "first-byte-timeout", first_byte_timeout=0.5, total_timeout=5)
    assert 0.5 <= error.elapsed_s < 1.5
    assert "0.5 s" in str(error)
    assert pickle.loads(pickle.dumps(error)).kind == "first-byte-timeout"


def test_garbage_is_not_http():
    def garbage(conn, stop):
        _read_head(conn)
        conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")
        stop.wait(10)

    with raw_server(garbage) as port:
        error = _fails(port, "not-http", total_timeout=3)
    assert error.elapsed_s < 1 and "SSH-2.0" in str(error)


def test_bad_status_line_is_not_http():
    def bad(conn, stop):
        _read_head(conn)
        conn.sendall(b"HTTP/1.1 OK\r\n\r\n")

    with raw_server(bad) as port:
        _fails(port, "not-http", total_timeout=3)


@pytest.mark.parametrize("abortive", [False, True], ids=["fin", "rst"])
def test_immediate_close_is_a_reset(abortive):
    def hang_up(conn, stop):
        if abortive:  # SO_LINGER 0: close sends RST instead of FIN
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        conn.close()

    with raw_server(hang_up) as port:
        error = _fails(port, "reset", RawRequest("POST", "/", body=b"x" * 1000), total_timeout=3)
    assert error.elapsed_s < 1


def test_close_after_reading_request_is_a_reset():
    def read_then_close(conn, stop):
        _read_head(conn)

    with raw_server(read_then_close) as port:
        error = _fails(port, "reset", total_timeout=3)
    assert "before any status line" in str(error)


def test_huge_headers():
    def huge(conn, stop):
        _read_head(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        while not stop.is_set():
            conn.sendall(b"X-Junk: " + b"a" * 8000 + b"\r\n")

    with raw_server(huge) as port:
        error = _fails(port, "headers-too-large", max_header_bytes=65536, total_timeout=3)
    assert error.elapsed_s < 1 and "65536" in str(error)


def test_endless_chunked_body_is_truncated_at_the_cap():
    def endless(conn, stop):
        _read_head(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"%x\r\n%s\r\n" % (4096, b"z" * 4096)
        while not stop.is_set():
            conn.sendall(chunk)

    with raw_server(endless) as port:
        response = send(HOST, port, RawRequest("GET", "/"), max_body_bytes=1 << 20, total_timeout=3)
    assert response.truncated and response.body == b"z" * (1 << 20)
    assert response.elapsed_s < 3 + 1


def test_short_content_length_is_incomplete():
    def short(conn, stop):
        _read_head(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")

    with raw_server(short) as port:
        error = _fails(port, "incomplete", total_timeout=3)
    assert "10 of 100" in str(error)


def test_chunked_cut_short_is_incomplete():
    def short(conn, stop):
        _read_head(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc")

    with raw_server(short) as port:
        _fails(port, "incomplete", total_timeout=3)


def test_dripping_body_hits_the_total_timeout():
    def drip(conn, stop):
        _read_head(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
        while not stop.wait(0.1):
            conn.sendall(b".")

    with raw_server(drip) as port:
        error = _fails(port, "timeout", first_byte_timeout=5, total_timeout=1)
    assert 1 <= error.elapsed_s < 2


def test_interim_responses_are_skipped():
    def early_hints(conn, stop):
        _read_head(conn)
        conn.sendall(b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    with raw_server(early_hints) as port:
        response = send(HOST, port, RawRequest("GET", "/"), total_timeout=3)
    assert (response.status, response.body) == (200, b"ok")


def test_early_answer_to_an_unread_body_is_not_a_reset():
    """A server may refuse a big body without reading it (413) and close: that is an answer."""

    def refuse(conn, stop):
        _read_head(conn)
        conn.sendall(b"HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        time.sleep(0.2)

    with raw_server(refuse) as port:
        response = send(HOST, port, RawRequest("POST", "/", body=b"x" * (16 << 20)), total_timeout=5)
    assert response.status == 413


# --- event streams read to their first blocks (the fuzzer's stream_blocks) -----------------------
def _endless_events(chunked: bool, content_type: bytes = b"text/event-stream", status: bytes = b"200 OK"):
    """A stream whose events never end: only a cut can finish the read before the total timeout."""

    def serve(conn, stop):
        _read_head(conn)
        framing = b"Transfer-Encoding: chunked\r\n" if chunked else b"Connection: close\r\n"
        conn.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Type: " + content_type + b"\r\n" + framing + b"\r\n")
        # CRLF line ends and a block split across two writes, as a real server's flushes fall.
        pieces = [b": hello\r\n\r\n", b"data: one\r\n", b"\r\n", b"data: two\n\n", b"data: three\n\n"]
        for piece in pieces + [b"data: more\n\n"] * 1000:
            if stop.is_set():
                return
            conn.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            time.sleep(0.01)

    return serve


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "until-close"])
def test_an_event_stream_is_cut_after_its_first_blocks(chunked):
    with raw_server(_endless_events(chunked)) as port:
        response = send(HOST, port, RawRequest("GET", "/"), total_timeout=5, stream_blocks=2)
    assert response.cut_short and not response.truncated
    assert response.body == b": hello\r\n\r\ndata: one\r\n\r\n"  # cut at the end of the second block
    assert response.elapsed_s < 2


def test_without_stream_blocks_an_endless_stream_runs_to_the_timeout():
    with raw_server(_endless_events(True)) as port:
        _fails(port, "timeout", total_timeout=0.5)


@pytest.mark.parametrize("content_type, status", [(b"application/json", b"200 OK"),
                                                  (b"text/event-stream", b"500 Internal Server Error")])
def test_only_a_2xx_event_stream_is_cut(content_type, status):
    """A JSON answer, or an error answer, is read as framed: the cut is for 2xx event streams."""
    with raw_server(_endless_events(True, content_type, status)) as port:
        _fails(port, "timeout", total_timeout=0.5, stream_blocks=2)


def test_a_stream_that_ends_first_is_read_whole(http_server):
    response = send(HOST, http_server, RawRequest("GET", "/chunked"), stream_blocks=2)
    assert not response.cut_short and response.body == b"hello chunked world"
