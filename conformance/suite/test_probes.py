"""The readiness and liveness probes: /ready and /health answer 200 with application/json, and the
candidate is ready within the startup budget. Redirects are never followed."""

from __future__ import annotations

import threading
import time

import pytest

from conformance import endpoints, exchange, mediatype, streaming
from conformance.candidate import CandidateUnavailable
from conformance.outcome import fail

PROBE_TIMEOUT_S = 1.0  # Kubernetes' default probe timeout


def _hint(answer: exchange.Exchange, path: str) -> list[str]:
    location = answer.header("location") or ""
    if answer.status in (301, 302, 307, 308) and location.rstrip("/").endswith(path):
        return [f"the route is declared with a trailing slash ({path}/); declare it as {path}"]
    if answer.status == 204:
        return ["204 No Content is not 200 OK: probes compare the status exactly"]
    if answer.status == 404:
        return [f"no route at {path}"]
    return []


def _check_media_type(answer: exchange.Exchange, path: str, evidence: list[str]) -> None:
    evidence.append(answer.summary())
    if not mediatype.is_media_type(answer.content_type, mediatype.JSON):
        fail(f"GET {path} answered Content-Type {mediatype.describe(answer.content_type)}, not application/json",
             answer.evidence())
    problem = answer.json_error() if answer.body.strip() or answer.cut else None
    if problem:
        fail(f"GET {path} declares application/json but its body is not JSON: {problem}", answer.evidence())


@pytest.mark.requirement("STARTUP-TIME")
def test_ready_within_startup_budget(candidate, budgets, evidence):
    startup = candidate.startup
    if startup.state == "ready":
        evidence.append(f"/ready answered 200 {startup.ready_s:.2f} s after the container started "
                        f"(budget {budgets.startup_s:g} s)")
        if startup.ready_s > budgets.startup_s:
            fail(f"ready only {startup.ready_s:.1f} s after start; the budget is {budgets.startup_s:g} s",
                 startup.details())
        return
    if startup.blame == "STARTUP-TIME":
        fail(startup.cause(), startup.details())
    raise CandidateUnavailable(f"no time to ready can be measured: {startup.cause()} (see {startup.blame})")


@pytest.mark.requirement("READY-200")
def test_ready_answers_200(candidate, http, evidence):
    startup = candidate.startup
    if startup.blame == "READY-200":
        answer = startup.last_answer
        fail(f"GET /ready answered {answer.status}, not 200", answer.evidence() + _hint(answer, "/ready"))
    if startup.state != "ready":
        raise CandidateUnavailable(f"{startup.cause()} (see {startup.blame})")
    answer = exchange.request(http, "GET", "/ready")
    evidence.append(f"first 200 {startup.ready_s:.2f} s after start; now: {answer.summary()}")
    if answer.status != 200:
        fail(f"GET /ready answered 200 during start-up, then {answer.status or answer.error}",
             answer.evidence() + _hint(answer, "/ready"))


@pytest.mark.requirement("READY-JSON")
def test_ready_is_json(candidate, http, evidence):
    answer = exchange.request(http, "GET", "/ready")
    if answer.status != 200:
        answer = candidate.startup.ready_answer
    if answer is None:
        raise CandidateUnavailable("/ready never answered 200, so there is no answer to judge (see READY-200)")
    _check_media_type(answer, "/ready", evidence)


@pytest.mark.requirement("HEALTH-200")
def test_health_answers_200(http, evidence):
    answer = exchange.request(http, "GET", "/health")
    evidence.append(answer.summary())
    if answer.status != 200:
        fail(f"GET /health answered {answer.status or answer.error}, not 200",
             answer.evidence() + _hint(answer, "/health"))


@pytest.mark.requirement("HEALTH-JSON")
def test_health_is_json(http, evidence):
    answer = exchange.request(http, "GET", "/health")
    if answer.status != 200:
        raise CandidateUnavailable(f"GET /health answered {answer.status or answer.error}, so there is no 200 "
                                   "answer to judge (see HEALTH-200)")
    _check_media_type(answer, "/health", evidence)


@pytest.mark.requirement("READY-TRUTHFUL")
def test_endpoints_serve_once_ready(candidate, agent_config, budgets, evidence):
    startup = candidate.startup
    if startup.state != "ready":
        raise CandidateUnavailable(f"/ready never answered 200: {startup.cause()} (see {startup.blame})")
    evidence.append(f"/ready first answered 200 {startup.ready_s:.2f} s after start; then at once:")
    evidence += [f"  {answer.summary()}" for answer in startup.first_calls]
    failed = endpoints.unserved(startup.first_calls)
    if failed:
        settled = (f"they answered without 5xx {startup.settled_s:.2f} s later" if startup.settled_s is not None
                   else f"they still answered 5xx or nothing {budgets.startup_s:g} s later")
        fail(f"/ready said 200 but {failed[0].method} {failed[0].target} answered "
             f"{failed[0].status or failed[0].error} right after; {settled}",
             [line for answer in failed for line in answer.evidence()])


def _timed_probes(http, rounds: int) -> list[exchange.Exchange]:
    return [exchange.request(http, "GET", path, timeout_s=PROBE_TIMEOUT_S * 3)
            for _ in range(rounds) for path in ("/health", "/ready")]


@pytest.mark.requirement("PROBES-RESPONSIVE")
def test_probes_answer_within_a_second(http, candidate, endpoint, budgets, evidence):
    idle = _timed_probes(http, rounds=3)
    evidence.append("idle: " + ", ".join(f"{a.target} {a.elapsed_s * 1000:.0f} ms" for a in idle))
    # A stream in flight on its own connection; probes go one after another until it ends, so a
    # block anywhere in it (a sync call in async code, a single worker) is met by some probe.
    stream_done = threading.Event()

    def stream():
        try:
            with candidate.client_http() as own:
                streaming.capture(own, endpoint, endpoints.SSE_MODE)
        finally:
            stream_done.set()

    threading.Thread(target=stream, daemon=True).start()
    time.sleep(0.05)  # let the stream request reach the agent first
    busy: list[exchange.Exchange] = []
    deadline = time.monotonic() + budgets.stream_s
    while not stream_done.is_set() and time.monotonic() < deadline and len(busy) < 40:
        busy += _timed_probes(http, rounds=1)
    stream_done.wait(budgets.stream_s + 1)
    if busy:
        worst_busy = max(busy, key=lambda a: a.elapsed_s)
        evidence.append(f"{len(busy)} probes while {endpoint.label} streamed: slowest {worst_busy.target} "
                        f"{worst_busy.elapsed_s * 1000:.0f} ms")
    else:
        evidence.append(f"{endpoint.label} finished before a probe could run beside it")
    slow = [a for a in idle + busy if a.status is None or a.elapsed_s > PROBE_TIMEOUT_S]
    if slow:
        during = "while a stream was in flight" if any(a in busy for a in slow) else "idle"
        worst = max(slow, key=lambda a: a.elapsed_s)
        fail(f"GET {worst.target} took {worst.elapsed_s:.2f} s {during} (Kubernetes' probe timeout: "
             f"{PROBE_TIMEOUT_S:g} s)" + (f": {worst.error}" if worst.error else ""), evidence[:] + worst.evidence())
