"""Accepts every connection on 8080, reads what is sent and never answers a byte: a server wedged
before its first response (a deadlock in start-up, a worker pool that never starts). The
connections stay open until the client gives up."""

import signal
import socket
import sys
import threading


def hold(connection: socket.socket) -> None:
    with connection:
        while connection.recv(65536):
            pass


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stops when asked: only its silence is wrong
    server = socket.create_server(("0.0.0.0", 8080), backlog=128)
    while True:
        connection, _ = server.accept()
        threading.Thread(target=hold, args=(connection,), daemon=True).start()


if __name__ == "__main__":
    main()
