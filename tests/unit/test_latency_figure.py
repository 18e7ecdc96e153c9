"""The per-request latency figure: head latencies taken per route (bounded.Traffic), summarised on
the controller (measurements.merge: count, median, p95), selected for the document (probes, then
the declared endpoints) and rendered as one line in every form of the report."""

from __future__ import annotations

import time

from conformance.contract.agent_config import Budgets
from conformance.measurements import Measurements, merge, summarise
from conformance.report import document, html, markdown, terminal
from conformance.wire import bounded, exchange
from tests.rawservers import raw_server, read_head


def test_summarise_gives_the_median_and_the_nearest_rank_p95():
    seconds = [0.044] * 19 + [0.5]
    assert summarise(seconds) == {"count": 20, "median_s": 0.044, "p95_s": 0.044}
    assert summarise(seconds + [0.6])["p95_s"] == 0.5
    assert summarise([0.01, 0.03]) == {"count": 2, "median_s": 0.02, "p95_s": 0.03}


def test_summarise_of_nothing_says_so():
    assert summarise([]) == {"count": 0, "median_s": None, "p95_s": None}


def test_latencies_from_two_processes_merge_per_route():
    a, b = Measurements(), Measurements()
    a.latencies({("GET", "/ready"): [0.001, 0.002], ("POST", "/chat"): [0.045]})
    b.latencies({("POST", "/chat"): [0.044, 0.046]})
    merged = merge(a.drain() + b.drain())
    assert merged["latency"] == [
        {"route": "GET /ready", "count": 2, "median_s": 0.0015, "p95_s": 0.002},
        {"route": "POST /chat", "count": 3, "median_s": 0.045, "p95_s": 0.046},
    ]


def test_a_long_series_travels_bounded_but_keeps_its_count():
    m = Measurements()
    m.latencies({("GET", "/health"): [0.001] * 5000})
    [[kind, fields]] = m.drain()
    assert kind == "latency" and fields["count"] == 5000 and len(fields["heads_s"]) <= 400
    assert merge([[kind, fields]])["latency"][0]["count"] == 5000


def test_traffic_takes_each_answer_head_latency_per_route():
    def stalled(conn, stop):
        read_head(conn)
        time.sleep(0.044)  # the head comes late, as with a delayed ACK
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")

    with raw_server(stalled) as port, bounded.make_client(f"http://127.0.0.1:{port}", Budgets()) as client:
        for _ in range(3):
            exchange.request(client, "GET", "/ready")
        heads = client.traffic.drain_latencies()
    assert list(heads) == [("GET", "/ready")] and len(heads[("GET", "/ready")]) == 3
    assert all(x >= 0.04 for x in heads[("GET", "/ready")])
    assert client.traffic.drain_latencies() == {}


def test_no_head_no_latency():
    def silent_close(conn, stop):
        read_head(conn)

    with raw_server(silent_close) as port, bounded.make_client(f"http://127.0.0.1:{port}", Budgets()) as client:
        exchange.request(client, "GET", "/ready", timeout_s=0.5)
        assert client.traffic.drain_latencies() == {}


def report_with_latency():
    measured = merge([["latency", {"route": r, "count": 2, "heads_s": s}] for r, s in (
        ("GET /ready", [0.001, 0.003]), ("GET /health", [0.002, 0.002]), ("POST /chat", [0.044, 0.046]),
        ("GET /..", [0.001, 0.001]))])
    return document.build("img:1", None, [], 1.0, measured, ["POST /chat"], probes=["/ready", "/health"])


def test_the_document_keeps_the_probes_then_the_declared_endpoints():
    latency = report_with_latency()["measurements"]["latency"]
    assert [(s["route"], s["role"]) for s in latency] == [
        ("GET /ready", "probe"), ("GET /health", "probe"), ("POST /chat", "endpoint")]


def test_one_line_shows_the_figures_in_every_form():
    report = report_with_latency()
    line = terminal.latency_line(report)
    assert line == ("Request latency to the answer's head, median / p95 (requests): GET /ready 2 ms / 3 ms (2); "
                    "GET /health 2 ms / 2 ms (2); POST /chat 45 ms / 46 ms (2).")
    assert line in markdown.render_markdown(report)
    assert "POST /chat 45 ms / 46 ms (2)" in html.render_html(report)


def test_no_latency_measured_no_line():
    assert terminal.latency_line(document.build("img:1", None, [], 1.0, {}, [])) == ""
