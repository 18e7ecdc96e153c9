"""The first round's requests made in a child process (conformance.fuzz.pregenerated): the same
requests as the suite's own process makes for the seed, used by the campaign only when made for
its seed and endpoints, and no child left behind. Real child processes; the campaign against stub
agents on raw sockets (tests/rawservers.py). No Docker."""

from __future__ import annotations

import os
import time

import pytest

from conformance.contract.agent_config import Endpoint
from conformance.fuzz.generation import END, generate, strategy_for
from conformance.fuzz.pregenerated import FirstRound, Pregenerated
from tests.unit.test_fuzz_campaign import CONFIG, fuzz, no_local_constants, stub_agents  # noqa: F401 (a fixture)

ENDPOINTS = (Endpoint("POST", "/chat", {"message": "hi", "thread_id": "t1"}), Endpoint("GET", "/items/{id}"))


def drain(generation) -> list:
    got = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        request = generation.next_ready(block=True)
        if request is END:
            return got
        got.append(request)
    raise AssertionError("the child never ended")


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="Linux's scheduling policies")
def test_the_child_runs_on_idle_cpu_until_its_requests_are_wanted():
    # While the candidates boot it takes only what nobody else wants; once the campaign takes its
    # requests it is what the run waits on, and (where this process may) back to the ordinary policy.
    first = FirstRound(seed=3)
    first.start(ENDPOINTS, 5000)  # long enough to be running while it is looked at
    pid, taken = first._pregenerated._child.pid, None
    try:
        deadline = time.monotonic() + 10
        while os.sched_getscheduler(pid) != os.SCHED_IDLE and time.monotonic() < deadline:
            time.sleep(0.01)  # it sets its own policy once started
        assert os.sched_getscheduler(pid) == os.SCHED_IDLE
        taken = first.take()
        if os.geteuid() == 0:
            assert os.sched_getscheduler(pid) == os.SCHED_OTHER
    finally:
        (taken or first.take()).finish()


def test_a_child_generates_what_the_suite_s_process_generates_for_the_seed():
    child = Pregenerated(ENDPOINTS, 80, seed=7)
    try:
        theirs = drain(child)
    finally:
        child.finish()
    ours: list = []
    generate(strategy_for(ENDPOINTS), 80, 7, ours.append)
    assert child.complete and not child.failed and len(theirs) == 80
    assert [r.to_bytes("h") for r in theirs] == [r.to_bytes("h") for r in ours]
    assert child.matches(ENDPOINTS, 80, 7)
    assert not child.matches(ENDPOINTS, 80, 8) and not child.matches(ENDPOINTS[:1], 80, 7)


def test_finish_ends_a_child_still_generating():
    child = Pregenerated(ENDPOINTS, 20_000, seed=1)
    assert child.next_ready(block=True) is not END
    child.finish(timeout_s=10)
    assert child._child.returncode is not None and not child.complete


def test_an_untaken_first_round_is_ended_with_the_session():
    first = FirstRound(seed=3)
    first.start(ENDPOINTS, 20_000)
    child = first._pregenerated
    first.close()
    assert child._child.returncode is not None and first.take() is None


def test_the_campaign_sends_the_pregenerated_requests_and_finds_the_same():
    with stub_agents("5xx") as (spawn, _):
        own = fuzz(spawn(), concurrency=4, seed=5)
    child = Pregenerated(CONFIG.endpoints, 120, seed=5)
    with stub_agents("5xx") as (spawn, _):
        given = fuzz(spawn(), concurrency=4, seed=5, pregenerated=child)
    assert child._child.returncode == 0 and len(child.requests) == 120  # it was used, to its end
    assert set(given.findings) == set(own.findings) and given.findings
    assert given.examples == own.examples and given.sent == own.sent


def test_requests_made_for_another_seed_are_not_used():
    child = Pregenerated(CONFIG.endpoints, 20_000, seed=99)
    with stub_agents() as (spawn, _):
        found = fuzz(spawn(), concurrency=4, seed=5, pregenerated=child)
    assert found.findings == {} and found.examples == 120
    assert child._child.returncode is not None and len(child.requests) < 20_000  # ended, not used
