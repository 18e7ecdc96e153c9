"""A conformant agent with a model's latency: its first token comes 1.5 s after the request, then
one every 0.3 s, as an agent that calls a hosted model does. Python's standard library only.

Everything a check or the fuzzer sends to POST /chat costs seconds here, as on a real agent; every
other route answers at once. MODEL_FIRST_TOKEN_S and MODEL_TOKEN_S change the delays.

DEFECT, set by the broken twins, adds one mistake:
- "dot-path-500": a request path with a dot in it is answered 500 (a static-file fallback that
  raises), whatever the method;
- "header-crash": a header value with a byte outside ASCII kills the process (a native decoder
  that aborts), so the container exits.
"""

import json
import os
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FIRST_TOKEN_S = float(os.environ.get("MODEL_FIRST_TOKEN_S", "1.5"))
TOKEN_S = float(os.environ.get("MODEL_TOKEN_S", "0.3"))
DEFECT = os.environ.get("DEFECT", "")
TOKENS = 5


def wants_event_stream(accept: str) -> bool:
    """text/event-stream listed with a q-value above 0."""
    for item in accept.split(","):
        kind, *params = [part.strip().lower() for part in item.split(";")]
        if kind == "text/event-stream":
            q = next((p.split("=", 1)[1] for p in params if p.startswith("q=")), "1")
            try:
                return float(q) > 0
            except ValueError:
                return False
    return False


class Handler(BaseHTTPRequestHandler):
    server_version = "model-latency-agent/1.0"
    protocol_version = "HTTP/1.0"  # one request per connection; a stream ends when the connection does

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
        try:
            self.send_json(405 if code == 501 else code, {"error": message or "bad request"})
        except OSError:
            pass

    def parse_request(self):
        if not super().parse_request():
            return False
        if DEFECT == "header-crash" and any(not value.isascii() for value in self.headers.values()):
            os._exit(70)  # the defect: a native decoder aborting the whole process
        if DEFECT == "dot-path-500" and "." in self.path.split("?")[0]:
            self.send_json(500, {"error": "Traceback (most recent call last): FileNotFoundError: static file"})
            return False
        return True

    def __getattr__(self, name):
        if name.startswith("do_"):  # any other method token: 405 in JSON
            return lambda: self.send_json(405, {"error": f"method {self.command} not allowed"})
        raise AttributeError(name)

    def do_GET(self):
        if self.path in ("/ready", "/health"):
            return self.send_json(200, {"status": "ok"})
        if self.path == "/chat":
            return self.send_json(405, {"error": "use POST"})
        self.send_json(404, {"error": f"no route {self.path}"})

    def do_HEAD(self):
        self.do_GET()

    def do_POST(self):
        if self.path != "/chat":
            return self.send_json(404, {"error": f"no route {self.path}"})
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return self.send_json(400, {"error": "invalid Content-Length"})
        if not 0 <= length <= 1 << 20:
            return self.send_json(413, {"error": "body too large"})
        try:
            body = json.loads(self.rfile.read(length).decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            return self.send_json(400, {"error": f"body is not JSON: {exc}"})
        if not isinstance(body, dict) or not isinstance(body.get("message"), str):
            return self.send_json(422, {"error": 'expected {"message": "<text>"}'})
        words = [f"token{i}" for i in range(TOKENS)]
        if wants_event_stream(self.headers.get("Accept", "")):
            return self.stream(words)
        time.sleep(FIRST_TOKEN_S + TOKEN_S * (len(words) - 1))  # the whole answer from the model first
        self.send_json(200, {"answer": " ".join(words), "thread_id": body.get("thread_id")})

    def stream(self, words):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        time.sleep(FIRST_TOKEN_S)
        for i, word in enumerate(words):
            if i:
                time.sleep(TOKEN_S)
            self.wfile.write(f"event: token\ndata: {word}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"event: end\ndata: {}\n\n")
        self.wfile.flush()


def main():
    server = ThreadingHTTPServer(("0.0.0.0", 8080), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # Python as PID 1 ignores SIGTERM otherwise
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
