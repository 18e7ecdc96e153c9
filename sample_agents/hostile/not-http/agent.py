"""Answers its probes in HTTP, and everything else in another protocol: a raw socket server that
greets like an SSH server and sends binary after it (a port shared with another service, a proxy
that forwards to the wrong backend). Clients must call that no answer, not crash or hang."""

import json
import signal
import socket
import sys
import threading

PROBES = {"/ready", "/health"}
NOT_HTTP = b"SSH-2.0-OpenSSH_9.2p1\r\n" + bytes(range(256)) * 16


def read_head(connection: socket.socket) -> bytes:
    head = b""
    while b"\r\n\r\n" not in head and len(head) < 65536:
        data = connection.recv(4096)
        if not data:
            break
        head += data
    return head


def serve(connection: socket.socket) -> None:
    with connection:
        try:
            request_line = read_head(connection).split(b"\r\n", 1)[0].decode("latin-1")
            parts = request_line.split(" ")
            if len(parts) == 3 and parts[1] in PROBES:
                body = json.dumps({"status": "ok"}).encode()
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                   b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
            else:
                connection.sendall(NOT_HTTP)
        except OSError:
            pass


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = socket.create_server(("0.0.0.0", 8080), backlog=128)
    while True:
        connection, _ = server.accept()
        threading.Thread(target=serve, args=(connection,), daemon=True).start()


if __name__ == "__main__":
    main()
