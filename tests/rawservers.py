"""Raw socket servers that misbehave on purpose, for the tests of the suite's bounded clients."""

from __future__ import annotations

import socket
import threading
from contextlib import contextmanager

HOST = "127.0.0.1"


@contextmanager
def raw_server(behaviour):
    """A listening socket whose connections are handed to behaviour(conn, stop) in a thread."""
    stop = threading.Event()
    listener = socket.create_server((HOST, 0))
    listener.settimeout(0.05)  # how quickly the accept loop notices `stop`

    def serve():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=_run, args=(conn,), daemon=True).start()

    def _run(conn):
        with conn:
            try:
                behaviour(conn, stop)
            except OSError:  # the client hung up: expected for the hostile cases
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        listener.close()


def read_head(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data
