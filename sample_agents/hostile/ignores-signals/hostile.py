"""Ignores SIGTERM and SIGINT: PID 1 sets both to SIG_IGN and serves from a thread (where uvicorn
installs no handlers). Only SIGKILL stops it."""

import signal
import threading

from agent import serve

if __name__ == "__main__":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    server = threading.Thread(target=serve)
    server.start()
    server.join()
