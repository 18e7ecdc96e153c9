"""Listens on 8080 and greets every connection like an SSH server, whatever is sent: a port taken by
another service, an image whose entry point starts the wrong program. Nothing there speaks HTTP,
so the wait for readiness ends at the start-up budget (no wait to the cap)."""

import signal
import socket
import sys
import threading

GREETING = b"SSH-2.0-OpenSSH_9.2p1\r\n"


def serve(connection: socket.socket) -> None:
    with connection:
        try:
            connection.recv(65536)
            connection.sendall(GREETING)
        except OSError:
            pass


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stops when asked: only its protocol is wrong
    server = socket.create_server(("0.0.0.0", 8080), backlog=128)
    while True:
        connection, _ = server.accept()
        threading.Thread(target=serve, args=(connection,), daemon=True).start()


if __name__ == "__main__":
    main()
