"""Waiting for a candidate to become ready, as the platform's readiness probe does, and how the
wait ended (`Startup`). The wait ends early once the outcome is certain: the container exited,
/ready answered a status that is not "not yet", the server listens on loopback only, or it answers
on another port. Which requirement owns a failed start is the catalogue's to say."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum

import httpx

from ..contract.catalogue import startup_owner
from ..errors import NotChecked
from ..wire import bounded, exchange
from . import sockets


class StartupState(StrEnum):
    READY = "ready"  # /ready answered 200
    SERVING = "serving"  # HTTP answers, but /ready answered a status that is not 200 (nor a 5xx)
    EXITED = "exited"  # the container stopped before /ready answered 200
    LOOPBACK_ONLY = "loopback-only"  # 8080 is bound to loopback only: unreachable from outside
    WRONG_PORT = "wrong-port"  # /ready answers on another port
    TIMEOUT = "timeout"  # not ready by the hard cap (by the budget when HTTP never answered)
    TIMEOUT_OTHER_PORT = "timeout-other-port"  # as TIMEOUT, listening on other ports only
    STAND_IN = "stand-in"  # the platform's candidate does not start; one with a constraint relaxed serves


_TIMEOUTS = (StartupState.TIMEOUT, StartupState.TIMEOUT_OTHER_PORT)


@dataclass
class Startup:
    """How the wait for readiness ended. `blame` is the requirement ID that owns a failure, so each
    defect is reported once and the IDs it prevents from being checked say so."""

    state: StartupState
    elapsed_s: float
    budget_s: float
    ready_s: float | None = None
    first_answer_s: float | None = None  # when HTTP on 8080 first answered anything (the report's timeline)
    ready_answer: exchange.Exchange | None = None
    last_answer: exchange.Exchange | None = None
    listeners: list[sockets.Listener] | None = None
    exit_code: int | None = None
    oom_killed: bool = False
    log_tail: list[str] = field(default_factory=list)
    served_port: int | None = None  # wrong-port: where /ready did answer
    port: int = 0  # where it had to serve (the platform's port, or the one its $PORT named)
    ready_path: str = "/ready"  # the platform's readiness probe
    blame: str = ""
    # READY-TRUTHFUL: the declared endpoints called the moment /ready first said 200, and how long
    # after that they stopped answering 5xx (None: they never failed).
    first_calls: list[exchange.Exchange] = field(default_factory=list)
    setup_calls: list[exchange.Exchange] = field(default_factory=list)  # the agent config's [[setup]], as answered
    settled_s: float | None = None
    # stand-in: the platform's candidate does not start (why: `note`, which ID: `blame`), so the
    # checks that need HTTP use a candidate with one constraint relaxed (lifecycle.session).
    note: str = ""
    sockets_unseen: str = ""  # why the listening sockets are unknown, if they are
    hard_cap_s: float | None = None  # how long an agent that answers HTTP is waited for

    @property
    def serving(self) -> bool:
        """HTTP answers on 8080 through the container's network address."""
        return self.state in (StartupState.READY, StartupState.SERVING, StartupState.STAND_IN) or (
            self.state in _TIMEOUTS and self.last_answer is not None and self.last_answer.status is not None
        )

    def cause(self) -> str:
        """One sentence: why the candidate is not (fully) usable."""
        listening = sockets.describe(self.listeners)
        if self.state == StartupState.EXITED:
            oom = " (killed: out of memory)" if self.oom_killed else ""
            return (f"the container exited with code {self.exit_code}{oom} {self.elapsed_s:.1f} s after start, "
                    f"before {self.ready_path} answered 200")
        if self.state == StartupState.LOOPBACK_ONLY:
            return f"the server is unreachable from outside the container: it {listening}"
        if self.state == StartupState.WRONG_PORT:
            return (f"HTTP is served on port {self.served_port}, not {self.port}: "
                    f"the container {listening}")
        if self.state == StartupState.SERVING:
            return f"{self.ready_path} never answered 200: {self.last_answer.summary() if self.last_answer else 'no answer'}"
        if self.state == StartupState.STAND_IN:
            return self.note
        if self.state in _TIMEOUTS:
            last = self.last_answer.summary() if self.last_answer else "no attempt"
            return (f"not ready {self.elapsed_s:.0f} s after start (budget {self.budget_s:g} s); last: {last}; "
                    f"the container {listening}{self._why_not_longer()}")
        return "ready"

    def _why_not_longer(self) -> str:
        if self.first_answer_s is not None or self.hard_cap_s is None or self.elapsed_s >= self.hard_cap_s:
            return ""
        return (f"; what listens on port {self.port} answered no HTTP within the budget, so the wait ended "
                f"{self.elapsed_s:.0f} s after start "
                f"(an agent that answers, even 503 while it loads, is waited for up to {self.hard_cap_s:g} s)")

    def details(self) -> list[str]:
        """Evidence beside the cause: the sockets and the log tail."""
        lines = [f"sockets: the container {sockets.describe(self.listeners)}"]
        if self.listeners is None and self.sockets_unseen:
            lines.append(f"sockets unknown because {self.sockets_unseen}")
        if self.log_tail:
            lines.append(f"log tail ({len(self.log_tail)} lines):")
            lines += [f"  | {line}" for line in self.log_tail]
        return lines


def startup_cap_s(budget_s: float) -> float:
    """How long the wait for readiness goes on past the startup budget, so a slow agent still gets
    every other check: twice the budget, at least 30 s more."""
    return max(2 * budget_s, budget_s + 30)


def wait_deadline_s(budget_s: float, hard_cap_s: float, answered: bool, listening: bool) -> float:
    """Seconds after start at which the wait for readiness gives up. The wait past the budget is for
    an agent that may yet become ready: one that answers HTTP (503 while it loads), or one not seen
    listening on the port yet (still importing: a Python sample on this loaded 2-core host took
    10–25 s to bind). One that listens there and has not answered HTTP by the end of its budget (it
    holds connections silent, or speaks another protocol) gains nothing from it: it is judged at the
    budget, not waited for twice."""
    if listening and not answered:
        return min(budget_s, hard_cap_s)
    return hard_cap_s


def wait_ready(candidate, budget_s: float, hard_cap_s: float | None = None, poll_s: float = 0.1,
               on_ready=None, progress=None) -> Startup:
    """Poll `GET /ready` on a started `Candidate` until 200, watching the container and its sockets;
    past the budget keep waiting up to `hard_cap_s` (2× budget, at least +30 s) so a slow agent
    still gets every other check, unless it listens there and has answered no HTTP by then
    (`wait_deadline_s`).
    `on_ready(http)` runs the moment /ready first says 200; `progress(text)`, if given, is told how
    the wait goes."""
    hard_cap_s = hard_cap_s if hard_cap_s is not None else startup_cap_s(budget_s)
    probe = candidate.platform.profile.ready
    last: exchange.Exchange | None = None
    listeners: list[sockets.Listener] | None = None
    next_socket_look = 0.0
    http: httpx.Client | None = None
    first_answer_s: float | None = None

    def gives_up_at() -> float:  # moves to the hard cap once HTTP has answered
        listening = bool(listeners) and any(x.port == candidate.port and not x.loopback for x in listeners)
        return candidate.started_at + wait_deadline_s(budget_s, hard_cap_s, first_answer_s is not None, listening)

    def ended(state: StartupState, **details) -> Startup:
        return _ended(candidate, state, last, listeners, budget_s, first_answer_s=first_answer_s,
                      hard_cap_s=hard_cap_s, **details)

    def exited(state: dict) -> bool:
        return state.get("Status") in ("exited", "dead") or not state.get("Running")

    def ended_by_exit(state: dict) -> Startup:
        return ended(StartupState.EXITED, exit_code=state.get("ExitCode"), oom_killed=bool(state.get("OOMKilled")))

    try:
        while True:
            now = time.monotonic()
            state = candidate.state()
            if exited(state):
                return ended_by_exit(state)
            if http is None:
                try:
                    http = candidate.client_http()
                except NotChecked:  # it exited since the look above (its port went with it)
                    state = candidate.state()
                    if exited(state):
                        return ended_by_exit(state)
                    raise
            remaining = gives_up_at() - now
            if progress is not None:
                progress(_waiting(probe.path, now - candidate.started_at, budget_s, last))
            last = exchange.request(http, "GET", probe.path, timeout_s=max(0.2, min(1.0, remaining)))
            if last.status is not None and first_answer_s is None:
                first_answer_s = time.monotonic() - candidate.started_at
            # A TCP probe only waits for the port: any HTTP answer there will do.
            if last.status == probe.status or (probe.kind == "tcp" and last.status is not None):
                # Called before anything else: what traffic meets the moment /ready says 200.
                ready_s = time.monotonic() - candidate.started_at
                setup_calls = run_setup(http, candidate.setup)
                first_calls = on_ready(http) if on_ready else []
                return ended(StartupState.READY, ready_answer=last, ready_s=ready_s, first_calls=first_calls,
                             setup_calls=setup_calls)
            if last.status is not None and last.status < 500:
                return ended(StartupState.SERVING)
            if now >= next_socket_look:
                listeners = candidate.listeners()
                next_socket_look = time.monotonic() + (1.0 if candidate.looks_cost_a_container else 0.5)
                early = _socket_verdict(candidate, listeners)
                if early:
                    return ended(early[0], served_port=early[1])
            if time.monotonic() >= gives_up_at():
                elsewhere = listeners and not any(x.port == candidate.port for x in listeners)
                return ended(StartupState.TIMEOUT_OTHER_PORT if elsewhere else StartupState.TIMEOUT)
            time.sleep(poll_s)
    finally:
        if http is not None:
            http.close()


def run_setup(http: httpx.Client, setup) -> list[exchange.Exchange]:
    """The agent config's `[[setup]]` requests, in order, once the candidate is ready: what its
    API asks a client to do before calling the endpoints (ADK's `adk api_server`: create the
    session). Their answers are evidence, not judged; ENDPOINT-SERVES shows them."""
    return [exchange.request(http, step.method, step.path, body=step.body_bytes()) for step in setup]


def _waiting(path: str, elapsed_s: float, budget_s: float, last: exchange.Exchange | None) -> str:
    answer = f"; last: {last.summary()}" if last is not None else ""
    past = " (past the budget: still waiting, so the other checks can run)" if elapsed_s > budget_s else ""
    return f"waiting for {path}: {elapsed_s:.0f} s of the {budget_s:g} s start-up budget{past}{answer}"


def _socket_verdict(candidate, listeners: list[sockets.Listener] | None) -> tuple[StartupState, int | None] | None:
    if not listeners:
        return None
    on_port = [x for x in listeners if x.port == candidate.port]
    if on_port and all(x.loopback for x in on_port):
        return (StartupState.LOOPBACK_ONLY, None)
    if on_port:
        return None
    ip = candidate.ip_address()
    for listener in listeners:
        if listener.loopback or not ip:
            continue
        if _answers_http(candidate, ip, listener):
            return (StartupState.WRONG_PORT, listener.port)
    return None


def _answers_http(candidate, ip: str, listener: sockets.Listener) -> bool:
    """Whether HTTP answers on another port: asked directly where the container's address leads to
    it from here, else from inside its network namespace."""
    if not candidate.reach.routable:
        return candidate.answers_http_inside(listener, candidate.platform.ready_path)
    with bounded.make_client(f"http://{ip}:{listener.port}", candidate.budgets, platform=candidate.platform) as http:
        return exchange.request(http, "GET", candidate.platform.ready_path, timeout_s=0.5).status is not None


def _ended(candidate, state: StartupState, last, listeners, budget_s: float, **details) -> Startup:
    elapsed = time.monotonic() - candidate.started_at
    if state != StartupState.EXITED:
        listeners = candidate.listeners()  # fresh: the last look may predate the bind
    startup = Startup(state=state, elapsed_s=elapsed, budget_s=budget_s, last_answer=last, listeners=listeners,
                      blame=startup_owner(state), sockets_unseen=candidate.unseen, port=candidate.port,
                      ready_path=candidate.platform.ready_path, **details)
    if state != StartupState.READY:
        startup.log_tail = candidate.log_tail()
    candidate.startup = startup
    return startup
