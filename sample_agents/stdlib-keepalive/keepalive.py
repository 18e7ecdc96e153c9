"""The standard-library agent on HTTP/1.1 keep-alive, as a new user writes it: `http.server` sends an
answer's head and its body in two writes, so on a kept-alive connection each answer waits about
40 ms for the client's delayed ACK (Nagle's algorithm holds the body back). Conformant; only slow
per request. Streams close their connection (they have no length)."""

import signal
import sys
from http.server import ThreadingHTTPServer

import agent

MAX_BODY = 1 << 20


class KeepAlive(agent.Handler):
    protocol_version = "HTTP/1.1"

    def parse_request(self):
        self._body_read = False
        return super().parse_request()

    def read_json(self):
        self._body_read = True
        return super().read_json()

    def drain_body(self):
        """A body no route read is read anyway: the next request on the connection starts after it."""
        if self._body_read:
            return
        self._body_read = True
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if 0 <= length <= MAX_BODY:
            self.rfile.read(length)
        else:
            self.close_connection = True

    def send_json(self, status, payload):
        if getattr(self, "headers", None) is not None:
            self.drain_body()
        super().send_json(status, payload)

    def stream(self, words):
        self.close_connection = True  # no Content-Length: the stream ends with the connection
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        out = self.wfile
        out.write(b": stream opened\r\nretry: 3000\r\n\r\n")
        for i, word in enumerate(words, 1):
            agent.time.sleep(agent.TOKEN_DELAY_S)
            out.write(f"id: {i}\r\nevent: token\r\ndata: {word}\r\n\r\n".encode())
        out.write(b": done\r\nevent: end\r\ndata: {}\r\n\r\n")


def main():
    server = ThreadingHTTPServer(("0.0.0.0", 8080), KeepAlive)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
