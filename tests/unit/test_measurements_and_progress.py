"""What a run measures for the plots (gathered per process, merged on the controller), and the
terminal's progress line."""

from collections import Counter

import pytest

from conformance.measurements import MAX_POINTS, Measurements, bounded, merge
from conformance.progress import Progress, terminal_allowed


def test_bounded_spreads_over_the_whole_series():
    points = list(range(1000))
    kept = bounded(points, 10)
    assert kept == [0, 111, 222, 333, 444, 555, 666, 777, 888, 999]
    assert bounded(points[:10], 10) == points[:10]


def test_drain_empties_and_keeps_the_order():
    m = Measurements()
    m.startup("shared", "shared", "ready", 1.23456, 30, 1.0, 1.2)
    m.probes("/health", "idle", [0.002, None])
    first = m.drain()
    assert [kind for kind, _ in first] == ["startups", "probes"]
    assert first[0][1]["ended_s"] == 1.2346 and first[1][1]["latencies_s"] == [0.002, None]
    assert m.drain() == []


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown measurement kind"):
        Measurements().add("temperature", value=1)


def test_long_series_are_bounded():
    m = Measurements()
    m.stream("POST /chat", "text/event-stream", 200, "eof", [(i / 1000, 10) for i in range(5000)],
             [(i / 1000, i) for i in range(5000)])
    (_, fields), = m.drain()
    assert len(fields["chunks"]) == MAX_POINTS and len(fields["events"]) == MAX_POINTS
    assert fields["events"][-1] == [4.999, 4999]


def test_merge_from_several_processes_sums_fuzz_counts_and_sorts():
    a, b = Measurements(), Measurements()
    a.fuzz(Counter({("POST /chat", 200): 3, ("GET (other path)", 404): 1}))
    b.fuzz(Counter({("POST /chat", 200): 2, ("POST /chat", "no answer"): 1}))
    b.startup("writable", "writable", "ready", 2.0, 30, 1.0, 2.0)
    a.startup("shared", "shared", "exited", 0.5, 30, None, None)
    merged = merge(b.drain() + a.drain())
    assert merged["fuzz"] == [
        {"route": "GET (other path)", "outcome": "404", "count": 1},
        {"route": "POST /chat", "outcome": "200", "count": 5},
        {"route": "POST /chat", "outcome": "no answer", "count": 1},
    ]
    assert [s["candidate"] for s in merged["startups"]] == ["shared", "writable"]
    assert merged["streams"] == [] and merged["probes"] == []


class Screen:
    def __init__(self):
        self.written: list[str] = []
        self.now = 0.0

    def clock(self) -> float:
        return self.now


def test_progress_rewrites_one_line_at_most_every_interval():
    screen = Screen()
    progress = Progress(screen.written.append, interval_s=0.25, clock=screen.clock, width=40)
    progress("waiting 1 s")
    screen.now = 0.1
    progress("waiting 1.1 s")  # too soon: not shown
    screen.now = 0.3
    progress("waiting 2 s")
    progress.done()
    progress("fuzzing")  # a new phase shows at once, on a new line
    assert screen.written == ["\n\r\x1b[Kwaiting 1 s", "\r\x1b[Kwaiting 2 s", "\r\x1b[K", "\n\r\x1b[Kfuzzing"]


def test_progress_never_wraps():
    screen = Screen()
    Progress(screen.written.append, clock=screen.clock, width=30)("x" * 100)
    assert len(screen.written[0].split("\x1b[K")[1]) == 29


def test_progress_erases_only_a_line_it_wrote():
    screen = Screen()
    progress = Progress(screen.written.append, clock=screen.clock)
    progress.done()  # nothing shown yet: nothing to erase (an erase would eat pytest's own line)
    assert screen.written == []
    progress("x")
    progress.done()
    progress.done()
    assert screen.written == ["\n\r\x1b[Kx", "\r\x1b[K"]
    assert progress.enabled and not Progress().enabled


@pytest.mark.parametrize("tty, verbosity, env, worker, shown", [
    (True, 0, {}, False, True),
    (False, 0, {}, False, False),  # piped, redirected
    (True, -1, {}, False, False),  # -q
    (True, 0, {"CI": "true"}, False, False),
    (True, 0, {}, True, False),  # an xdist worker
    (True, 0, {"TERM": "dumb"}, False, False),
])
def test_progress_only_where_a_person_watches(tty, verbosity, env, worker, shown):
    assert terminal_allowed(tty, verbosity, env, worker) is shown


def test_a_streams_plotted_arrivals_spread_over_all_of_it():
    from conformance.wire.streaming import _SPREAD_POINTS, _Spread

    spread = _Spread()
    for i in range(100_000):
        spread.append((i / 1000, i))
    indices = [i for _, i in spread.points]
    assert len(indices) < 2 * _SPREAD_POINTS and indices[0] == 0 and indices[-1] > 99_000
    gaps = {b - a for a, b in zip(indices, indices[1:])}
    assert len(gaps) == 1  # evenly spread, not the two ends of it


def test_endpoint_calls_count_the_checks_and_the_fuzzer_apart():
    from conformance.measurements import endpoint_calls

    a, b = Measurements(), Measurements()
    a.requests(Counter({("POST", "/chat"): 3, ("GET", "/health"): 9}))
    b.requests(Counter({("POST", "/chat"): 2}))
    b.fuzz(Counter({("POST /chat", 200): 40, ("POST /chat", 500): 1, ("GET (other path)", 404): 7}))
    merged = merge(a.drain() + b.drain())
    assert merged["requests"] == [{"route": "GET /health", "count": 9}, {"route": "POST /chat", "count": 5}]
    assert endpoint_calls(merged, "POST /chat") == (5, 41)
    assert endpoint_calls(merged, "PUT /other") == (0, 0)
