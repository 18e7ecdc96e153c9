"""How long the wait for readiness goes on (conformance/candidate/readiness.py): past the budget only
for an agent that has answered HTTP. A stand-in candidate over raw socket servers: no Docker."""

from __future__ import annotations

import time

from conformance.candidate import sockets
from conformance.candidate.readiness import StartupState, startup_cap_s, wait_deadline_s, wait_ready
from conformance.contract import platform as platforms
from conformance.contract.agent_config import Budgets
from conformance.wire import bounded
from tests.rawservers import raw_server, read_head


def test_an_agent_listening_but_never_answering_http_is_judged_at_its_budget():
    assert wait_deadline_s(30, startup_cap_s(30), answered=False, listening=True) == 30
    assert wait_deadline_s(1, startup_cap_s(1), answered=False, listening=True) == 1


def test_nothing_listening_yet_keeps_the_wait_to_the_hard_cap():
    # Still importing, maybe: a slow bind is not evidence that it will never answer.
    assert wait_deadline_s(30, startup_cap_s(30), answered=False, listening=False) == 60
    assert wait_deadline_s(2, startup_cap_s(2), answered=False, listening=False) == 32


def test_an_agent_that_answered_http_keeps_the_wait_to_the_hard_cap():
    for listening in (True, False):
        assert wait_deadline_s(30, startup_cap_s(30), answered=True, listening=listening) == 60
        assert wait_deadline_s(1, startup_cap_s(1), answered=True, listening=listening) == 31


def test_a_cap_below_the_budget_still_bounds_the_wait():
    assert wait_deadline_s(30, 5, answered=False, listening=True) == 5


class StandIn:
    """What wait_ready asks of a Candidate, over a raw server on this machine."""

    looks_cost_a_container = False
    unseen = ""
    startup = None

    def __init__(self, port, listening=False):
        self._listening = listening
        self.platform = platforms.default()
        self.port, self._url = self.platform.port, f"http://127.0.0.1:{port}"
        self.started_at = time.monotonic()

    def state(self):
        return {"Status": "running", "Running": True}

    def client_http(self):
        return bounded.make_client(self._url, Budgets(), platform=self.platform)

    def listeners(self):  # unknown, or bound on the platform's port on every interface
        return [sockets.Listener(self.port, "0.0.0.0")] if self._listening else None

    def log_tail(self, lines=50):
        return []


def silent(conn, stop):
    while not stop.is_set() and conn.recv(65536):
        pass


def not_http(conn, stop):
    read_head(conn)
    conn.sendall(b"SSH-2.0-OpenSSH_9.2p1\r\n")


def loading(conn, stop):
    read_head(conn)
    conn.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


def test_a_silent_server_is_given_up_at_the_budget_and_the_evidence_says_why():
    with raw_server(silent) as port:
        startup = wait_ready(StandIn(port, listening=True), budget_s=0.5, hard_cap_s=30, poll_s=0.05)
    assert startup.state == StartupState.TIMEOUT
    assert startup.first_answer_s is None
    assert startup.elapsed_s < 30  # ended at the budget's end, far from the cap
    assert "what listens on port 8080 answered no HTTP within the budget" in startup.cause()
    assert "up to 30 s" in startup.cause()


def test_a_server_that_does_not_speak_http_is_given_up_at_the_budget():
    with raw_server(not_http) as port:
        startup = wait_ready(StandIn(port, listening=True), budget_s=0.5, hard_cap_s=30, poll_s=0.05)
    assert startup.state == StartupState.TIMEOUT and startup.elapsed_s < 30
    assert "answered no HTTP within the budget" in startup.cause()


def test_an_agent_answering_503_while_it_loads_is_waited_for_past_its_budget():
    with raw_server(loading) as port:
        startup = wait_ready(StandIn(port), budget_s=0.2, hard_cap_s=1.0, poll_s=0.05)
    assert startup.state == StartupState.TIMEOUT
    assert startup.first_answer_s is not None
    assert startup.elapsed_s >= 1.0  # the whole cap: it might yet have become ready
    assert "answered no HTTP within the budget" not in startup.cause()


def test_nothing_seen_listening_is_waited_for_to_the_cap():
    with raw_server(silent) as port:  # the sockets unknown: maybe not bound yet
        startup = wait_ready(StandIn(port), budget_s=0.2, hard_cap_s=1.0, poll_s=0.05)
    assert startup.state == StartupState.TIMEOUT and startup.elapsed_s >= 1.0


class ExitsWhileLookedAt(StandIn):
    """Running at the first look, gone when its port is asked for: the engine's answers race its exit."""

    def __init__(self, port):
        super().__init__(port)
        self.looks = 0

    def state(self):
        self.looks += 1
        if self.looks == 1:
            return {"Status": "running", "Running": True}
        return {"Status": "exited", "Running": False, "ExitCode": 2, "OOMKilled": False}

    def client_http(self):
        from conformance.errors import NotChecked

        raise NotChecked("the container has no published port (it is not running)")


def test_an_exit_between_the_state_and_the_port_is_an_exit_not_an_error():
    # Seen under load (broken/uv-run-at-start in the matrix): every check erred with "no published
    # port" instead of the diagnosis finding the read-only root.
    startup = wait_ready(ExitsWhileLookedAt(1), budget_s=5, hard_cap_s=5, poll_s=0.05)
    assert startup.state == StartupState.EXITED
    assert startup.exit_code == 2
