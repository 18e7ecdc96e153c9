"""STAYS-UP's closing probes in parallel lanes (conformance/lifecycle/soak.py), against raw socket
servers: no Docker. No timing is asserted; parallelism is seen from the server's side."""

from __future__ import annotations

import threading
import time

from conformance.contract.agent_config import Budgets
from conformance.lifecycle.soak import probe_lanes
from conformance.wire import bounded
from conformance.wire.rawprobe import RawProbe
from tests.rawservers import raw_server, read_head

OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
PATHS = ("/ready", "/health")


class Server:
    """Answers each request `stall_s` late, head and body in separate writes (as http.server does);
    counts connections in flight; stops answering after `answer_first` requests, if given; serves one
    connection at a time when `serial`."""

    def __init__(self, stall_s=0.0, answer_first=None, serial=False):
        self.stall_s, self.answer_first, self.serial = stall_s, answer_first, serial
        self.lock, self.one_at_a_time = threading.Lock(), threading.Lock()
        self.answered = self.in_flight = self.most_in_flight = 0

    def __call__(self, conn, stop):
        if self.serial:
            with self.one_at_a_time:
                self._serve(conn)
        else:
            self._serve(conn)

    def _serve(self, conn):
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            while (head := read_head(conn)):
                with self.lock:
                    if self.answer_first is not None and self.answered >= self.answer_first:
                        return  # hangs up without an answer: the process is going away
                    self.answered += 1
                time.sleep(self.stall_s)
                close = b"connection: close" in head.lower()
                conn.sendall(OK + (b"Connection: close\r\n" if close else b"") + b"\r\n")
                conn.sendall(b"{}")
                if close:
                    return
        finally:
            with self.lock:
                self.in_flight -= 1


def run(server, count=60, lane_count=6, max_s=10.0, traffic=None):
    with raw_server(server) as port:
        return probe_lanes(RawProbe("127.0.0.1", port, Budgets(), traffic), PATHS, lane_count, count=count, max_s=max_s)


def test_a_stalling_agent_is_probed_over_several_connections_at_once():
    server = Server(stall_s=0.044)
    soak = run(server, count=60)
    assert soak.first_miss is None
    assert soak.sent == 60 == server.answered
    assert soak.lanes == 6
    assert server.most_in_flight > 1  # the stalls overlapped instead of queuing one after another


def test_a_server_that_stops_answering_midway_is_caught_with_its_exchange():
    soak = run(Server(answer_first=25), count=300)
    assert soak.first_miss is not None
    assert soak.first_miss.status is None and soak.first_miss.error
    assert soak.first_miss.target in PATHS
    assert 25 < soak.sent < 300  # every lane stopped at the first miss


def test_a_server_that_serves_one_connection_at_a_time_answers_every_lane():
    # Fresh connections: no lane waits on another's idle keep-alive connection, so no false miss.
    server = Server(serial=True)
    soak = run(server, count=60)
    assert soak.first_miss is None and soak.sent == 60
    assert server.most_in_flight >= 1


def test_the_probes_stop_when_the_time_is_spent():
    soak = run(Server(stall_s=0.05), count=10_000, lane_count=2, max_s=0.3)
    assert soak.first_miss is None
    assert 0 < soak.sent < 10_000


def test_probes_alternate_between_the_paths():
    seen = []

    def recorder(conn, stop):
        head = read_head(conn)
        seen.append(head.split(b" ")[1].decode())
        conn.sendall(OK + b"Connection: close\r\n\r\n{}")

    with raw_server(recorder) as port:
        probe_lanes(RawProbe("127.0.0.1", port, Budgets()), PATHS, 1, count=4, max_s=5)
    assert seen == ["/ready", "/health", "/ready", "/health"]


def test_each_probe_is_counted_with_its_head_latency_and_says_what_it_sent():
    traffic = bounded.Traffic()
    soak = run(Server(stall_s=0.02), count=10, lane_count=2, traffic=traffic)
    assert soak.sent == 10 and soak.first_miss is None
    assert traffic.drain_counts() == {("GET", "/ready"): 5, ("GET", "/health"): 5}
    heads = traffic.drain_latencies()
    assert sorted(heads) == [("GET", "/health"), ("GET", "/ready")]
    assert all(0.015 < s < 5 for s in heads[("GET", "/ready")])  # the server's 20 ms stall is in it


def test_a_missing_answer_keeps_the_request_for_its_repro():
    soak = run(Server(answer_first=0), count=4, lane_count=1)
    miss = soak.first_miss
    assert miss is not None and miss.status is None
    assert miss.error.startswith("reset: connection closed before any status line")
    assert miss.curl.startswith("curl") and f"127.0.0.1:8080{miss.target}" in miss.curl  # the user's URL


def test_a_large_probe_answer_is_kept_as_the_checks_keep_answers():
    big = b'{"pad": "' + b"x" * (100 << 10) + b'"}'

    def large(conn, stop):
        read_head(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                     b"Connection: close\r\n\r\n" % len(big) + big)

    with raw_server(large) as port:
        answer = RawProbe("127.0.0.1", port, Budgets())("/health")
    assert answer.status == 200 and answer.body_size == len(big) and len(answer.body) < len(big)
    assert answer.json_error() is None  # judged on the whole body, not on the part kept
