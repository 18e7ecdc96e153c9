"""The curl commands in evidence reproduce the request byte for byte (run against a real server)."""

import http.server
import subprocess
import threading

import pytest

from conformance.wire.curl import curl_command


class Recorder(http.server.BaseHTTPRequestHandler):
    seen: list = []

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        Recorder.seen.append((self.command, self.path, dict(self.headers), self.rfile.read(length)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_any

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    Recorder.seen.clear()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.mark.parametrize(
    "method, target, headers, body",
    [
        ("GET", "/ready", [], None),
        ("POST", "/chat", [("Accept", "text/event-stream")], b'{"message": "it\'s \\"quoted\\" $HOME `x`"}'),
        ("PUT", "/a/../b?x=%zz", [("X-Thing", "a;b 'c'")], b"\xff\x00bin%ary\n"),
        ("PATCH", "/x", [], b"@not-a-file"),
        ("DELETE", "/v1/items/1", [], b""),
        ("HEAD", "/health", [], None),
        ("HEAD", "/chat", [("Accept", "text/event-stream")], b'{"a": 1}'),  # curl refuses -I with a body
        ("HEAD", "/chat", [], b""),
        ("GET", "/x/./y/..?q=/../", [("X-Empty", ""), ("X-Latin", "caf\xe9")], None),
        ("POST", "/chat", [], b'{"n": ' + b"7" * 5000 + b"}"),  # over the inline limit: base64 in the line
        ("POST", "/chat", [], bytes(range(256)) * 12),  # every byte value, long
    ],
)
def test_curl_reproduces_the_request(server, method, target, headers, body):
    command = curl_command(method, target, headers, body, base_url=server)
    subprocess.run(["bash", "-c", command], check=True, capture_output=True, timeout=10)
    got_method, got_path, got_headers, got_body = Recorder.seen[-1]
    assert (got_method, got_path) == (method, target)
    for name, value in headers:
        assert got_headers[name] == value
    assert got_body == (body or b"")
    # curl's own defaults are suppressed: the agent sees only what the suite sent.
    assert "Accept" not in got_headers or any(n == "Accept" for n, _ in headers)
    if body is not None:
        assert "Content-Type" not in got_headers


def test_default_base_is_what_a_user_runs():
    assert curl_command("GET", "/health") == "curl -sS -i -H Accept: http://127.0.0.1:8080/health"
