"""Raw socket servers that misbehave on purpose, for the tests of the suite's bounded clients, and a
stub agent on one for the fuzz campaign's (`StubAgent`, `StubCandidate`): no Docker."""

from __future__ import annotations

import json
import socket
import threading
import time
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


def read_request(conn) -> tuple[str, str, tuple[tuple[str, str], ...], bytes] | None:
    """One request off the connection (method, target, headers, body), or None if it hung up first."""
    data = read_head(conn)
    if b"\r\n\r\n" not in data:
        return None
    head, body = data.split(b"\r\n\r\n", 1)
    line, *fields = head.decode("latin-1").split("\r\n")
    method, target, _ = line.split(" ", 2)
    headers = tuple((name.strip(), value.strip()) for name, value in (f.split(":", 1) for f in fields if ":" in f))
    length = int(next((v for n, v in headers if n.lower() == "content-length"), "0") or 0)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return method, target, headers, body


def answer(conn, status: int, body: bytes = b"", content_type: str = "application/json") -> None:
    head = f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
    conn.sendall(head.encode() + b"Connection: close\r\n\r\n" + body)


class _Leaving:
    """A connection that calls `leave()` before its first write: the request is no longer in
    flight once its answer starts out."""

    def __init__(self, conn, leave):
        self._conn, self._leave = conn, leave

    def sendall(self, data: bytes) -> None:
        self._leave()
        self._conn.sendall(data)

    def __getattr__(self, name):
        return getattr(self._conn, name)


class StubAgent:
    """An agent on a raw socket server, for the fuzz campaign's tests: GET /health (`health_path`)
    answers 200, the declared endpoint POST /chat answers JSON or an event stream (after `delay_s`),
    anything else a 4xx (after `other_delay_s`). Defects are switched on by name, each met by
    requests the generator makes often:
      "5xx":     a /chat body whose "message" is not a string is answered 500;
      "framing": a /chat event stream asked with a non-ASCII header byte carries invalid UTF-8;
      "drop":    a target with a query gets its connection closed without an answer;
      "sick":    a DELETE is answered 200, and /health 503 from then on;
      "exit":    a PUT ends the process (exit code 70): every later connection is dropped.
      "surrogate": a /chat "message" holding a lone surrogate is answered 500, as an SDK that
                 echoes it and cannot encode its answer does (random generation hardly meets it).
    It records what it was sent (`seen`) and the most requests it had in flight at once."""

    def __init__(self, defects: tuple[str, ...] = (), delay_s: float = 0.0, health_path: str = "/health",
                 other_delay_s: float = 0.0):
        self.defects = set(defects)
        self.delay_s = delay_s
        self.other_delay_s = other_delay_s  # before answering a request to another path
        self.health_path = health_path
        self.sick = False
        self.exit_code: int | None = None
        self.seen: list[tuple[str, str]] = []
        self.in_flight = {"all": 0, "endpoint": 0}
        self.most_in_flight = {"all": 0, "endpoint": 0}
        self._lock = threading.Lock()

    def __call__(self, conn, stop) -> None:
        if self.exit_code is not None:
            return  # closed at once: the process is gone
        request = read_request(conn)
        if request is None:
            return
        method, target, headers, body = request
        endpoint = target.split("?")[0] == "/chat"
        self._enter(method, target, endpoint, +1)
        left = []

        def leave() -> None:  # before the answer goes out: the client may send the next at once
            if not left:
                left.append(True)
                self._enter(method, target, endpoint, -1)

        try:
            self._serve(_Leaving(conn, leave), method, target, headers, body, endpoint)
        finally:
            leave()

    def _enter(self, method: str, target: str, endpoint: bool, step: int) -> None:
        with self._lock:
            if step > 0:
                self.seen.append((method, target))
            for lane in ("all", "endpoint") if endpoint else ("all",):
                self.in_flight[lane] += step
                self.most_in_flight[lane] = max(self.most_in_flight[lane], self.in_flight[lane])

    def _serve(self, conn, method, target, headers, body, endpoint) -> None:
        if method == "GET" and target == self.health_path:
            return answer(conn, 503 if self.sick else 200, b'{"status": "ok"}')
        if "drop" in self.defects and "?" in target:
            return  # closed without an answer
        if method == "DELETE" and "sick" in self.defects:
            self.sick = True
            return answer(conn, 200, b"{}")
        if method == "PUT" and "exit" in self.defects:
            self.exit_code = 70
            return
        if not endpoint:
            time.sleep(self.other_delay_s)
            return answer(conn, 404, b'{"error": "not found"}')
        if method != "POST":
            return answer(conn, 405, b'{"error": "method"}')
        time.sleep(self.delay_s)
        return self._chat(conn, headers, body)

    def _chat(self, conn, headers, body) -> None:
        try:
            message = json.loads(body)["message"]
        except (ValueError, KeyError, TypeError):
            return answer(conn, 400, b'{"error": "bad body"}')
        if not isinstance(message, str):
            return answer(conn, 500 if "5xx" in self.defects else 400, b'{"error": "message"}')
        if "surrogate" in self.defects and any(0xD800 <= ord(c) <= 0xDFFF for c in message):
            return answer(conn, 500, b"Internal Server Error", "text/plain")
        accept = ", ".join(v for n, v in headers if n.lower() == "accept")
        if "text/event-stream" not in accept:
            return answer(conn, 200, json.dumps({"reply": message[:20]}).encode())
        odd = any(ord(c) > 0x7F for _, v in headers for c in v)
        data = b"\xff\xfe" if odd and "framing" in self.defects else b'{"reply": "hi"}'
        return answer(conn, 200, b"data: " + data + b"\n\n", "text/event-stream")


class StubCandidate:
    """What the fuzz campaign asks of a candidate (`conformance.candidate.container.Candidate`), for
    a StubAgent on a raw socket server: no Docker."""

    def __init__(self, agent: StubAgent, port: int):
        from conformance.wire import bounded

        self.agent, self.port = agent, port
        self.traffic = bounded.Traffic()

    def address(self) -> tuple[str, int]:
        return HOST, self.port

    def client_http(self):
        from conformance.wire import bounded

        return bounded.make_client(f"http://{HOST}:{self.port}", traffic=self.traffic)

    def raw_probe(self, timeout_s=None):
        from conformance.contract.agent_config import Budgets
        from conformance.wire.rawprobe import RawProbe

        return RawProbe(HOST, self.port, Budgets(), self.traffic, timeout_s=timeout_s)

    def state(self) -> dict:
        return {"Running": self.agent.exit_code is None, "ExitCode": self.agent.exit_code or 0}

    def log_tail(self, lines: int = 10) -> list[str]:
        return [f"exited with {self.agent.exit_code}"] if self.agent.exit_code is not None else []
