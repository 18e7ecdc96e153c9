"""The HTML report from a report document: self-contained, failing rows open, evidence escaped,
one plot per kind of measurement (the browser test, tests/integration/test_html_report.py, loads a
real run's page in Chromium)."""

import re

from conformance.contract import catalogue
from conformance.report import document, html, plots
from conformance.report.results import CheckResult, aggregate
from conformance.report.svg import LogScale, Scale, nice_step

MEASURED = {
    "startups": [
        {"candidate": "shared", "role": "shared", "state": "ready", "ended_s": 1.2, "budget_s": 30,
         "first_answer_s": 0.9, "ready_s": 1.2},
        {"candidate": "lifecycle-no-env", "role": "no-env", "state": "exited", "ended_s": 0.4, "budget_s": 30,
         "first_answer_s": None, "ready_s": None},
    ],
    "streams": [{"label": "POST /chat", "accept": "text/event-stream", "status": 200, "ended": "eof",
                 "chunks": [[0.1, 20], [0.2, 20], [0.3, 25]], "events": [[0.1, 1], [0.2, 2], [0.3, 3]]}],
    "probes": [{"path": "/health", "condition": "idle", "latencies_s": [0.002, 0.003]},
               {"path": "/ready", "condition": "POST /chat streaming", "latencies_s": [0.004, None, 1.5]}],
    "fuzz": [{"route": "POST /chat", "outcome": "200", "count": 40},
             {"route": "POST /chat", "outcome": "500", "count": 2},
             {"route": "GET (other path)", "outcome": "no answer", "count": 1}],
}


def report(measured=MEASURED):
    checks = [CheckResult("t", "READY-200", "fail", ("GET /ready → 503", "<script>alert(1)</script>")),
              CheckResult("t", "HEALTH-200", "pass", ("GET /health → 200",)),
              CheckResult("t", "HEALTH-JSON", "error", ("no answer (see HEALTH-200)",))]
    results = aggregate(checks, {"READY-200", "HEALTH-200", "HEALTH-JSON"})
    return document.build("agent:v1", None, results, 3.2, measured)


def rows(page: str) -> dict[str, str]:
    return dict(re.findall(r'<tr class="\w+" id="([A-Z0-9-]+)">(.*?)</tr>', page, re.S))


def test_every_requirement_is_a_row_and_only_failing_rows_are_open():
    page = html.render_html(report())
    by_id = rows(page)
    assert list(by_id) == list(catalogue.IDS)
    assert "<details open>" in by_id["READY-200"] and "<details open>" in by_id["HEALTH-JSON"]
    assert "<details>" in by_id["HEALTH-200"]
    assert "How to fix:" in by_id["READY-200"] and "How to fix:" not in by_id["HEALTH-JSON"]


def test_evidence_is_escaped():
    page = html.render_html(report())
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_self_contained_the_page_loads_nothing():
    page = html.render_html(report())
    assert not re.search(r'\s(src|href)=', page), "the page must load nothing"
    assert "default-src 'none'" in page  # and the browser is told so
    assert page.count("<script>") == 1


def test_one_plot_per_measurement_kind_and_per_stream():
    page = html.render_html(report())
    assert page.count('<svg class="plot"') == 4
    assert "not measured in this run" not in page


def test_a_run_that_measured_nothing_says_so():
    page = html.render_html(report(measured={}))
    assert page.count('<svg class="plot"') == 0
    assert page.count("not measured in this run") == 4


def test_the_plots_draw_what_was_measured():
    _, timeline = plots.startup_timeline(MEASURED["startups"])
    assert timeline.count('class="ready"') == 1 and "exited" in timeline  # the one that never became ready
    _, stream = plots.stream_arrivals(MEASURED["streams"][0])
    assert stream.count('class="chunk"') == 3 and 'class="events"' in stream
    _, probes = plots.probe_latency(MEASURED["probes"])
    assert probes.count('class="probe"') == 3 and probes.count('class="slow"') == 1 and "×" in probes
    _, fuzz = plots.fuzz_outcomes(MEASURED["fuzz"])
    assert "43 requests" in fuzz and 'class="s5"' in fuzz and 'class="sn"' in fuzz


def test_round_ticks():
    assert nice_step(10) == 2 and nice_step(7) == 2 and nice_step(0.9) == 0.2 and nice_step(0) == 1
    scale = Scale.over(27, 0, 100)
    assert scale.top == 30 and scale.ticks() == [0, 10, 20, 30]
    assert scale(15) == 50 and scale(99) == 100  # clipped at the top


def test_log_ticks_cover_the_probes():
    scale = LogScale.over(0.8, 1000, 0, 400)
    assert scale.ticks() == [0.1, 1, 10, 100, 1000]
    assert scale(0.1) == 0 and scale(1000) == 400 and scale(10) == 200
