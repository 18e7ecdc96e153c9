"""Every answer is read within the budgets, whatever the server does: real sockets that trickle,
flood, stall and speak something else. A cap hit is said with its figure and its budget's name."""

from __future__ import annotations

import json
import time

import pytest

from conformance.contract.agent_config import Budgets, Endpoint
from conformance.wire import bounded, exchange, streaming
from tests.rawservers import raw_server, read_head

SMALL = Budgets(request_s=1.0, first_byte_s=1.0, stream_s=1.0, response_mib=1.0, header_kib=8.0, stream_events=50)
SLACK_S = 0.8  # scheduling, connect and teardown on a loaded 2-core machine


def head(status: str = "200 OK", content_type: str = "application/json", extra: str = "") -> bytes:
    return f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n{extra}\r\n".encode()


def fetch(port: int, budgets: Budgets = SMALL, accept: str = "application/json", **kwargs) -> exchange.Exchange:
    with bounded.make_client(f"http://127.0.0.1:{port}", budgets) as client:
        return exchange.request(client, "GET", "/x", headers={"Accept": accept}, **kwargs)


def timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def test_headers_trickled_byte_by_byte_end_at_first_byte_s():
    def trickle(conn, stop):
        read_head(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        while not stop.wait(0.05):
            conn.sendall(b"X")  # a header that never ends: each read is quick, the exchange is not

    with raw_server(trickle) as port:
        answer, took = timed(lambda: fetch(port))
    assert answer.status is None and answer.error == "no response head within 1 s (cap first_byte_s)"
    assert took < 1 + SLACK_S


def test_a_body_trickled_ends_at_request_s_with_what_came():
    def trickle(conn, stop):
        read_head(conn)
        conn.sendall(head(extra="Content-Length: 1000\r\n"))
        while not stop.wait(0.05):
            conn.sendall(b" ")

    with raw_server(trickle) as port:
        answer, took = timed(lambda: fetch(port))
    assert answer.status == 200 and took < 1 + SLACK_S
    assert answer.cut.startswith("the body did not end within 1 s (cap request_s), ")
    assert answer.json_error() == answer.cut  # judged by the cap, not by a parse of half a body


def test_a_huge_body_is_cut_at_response_mib_and_not_kept():
    def huge(conn, stop):
        read_head(conn)
        conn.sendall(head(extra=f"Content-Length: {1 << 30}\r\n") + b'{"a": "')
        chunk = b"a" * 65536
        while not stop.is_set():
            conn.sendall(chunk)

    with raw_server(huge) as port:
        answer = fetch(port)
    assert answer.status == 200
    assert answer.cut == "the body went on past 1 MiB (cap response_mib); the rest was not read"
    assert len(answer.body) == exchange.KEPT_BODY_BYTES and answer.body_size > 1 << 20
    assert "cut: the body went on past 1 MiB" in "\n".join(answer.evidence())


def test_a_large_body_within_the_cap_is_judged_whole_and_kept_in_part():
    document = json.dumps({"reply": "b" * (200 << 10)}).encode()

    def large(conn, stop):
        read_head(conn)
        conn.sendall(head(extra=f"Content-Length: {len(document)}\r\n") + document)

    with raw_server(large) as port:
        answer = fetch(port)
    assert not answer.cut and answer.body_size == len(document) and len(answer.body) == exchange.KEPT_BODY_BYTES
    assert answer.json_error() is None


def test_a_head_over_header_kib_is_a_cut_and_over_the_client_limit_no_answer():
    def big_head(size):
        def serve(conn, stop):
            read_head(conn)
            conn.sendall(head(extra=f"X-Pad: {'p' * size}\r\nContent-Length: 2\r\n") + b"{}")
        return serve

    with raw_server(big_head(10_000)) as port:
        answer = fetch(port)
    assert answer.status == 200 and answer.cut.startswith("the response head is 100") and "(cap header_kib = 8)" in answer.cut
    with raw_server(big_head(200_000)) as port:
        answer = fetch(port)
    assert answer.status is None and answer.error == "the response head went on past 100 KiB (the HTTP client's limit)"


def test_bytes_that_are_not_http_are_shown():
    def ssh(conn, stop):
        read_head(conn)
        conn.sendall(b"SSH-2.0-OpenSSH_9.2p1\r\n" + bytes(range(256)))

    with raw_server(ssh) as port:
        answer = fetch(port)
    assert answer.status is None and "not HTTP" in answer.error and "it sent b'SSH-2.0-OpenSSH_9.2p1\\r\\n" in answer.error


def test_a_server_that_never_answers_ends_at_an_explicit_timeout():
    def silent(conn, stop):
        stop.wait(10)

    with raw_server(silent) as port:
        answer, took = timed(lambda: fetch(port, timeout_s=0.3))
    assert answer.error == "no response head within 0.3 s" and took < 0.3 + SLACK_S


def sse_server(delay_s: float, events: int | None = None):
    def serve(conn, stop):
        read_head(conn)
        conn.sendall(head(content_type="text/event-stream"))
        sent = 0
        while not stop.is_set() and (events is None or sent < events):
            conn.sendall(b"data: tick\n\n")
            sent += 1
            if delay_s:
                time.sleep(delay_s)
    return serve


ENDPOINT = Endpoint("GET", "/x")


def capture(port: int, budgets: Budgets = SMALL) -> streaming.StreamCapture:
    with bounded.make_client(f"http://127.0.0.1:{port}", budgets) as client:
        return streaming.capture(client, ENDPOINT, "text/event-stream")


def test_an_endless_stream_ends_at_stream_s():
    with raw_server(sse_server(0.01)) as port:
        result, took = timed(lambda: capture(port, Budgets(stream_s=1.0, first_byte_s=1.0)))
    assert result.ended == "time cap" and took < 1 + SLACK_S
    assert result.answer.cut.startswith("the stream did not end within 1 s (cap stream_s), ")
    assert result.events > 10


def test_a_stream_known_not_to_end_is_not_waited_out_again():
    """Once a stream ran into stream_s, the run's other reads of it stop at KNOWN_ENDLESS_S and say why;
    other targets, and a stream that ends, are read in full."""
    budgets = Budgets(stream_s=bounded.KNOWN_ENDLESS_S + 1.5, first_byte_s=1.0)
    traffic = bounded.Traffic()
    with raw_server(sse_server(0.01)) as port:
        with bounded.make_client(f"http://127.0.0.1:{port}", budgets, traffic) as client:
            first, first_took = timed(lambda: streaming.capture(client, ENDPOINT, "text/event-stream"))
            again, again_took = timed(lambda: streaming.capture(client, ENDPOINT, "text/event-stream"))
            other, other_took = timed(lambda: streaming.capture(client, Endpoint("GET", "/y"), "text/event-stream"))
    assert first.ended == "time cap" and first.answer.cut.startswith("the stream did not end within 3.5 s")
    assert first_took > budgets.stream_s - 0.1
    assert again.ended == "time cap" and again_took < bounded.KNOWN_ENDLESS_S + SLACK_S and again.events > 10
    assert again.answer.cut.startswith("the stream did not end within 3.5 s (cap stream_s) when this run first read "
                                       "it; this time it was read for 2 s only")
    assert other_took > budgets.stream_s - 0.1  # another target is not presumed endless
    assert traffic.drain_counts() == {("GET", "/x"): 2, ("GET", "/y"): 1} and not traffic.drain_counts()


def test_a_stream_of_too_many_events_ends_at_stream_events():
    with raw_server(sse_server(0)) as port:
        result = capture(port)
    assert result.ended == "event cap" and result.answer.cut == "the stream went on past 50 events (cap stream_events)"


def test_a_flood_of_bytes_ends_at_response_mib_with_a_bounded_timeline():
    def flood(conn, stop):
        read_head(conn)
        conn.sendall(head(content_type="text/event-stream") + b"data: ")
        while not stop.is_set():
            conn.sendall(b"z" * 4096)  # one endless line: no event ever completes

    with raw_server(flood) as port:
        result = capture(port)
    assert result.ended == "size cap" and result.answer.cut == "the stream went on past 1 MiB (cap response_mib)"
    assert result.total_bytes > 1 << 20 and len(result.chunks) <= 2000


@pytest.mark.parametrize("budgets, accept, head_cap, total_cap", [
    (Budgets(), "application/json", "first_byte_s", "request_s"),
    (Budgets(), "text/event-stream", "first_byte_s", "stream_s"),
    (Budgets(first_byte_s=30, request_s=5), "*/*", "request_s", "request_s"),
])
def test_the_deadlines_name_the_budget_they_come_from(budgets, accept, head_cap, total_cap):
    within = bounded.within(budgets, accept)
    assert (within.head_cap, within.total_cap) == (head_cap, total_cap)
    assert within.head_s <= within.total_s
