"""The readiness and liveness probes: /ready and /health answer 200 with application/json, and the
candidate is ready within the startup budget. Redirects are never followed."""

from __future__ import annotations

import threading
import time

import pytest

from conformance.candidate.readiness import StartupState
from conformance.check import (SSE_MODE, Exchange, NotChecked, capture, fail, json_mode, mediatype, request, see,
                              unserved)


def _ready_said(platform) -> str:
    """What the readiness wait waited for: a 200 from the probe path, or (a TCP probe) any HTTP answer."""
    return (f"{platform.ready_path} answered 200" if platform.profile.http_probes
            else f"HTTP on port {platform.port} first answered")


def _hint(answer: Exchange, path: str) -> list[str]:
    location = answer.header("location") or ""
    if answer.status in (301, 302, 307, 308) and location.rstrip("/").endswith(path):
        return [f"the route is declared with a trailing slash ({path}/); declare it as {path}"]
    if answer.status == 204:
        return ["204 No Content is not 200 OK: probes compare the status exactly"]
    if answer.status == 404:
        return [f"no route at {path}"]
    return []


def _check_media_type(answer: Exchange, path: str, evidence: list[str]) -> None:
    evidence.append(answer.summary())
    if not mediatype.is_media_type(answer.content_type, mediatype.JSON):
        fail(f"GET {path} answered Content-Type {mediatype.describe(answer.content_type)}, not application/json",
             answer.evidence())
    problem = answer.json_error() if answer.body.strip() or answer.cut else None
    if problem:
        fail(f"GET {path} declares application/json but its body is not JSON: {problem}", answer.evidence())


@pytest.mark.requirement("STARTUP-TIME")
def test_ready_within_startup_budget(candidate, budgets, platform, requirement_id, evidence):
    startup = candidate.startup
    if startup.state == StartupState.READY:
        evidence.append(f"{_ready_said(platform)} {startup.ready_s:.2f} s after the container started "
                        f"(budget {budgets.startup_s:g} s)")
        if startup.ready_s > budgets.startup_s:
            fail(f"ready only {startup.ready_s:.1f} s after start; the budget is {budgets.startup_s:g} s",
                 startup.details())
        return
    if startup.blame == requirement_id:
        fail(startup.cause(), startup.details())
    raise NotChecked(f"no time to ready can be measured: {startup.cause()} {see(startup.blame)}")


@pytest.mark.requirement("READY-200")
def test_ready_answers_200(candidate, http, platform, requirement_id, evidence):
    ready = platform.ready_path
    startup = candidate.startup
    if startup.blame == requirement_id:
        answer = startup.last_answer
        fail(f"GET {ready} answered {answer.status}, not 200", answer.evidence() + _hint(answer, ready))
    if startup.state != StartupState.READY:
        raise NotChecked(f"{startup.cause()} {see(startup.blame)}")
    answer = request(http, "GET", ready)
    evidence.append(f"first 200 {startup.ready_s:.2f} s after start; now: {answer.summary()}")
    if answer.status != 200:
        fail(f"GET {ready} answered 200 during start-up, then {answer.status or answer.error}",
             answer.evidence() + _hint(answer, ready))


@pytest.mark.requirement("READY-JSON")
def test_ready_is_json(candidate, http, platform, evidence):
    ready = platform.ready_path
    answer = request(http, "GET", ready)
    if answer.status != 200:
        answer = candidate.startup.ready_answer
    if answer is None:
        raise NotChecked(f"{ready} never answered 200, so there is no answer to judge {see('READY-200')}")
    _check_media_type(answer, ready, evidence)


@pytest.mark.requirement("PING-STATUS-JSON")
def test_probe_answers_its_status_as_json(candidate, http, platform, evidence):
    probe = platform.profile.ready
    answer = request(http, "GET", probe.path)
    if answer.status != probe.status:
        answer = candidate.startup.ready_answer
    if answer is None:
        raise NotChecked(f"{probe.path} never answered {probe.status}, so there is no answer to judge {see('READY-200')}")
    _check_media_type(answer, probe.path, evidence)
    body = answer.json()
    value = body.get(probe.json_field) if isinstance(body, dict) else None
    wanted = " or ".join(f'"{v}"' for v in probe.json_values)
    if value not in probe.json_values:
        said = f"has no {probe.json_field!r} field" if not isinstance(body, dict) or probe.json_field not in body \
            else f"says {probe.json_field!r}: {value!r}"
        fail(f"GET {probe.path}: the JSON body {said}; the platform reads {probe.json_field!r} as {wanted}",
             answer.evidence())
    evidence.append(f'"{probe.json_field}": "{value}", one of {wanted}')


@pytest.mark.requirement("HEALTH-200")
def test_health_answers_200(http, platform, evidence):
    health = platform.health_path
    answer = request(http, "GET", health)
    evidence.append(answer.summary())
    if answer.status != 200:
        fail(f"GET {health} answered {answer.status or answer.error}, not 200",
             answer.evidence() + _hint(answer, health))


@pytest.mark.requirement("HEALTH-JSON")
def test_health_is_json(http, platform, evidence):
    health = platform.health_path
    answer = request(http, "GET", health)
    if answer.status != 200:
        raise NotChecked(f"GET {health} answered {answer.status or answer.error}, so there is no 200 "
                         f"answer to judge {see('HEALTH-200')}")
    _check_media_type(answer, health, evidence)


@pytest.mark.requirement("READY-TRUTHFUL")
def test_endpoints_serve_once_ready(candidate, agent_config, budgets, platform, evidence):
    ready = platform.ready_path
    startup = candidate.startup
    if startup.state != StartupState.READY:
        raise NotChecked(f"{ready} never answered 200: {startup.cause()} {see(startup.blame)}")
    evidence.append(f"{ready} first answered 200 {startup.ready_s:.2f} s after start; then at once:")
    first = json_mode(startup.first_calls)
    evidence += [f"  {answer.summary()}" for answer in first]
    failed = unserved(first)
    if failed and startup.settled_s is None:
        # Never served, not only served early: that is ENDPOINT-SERVES' defect, reported there once.
        raise NotChecked(f"{failed[0].method} {failed[0].target} answered {failed[0].status or failed[0].error} right "
                         f"after, and still 5xx or nothing {budgets.startup_s:g} s later {see('ENDPOINT-SERVES')}")
    if failed:
        settled = f"they answered without 5xx {startup.settled_s:.2f} s later"
        fail(f"{_ready_said(platform)} but {failed[0].method} {failed[0].target} answered "
             f"{failed[0].status or failed[0].error} right after; {settled}",
             [line for answer in failed for line in answer.evidence()])


def _timed_probes(http, platform, rounds: int) -> list[Exchange]:
    return [request(http, "GET", path, timeout_s=platform.probe_timeout_s * 3)
            for _ in range(rounds) for path in (platform.health_path, platform.ready_path)]


def _measure(measurements, platform, answers: list[Exchange], condition: str) -> None:
    for path in (platform.health_path, platform.ready_path):
        mine = [a.elapsed_s if a.status is not None else None for a in answers if a.target == path]
        if mine:
            measurements.probes(path, condition, mine)


@pytest.mark.requirement("PROBES-RESPONSIVE")
def test_probes_answer_within_a_second(http, candidate, endpoint, budgets, platform, evidence, run_state):
    idle = _timed_probes(http, platform, rounds=3)
    evidence.append("idle: " + ", ".join(f"{a.target} {a.elapsed_s * 1000:.0f} ms" for a in idle))
    # A stream in flight on its own connection; probes go one after another until it ends, so a
    # block anywhere in it (a sync call in async code, a single worker) is met by some probe.
    stream_done = threading.Event()

    def stream():
        try:
            with candidate.client_http() as own:
                capture(own, endpoint, SSE_MODE)
        finally:
            stream_done.set()

    threading.Thread(target=stream, daemon=True).start()
    time.sleep(0.05)  # let the stream request reach the agent first
    busy: list[Exchange] = []
    deadline = time.monotonic() + budgets.stream_s
    while not stream_done.is_set() and time.monotonic() < deadline and len(busy) < 40:
        busy += _timed_probes(http, platform, rounds=1)
    stream_done.wait(budgets.stream_s + 1)
    _measure(run_state.measurements, platform, idle, "idle")
    _measure(run_state.measurements, platform, busy, f"{endpoint.label} streaming")
    if busy:
        worst_busy = max(busy, key=lambda a: a.elapsed_s)
        evidence.append(f"{len(busy)} probes while {endpoint.label} streamed: slowest {worst_busy.target} "
                        f"{worst_busy.elapsed_s * 1000:.0f} ms")
    else:
        evidence.append(f"{endpoint.label} finished before a probe could run beside it")
    slow = [a for a in idle + busy if a.status is None or a.elapsed_s > platform.probe_timeout_s]
    if slow:
        during = "while a stream was in flight" if any(a in busy for a in slow) else "idle"
        worst = max(slow, key=lambda a: a.elapsed_s)
        fail(f"GET {worst.target} took {worst.elapsed_s:.2f} s {during} (Kubernetes' probe timeout: "
             f"{platform.probe_timeout_s:g} s)" + (f": {worst.error}" if worst.error else ""), evidence[:] + worst.evidence())
