"""The fuzz phase's scheduling (conformance.fuzz.scheduling) against a stub agent on a raw socket
server (tests/rawservers.py): lanes, /health probes, the time cap, and what stops sending ahead.
No Docker."""

from __future__ import annotations

import time
from contextlib import contextmanager

from conformance.contract.agent_config import Budgets
from conformance.fuzz.campaign import Campaign
from conformance.fuzz.generation import END
from conformance.fuzz.judging import Judge, Memo
from conformance.fuzz.scheduling import PROBE_AHEAD_EVERY, TOO_LATE_FOR_THE_ENDPOINT, Deadline, SendAhead
from conformance.fuzz.sending import Sender
from conformance.wire.rawhttp import RawRequest
from tests.rawservers import StubAgent, StubCandidate, raw_server

BUDGETS = Budgets(request_s=2.0, first_byte_s=2.0)
JSON = (("Accept", "application/json"), ("Content-Type", "application/json"))


class Listed:
    """A generation that gives these requests, then END."""

    def __init__(self, requests):
        self.requests = list(requests)
        self._given = 0

    def next_ready(self, block: bool):
        if self._given == len(self.requests):
            return END
        self._given += 1
        return self.requests[self._given - 1]


def chat(n: int, **body) -> RawRequest:
    """A request to the declared endpoint (slow: it may take a model's seconds)."""
    return RawRequest("POST", "/chat", JSON, b'{"message": "m%d"}' % n if not body else body["raw"])


def elsewhere(n: int, method: str = "GET") -> RawRequest:
    """A request to another path (quick: refused at once)."""
    return RawRequest(method, f"/other/{n}", (("Accept", "application/json"),))


@contextmanager
def parts(agent: StubAgent, cap_s: float = 30.0, budgets: Budgets = BUDGETS):
    """Sender, judge, memo and deadline on a stub agent, as the campaign builds them."""
    with raw_server(agent) as port:
        counts = Campaign()
        sender = Sender(StubCandidate(agent, port), budgets, agent.health_path, ["/chat"], counts)
        judge = Judge((), sender.health(), budgets.request_s)
        yield sender, judge, Memo(), Deadline(cap_s)  # nothing of the sender's stays open


def health_probes(agent: StubAgent) -> int:
    return sum(1 for method, target in agent.seen if target == agent.health_path)


def test_every_answer_is_memoised_once_health_is_seen_unchanged():
    agent = StubAgent()
    requests = [chat(n) for n in range(10)] + [elsewhere(n) for n in range(10)]
    with parts(agent) as (sender, judge, memo, deadline):
        ahead = SendAhead(Listed(requests + requests[:3]), sender, judge, memo, deadline, concurrency=4)
        assert ahead.run() == "" and not ahead.stopped
    assert set(memo.shown) == {Memo.key(r) for r in requests}  # the repeated three were sent once
    assert all(failure is None for failure in memo.shown.values())
    assert set(memo.sent_ahead.values()) == set(requests)
    sent = [seen for seen in agent.seen if seen[1] != "/health"]
    assert len(sent) == len(requests) == sender.counts.sent
    # /health after every PROBE_AHEAD_EVERY answers and at the end, besides the one before
    assert health_probes(agent) - 1 == -(-len(requests) // PROBE_AHEAD_EVERY)


def test_slow_requests_take_at_most_half_the_lanes():
    """While quick requests wait, so that they keep flowing beside the slow ones."""
    agent = StubAgent(delay_s=0.1, other_delay_s=0.02)
    # 0.3 s of slow requests on 2 lanes, 2 s of quick ones: on a loaded host too, the quick ones
    # still wait when the last slow one goes out (then the slow ones may take every lane).
    requests = [chat(n) for n in range(6)] + [elsewhere(n) for n in range(200)]
    with parts(agent) as (sender, judge, memo, deadline):
        assert SendAhead(Listed(requests), sender, judge, memo, deadline, concurrency=4).run() == ""
    assert agent.most_in_flight["endpoint"] == 2
    assert len(memo.shown) == len(requests)


def test_slow_requests_take_every_lane_when_nothing_else_waits():
    agent = StubAgent(delay_s=0.5)  # long enough for 4 to overlap on a loaded host
    with parts(agent) as (sender, judge, memo, deadline):
        assert SendAhead(Listed([chat(n) for n in range(8)]), sender, judge, memo, deadline, concurrency=4).run() == ""
    assert agent.most_in_flight["endpoint"] == 4


def test_an_answer_that_shows_a_failure_is_memoised_with_it():
    agent = StubAgent(defects=("5xx",))
    broken = chat(0, raw=b'{"message": 7}')
    requests = [chat(1), broken, elsewhere(2)]
    with parts(agent) as (sender, judge, memo, deadline):
        assert SendAhead(Listed(requests), sender, judge, memo, deadline, concurrency=4).run() == ""
    failure = memo.shown[Memo.key(broken)]
    assert (failure.key, failure.requirement) == ("status 500", "ROBUST-INPUT")
    assert failure.received[0].startswith("HTTP 500")
    assert memo.unreached(known=()) == {"status 500": (broken, failure)}
    assert memo.unreached(known=("status 500",)) == {}


def test_a_dropped_connection_is_this_requests_doing():
    agent = StubAgent(defects=("drop",))
    dropped = RawRequest("GET", "/other?x=1")
    with parts(agent) as (sender, judge, memo, deadline):
        assert SendAhead(Listed([dropped, chat(1)]), sender, judge, memo, deadline, concurrency=2).run() == ""
    assert memo.shown[Memo.key(dropped)].key.startswith("no answer: ")
    assert memo.shown[Memo.key(chat(1))] is None


def test_health_changing_stops_sending_ahead_and_leaves_the_answers_since_unjudged():
    agent = StubAgent(defects=("sick",))
    before = [elsewhere(n) for n in range(PROBE_AHEAD_EVERY)]
    after = [elsewhere(100, "DELETE")] + [elsewhere(n) for n in range(200, 240)]
    with parts(agent) as (sender, judge, memo, deadline):
        trouble = SendAhead(Listed(before + after), sender, judge, memo, deadline, concurrency=1).run()
    assert trouble == "GET /health answered 503 (before: 200)"
    assert all(Memo.key(r) in memo.shown for r in before)  # probed as before: passed
    assert Memo.key(after[0]) not in memo.shown  # unjudged: the round sends it again, alone
    assert len(agent.seen) < len(before + after) + 4  # it stopped soon after


def test_a_container_that_exits_stops_sending_ahead():
    agent = StubAgent(defects=("exit",))
    requests = [RawRequest("PUT", "/chat", JSON, b"{}")] + [chat(n) for n in range(30)]
    with parts(agent) as (sender, judge, memo, deadline):
        assert SendAhead(Listed(requests), sender, judge, memo, deadline, concurrency=2).run() == "the container exited"
    assert Memo.key(requests[0]) not in memo.shown


def test_a_timeout_among_requests_in_flight_is_left_to_the_round():
    agent = StubAgent(delay_s=0.6)
    with parts(agent, budgets=Budgets(request_s=0.3, first_byte_s=0.3)) as (sender, judge, memo, deadline):
        assert SendAhead(Listed([chat(0), elsewhere(1)]), sender, judge, memo, deadline, concurrency=2).run() == ""
    assert Memo.key(chat(0)) not in memo.shown  # may be the load's doing: sent again, alone
    assert memo.shown[Memo.key(elsewhere(1))] is None


def test_nothing_is_sent_once_the_cap_is_past():
    agent = StubAgent()
    with parts(agent, cap_s=0.0) as (sender, judge, memo, deadline):
        time.sleep(0.01)
        assert SendAhead(Listed([chat(0), elsewhere(1)]), sender, judge, memo, deadline, concurrency=4).run() == ""
    assert sender.counts.sent == 0 and not memo.shown


def test_the_endpoint_is_left_when_its_answers_would_outlast_the_cap():
    """Once an answer from the endpoint took longer than the time left, quick requests still go."""
    agent = StubAgent(delay_s=0.5)
    requests = [chat(n) for n in range(6)] + [elsewhere(n) for n in range(6)]
    with parts(agent, cap_s=0.8) as (sender, judge, memo, deadline):
        ahead = SendAhead(Listed(requests), sender, judge, memo, deadline, concurrency=1)
        assert ahead.run() == ""
    endpoint_sent = sum(1 for _, target in agent.seen if target == "/chat")
    assert endpoint_sent == 1 and ahead.stopped == TOO_LATE_FOR_THE_ENDPOINT
    assert all(Memo.key(r) in memo.shown for r in requests[6:])


def test_deadline_counts_the_longest_answer_from_the_endpoint():
    deadline = Deadline(10.0)
    assert not deadline.too_late_for_the_endpoint() and not deadline.passed()
    deadline.took(0.5)
    deadline.took(11.0)
    deadline.took(1.0)
    assert deadline.too_late_for_the_endpoint()
