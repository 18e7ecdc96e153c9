"""The fuzz campaign (conformance.fuzz.campaign, judging) against stub agents on raw socket servers
(tests/rawservers.py): what it finds, with the budgets and the health path it is given. No Docker."""

from __future__ import annotations

import json
from contextlib import ExitStack, contextmanager

import pytest

from conformance.contract.agent_config import AgentConfig, Budgets, Endpoint
from conformance.fuzz.campaign import run_campaign
from conformance.fuzz.judging import HEALTH_AFTER_EVERY, Judge, broken_property
from conformance.wire.rawhttp import RawHTTPError, RawRequest, RawResponse
from tests.rawservers import StubAgent, StubCandidate, raw_server

@pytest.fixture(autouse=True)
def no_local_constants(monkeypatch):
    """Hypothesis also draws the literals of the local modules loaded (conformance/ in a checkout,
    and whichever tests imported before): without them a seed generates the same requests whatever
    ran first and however the code's strings change."""
    from hypothesis.internal.conjecture import providers
    from hypothesis.internal.constants_ast import Constants

    providers.CONSTANTS_CACHE.cache.clear()  # what was drawn from with them
    monkeypatch.setattr(providers, "_get_local_constants", Constants)
    yield
    providers.CONSTANTS_CACHE.cache.clear()  # … and without them


CONFIG = AgentConfig(endpoints=(Endpoint("POST", "/chat", {"message": "hi"}),))
BUDGETS = Budgets(request_s=2.0, first_byte_s=2.0)


@contextmanager
def stub_agents(*defects: str, **options):
    """`spawn()` starts a fresh stub agent and gives its candidate; `agents`: every one started."""
    with ExitStack() as stack:
        agents: list[StubAgent] = []

        def spawn() -> StubCandidate:
            agent = StubAgent(defects, **options)
            agents.append(agent)
            return StubCandidate(agent, stack.enter_context(raw_server(agent)))

        yield spawn, agents


def fuzz(candidate, *, budgets: Budgets = BUDGETS, health_path: str = "/health", **options):
    settings = dict(max_examples=120, seed=1, cap_s=60.0) | options
    return run_campaign(candidate, CONFIG, budgets=budgets, health_path=health_path, **settings)


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_conformant_agent_comes_out_clean(concurrency):
    with stub_agents() as (spawn, agents):
        found = fuzz(spawn(), concurrency=concurrency)
    assert found.findings == {} and not found.stopped and not found.replayed
    assert found.examples == 120 and found.sent == sum(found.tally.values()) - 2 * len(CONFIG.endpoints)
    assert f"up to {concurrency} at once), seed 1" in found.summary()


def test_a_failure_is_found_alike_one_at_a_time_and_several_at_once():
    results = []
    for concurrency in (1, 4):
        with stub_agents("5xx") as (spawn, _):
            results.append(fuzz(spawn(), concurrency=concurrency, max_examples=100))
    one, several = results
    assert set(one.findings) == set(several.findings) == {"status 500"}
    assert one.findings["status 500"].request == several.findings["status 500"].request  # shrunk alike
    assert one.for_requirement("ROBUST-INPUT") and not one.for_requirement("SSE-FRAMING")


def test_a_crash_among_requests_in_flight_is_replayed_one_at_a_time_on_a_fresh_candidate():
    with stub_agents("exit") as (spawn, agents):
        found = fuzz(spawn(), concurrency=4, max_examples=150, seed=4, respawn=spawn)
    finding = found.findings["container exited"]
    assert finding.request.method == "PUT" and "code 70" in finding.cause
    assert found.replayed.endswith("with several requests in flight: those were sent again, one at a time, "
                                   "to a fresh candidate")
    assert len(agents) == 2 and found.stopped == "the container exited"


def test_without_a_fresh_candidate_a_crash_among_requests_in_flight_is_said_unfound():
    with stub_agents("exit") as (spawn, agents):
        found = fuzz(spawn(), concurrency=4, max_examples=150, seed=4)
    assert len(agents) == 1 and not found.replayed and "container exited" not in found.findings
    # Whichever was seen first: a request that got no answer, or /health after the answers.
    assert found.stopped in (f"{trouble} with several requests in flight; no fresh candidate to find which"
                             for trouble in ("the container exited", "GET /health answered nothing (before: 200)"))


def test_the_budgets_given_bound_each_request():
    """The campaign sends within the budgets it is handed (scaled under emulation), not the config's:
    here the config's would wait for every answer, the given ones give up on each."""
    with stub_agents(delay_s=0.4) as (spawn, _):
        found = fuzz(spawn(), budgets=Budgets(request_s=0.2, first_byte_s=0.2), concurrency=4, max_examples=12)
    assert CONFIG.budgets.request_s > 0.4
    assert found.tally[("POST /chat", "no answer")] > 0 and not found.tally[("POST /chat", 200)]
    assert "no answer: timeout" not in found.findings  # the plain requests time out too: another check's


def test_health_is_asked_at_the_path_given():
    with stub_agents(health_path="/healthz") as (spawn, agents):
        fuzz(spawn(), health_path="/healthz", concurrency=4, max_examples=40)
    probes = [seen for seen in agents[0].seen if seen == ("GET", "/healthz")]
    assert len(probes) >= 2 and ("GET", "/health") not in agents[0].seen


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_request_that_changes_health_is_found(concurrency):
    with stub_agents("sick") as (spawn, agents):
        found = fuzz(spawn(), concurrency=concurrency, max_examples=150, respawn=spawn)
    # Every request after the first DELETE finds /health changed: the shrinker goes on from there.
    assert found.findings["probe after"].cause == "after this request GET /health answered 503 (before: 200)"
    if concurrency > 1:
        assert found.replayed.startswith("GET /health answered 503 (before: 200) with several requests in flight")


# -- judging, without sending -------------------------------------------------------------------
ASKED = RawRequest("POST", "/chat", (("Accept", "application/json"),), b"{}")


def response(status: int, body: bytes = b"{}", content_type: str = "application/json") -> RawResponse:
    return RawResponse(status, "X", (("Content-Type", content_type),), body, 0.01, False)


def test_a_cause_the_plain_requests_show_is_left_to_their_check():
    judge = Judge({"status 500"}, 200, 10.0)
    assert judge.answer(ASKED, response(500)) is None
    failure = judge.answer(ASKED, response(200, b"{"))
    assert (failure.key, failure.requirement) == ("json body", "ROBUST-INPUT")
    assert failure.received == ("HTTP 200 X (application/json) in 10 ms", "body: b'{'")


def test_a_framing_error_has_every_stream_read_whole_even_one_the_baseline_shows():
    judge = Judge({"sse framing"}, 200, 10.0)
    assert not judge.whole_streams
    assert judge.answer(ASKED, response(200, b"data: \xff\n\n", "text/event-stream")) is None
    assert judge.whole_streams
    assert broken_property(ASKED, response(200, b"data: \xff\n\n", "text/event-stream")).requirement == "SSE-FRAMING"


def test_health_is_asked_after_refusals_only_now_and_then():
    assert Judge.probe_due(response(200), 3) and Judge.probe_due(response(500), 3)
    assert not Judge.probe_due(response(404), 3) and Judge.probe_due(response(404), HEALTH_AFTER_EVERY)


def test_health_afterwards():
    judge = Judge((), 200, 10.0)
    assert judge.health_after(200, ("answer",)) is None and judge.health_changed(200) == ""
    failure = judge.health_after(None, ("answer",))
    assert failure.key == "probe after" and failure.received == ("answer", "GET /health afterwards: no answer")
    assert judge.health_changed(503) == "GET /health answered 503 (before: 200)"


def test_no_answer():
    judge = Judge({"no answer: reset"}, 200, 2.5)
    timeout = judge.no_answer(RawHTTPError("first-byte-timeout", "no head", 2.5))
    assert timeout.key == "no answer: timeout" and "request budget of 2.5 s" in timeout.cause
    assert judge.no_answer(RawHTTPError("reset", "dropped", 0.1)) is None  # the plain requests were dropped too
    dropped = judge.no_answer(RawHTTPError("incomplete", "connection closed inside the response head, 9 bytes in", 0.1))
    assert dropped.cause == "the connection was dropped (incomplete) instead of an answer"
    cut = judge.no_answer(RawHTTPError("incomplete", "connection closed inside a chunk after 120 body bytes", 0.1))
    assert cut.cause.startswith("the connection was dropped in the middle of the answer (incomplete)")
    exited = Judge.exited(RawHTTPError("reset", "dropped", 0.1), {"ExitCode": 3}, ["boom"])
    assert exited.key == "container exited" and exited.received[-1] == "log | boom"


@pytest.mark.parametrize("concurrency", [1, 4])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_fixed_requests_find_a_known_framework_defect_in_every_run(concurrency, seed):
    """A lone surrogate echoed back is a 500 in real SDKs; the fixed requests (fuzz.hazards) send
    it on every run, whatever the seed and however few examples are generated."""
    with stub_agents("surrogate") as (spawn, _):
        found = fuzz(spawn(), concurrency=concurrency, max_examples=5, seed=seed)
    finding = found.findings["status 500"]
    assert b"\\ud800" in finding.request.body and finding.request.target == "/chat"
    assert found.fixed > 20 and found.summary().startswith(f"{found.fixed} fixed requests and 5 generated examples")


def test_the_fixed_requests_bend_each_example_in_known_ways():
    from conformance.fuzz import hazards
    from conformance.fuzz.strategies import NOT_JSON

    endpoint = Endpoint("POST", "/responses", {"model": "echo", "input": "hello there", "stream": True, "n": 1})
    requests = hazards.for_endpoints([endpoint, endpoint])  # a repeat adds nothing
    bodies = [r.body for r in requests]
    assert bodies[:len(NOT_JSON)] == list(NOT_JSON) and len(bodies) == len(NOT_JSON) + 5
    decoded = [json.loads(b) for b in bodies[len(NOT_JSON):len(NOT_JSON) + 3]]
    assert decoded == [{"model": "\ud800", "input": "hello there", "stream": True, "n": 1},
                       {"model": "echo", "input": "\ud800", "stream": True, "n": 1},
                       {"model": "\ud800", "input": "\ud800", "stream": False, "n": 1}]
    spliced = requests[-2:]
    assert spliced[0].body == spliced[1].body == b'{"model": "echo\xe9", "input": "hello there", "stream": true, "n": 1}'
    assert [dict(r.headers)["Content-Type"] for r in spliced] == ["application/json", "text/plain"]
    assert all(dict(r.headers)["Accept"] == "application/json" for r in requests)
