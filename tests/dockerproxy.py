"""A unix-socket proxy in front of the Docker daemon that a test can cut, to see the suite meet a
daemon that stops answering mid-run, without touching the machine's own daemon.

`hang()`: nothing is forwarded any more, connections stay open and new ones are accepted and held
(a hung daemon). `refuse()`: every connection is closed and the socket removed (a daemon gone).
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
from pathlib import Path


class DockerProxy:
    def __init__(self, upstream: str = "/var/run/docker.sock", tcp_host: str | None = None):
        """`tcp_host`: listen on TCP at that address of this host instead of a unix socket (the
        daemon as a remote engine looks to the suite)."""
        self.upstream = upstream
        self.hung = threading.Event()
        self.closed = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        if tcp_host:
            self._listener = socket.create_server((tcp_host, 0))
            self.url = f"tcp://{tcp_host}:{self._listener.getsockname()[1]}"
        else:
            # A short path: unix socket paths are limited to 108 bytes, pytest's tmp_path can be longer.
            self.directory = Path(tempfile.mkdtemp(prefix="ac-proxy-"))
            self.path = self.directory / "docker.sock"
            self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._listener.bind(str(self.path))
            self._listener.listen(64)
            self.url = f"unix://{self.path}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _keep(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            self._sockets.append(sock)
        return sock

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self._keep(client)
            if self.hung.is_set():
                continue  # held: accepted, never answered
            upstream = self._keep(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
            try:
                upstream.connect(self.upstream)
            except OSError:
                client.close()
                continue
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                if self.hung.is_set():
                    self.closed.wait()  # what came is swallowed; the connection stays open
                    return
                target.sendall(data)
        except OSError:
            pass
        finally:
            if not self.hung.is_set():
                for sock in (source, target):
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

    def hang(self) -> None:
        self.hung.set()

    def refuse(self) -> None:
        self.close()

    def close(self) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)  # wakes a read blocked on it; close alone does not
                except OSError:
                    pass
                sock.close()
        if self.url.startswith("unix://"):
            try:
                os.unlink(self.path)
                self.directory.rmdir()
            except OSError:
                pass
