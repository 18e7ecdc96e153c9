"""A conformant agent on another stack: the Python standard library only.

It shows what the contract allows beyond the reference: a non-POST method on a nested path
(`PUT /v1/agents/echo/invoke`), SSE framed with CRLF, `:` comments, `id:` and `retry:` fields,
and `Content-Type: text/event-stream; charset=utf-8`. Every error answer is JSON.
"""

import json
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

INVOKE_PATH = "/v1/agents/echo/invoke"
TOKEN_DELAY_S = 0.05


class Handler(BaseHTTPRequestHandler):
    server_version = "stdlib-agent/1.0"
    protocol_version = "HTTP/1.0"  # one request per connection; a stream ends when the connection does

    # -- plumbing ------------------------------------------------------------------------------
    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    def send_json(self, status, payload):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_error(self, code, message=None, explain=None):
        # The standard library answers errors (bad request lines, unknown methods) in HTML.
        self.close_connection = True
        if code == 501:  # a method token we do not implement is the client's error
            code = 405
        try:
            self.send_json(code, {"error": message or self.responses.get(code, ("error",))[0]})
        except OSError:
            pass

    def __getattr__(self, name):
        if name.startswith("do_"):  # any other method token: 405 in JSON
            return lambda: self.send_json(405, {"error": f"method {self.command} not allowed"})
        raise AttributeError(name)

    def read_json(self):
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return None, "invalid Content-Length"
        if length > 1 << 20:
            return None, "body too large"
        raw = self.rfile.read(length)
        try:
            return json.loads(raw.decode("utf-8")), None
        except (UnicodeDecodeError, ValueError) as exc:
            return None, f"body is not JSON: {exc}"

    # -- routes --------------------------------------------------------------------------------
    def do_GET(self):
        if self.path in ("/ready", "/health"):
            return self.send_json(200, {"status": "ok"})
        if self.path == INVOKE_PATH:
            return self.send_json(405, {"error": "use PUT"})
        self.send_json(404, {"error": f"no route {self.path}"})

    def do_HEAD(self):
        self.do_GET()

    def do_PUT(self):
        if self.path != INVOKE_PATH:
            return self.send_json(404, {"error": f"no route {self.path}"})
        body, error = self.read_json()
        if error:
            return self.send_json(400, {"error": error})
        if not isinstance(body, dict) or not isinstance(body.get("input"), str):
            return self.send_json(422, {"error": 'expected {"input": "<text>"}'})
        words = body["input"].encode("utf-8", "replace").decode("utf-8").split()[:20] or ["(empty)"]
        if "text/event-stream" in self.headers.get("Accept", "").lower():
            return self.stream(words)
        self.send_json(200, {"output": " ".join(words)})

    def stream(self, words):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        out = self.wfile
        out.write(b": stream opened\r\nretry: 3000\r\n\r\n")
        out.flush()
        for i, word in enumerate(words, 1):
            time.sleep(TOKEN_DELAY_S)
            out.write(f"id: {i}\r\nevent: token\r\ndata: {word}\r\n\r\n".encode())
            out.flush()
        out.write(b": done\r\nevent: end\r\ndata: {}\r\n\r\n")
        out.flush()


def main():
    server = ThreadingHTTPServer(("0.0.0.0", 8080), Handler)
    server.daemon_threads = True
    # Python as PID 1 ignores SIGTERM unless it handles it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
