"""The standard-library agent on `HTTPServer` instead of `ThreadingHTTPServer`: one request at a
time. With a model that takes 0.3 s a token, a probe arriving mid-stream waits ~2 s."""

import signal
import sys
from http.server import HTTPServer

import agent

agent.TOKEN_DELAY_S = 0.3

if __name__ == "__main__":
    server = HTTPServer(("0.0.0.0", 8080), agent.Handler)  # the bug: no threads
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server.serve_forever(poll_interval=0.2)
