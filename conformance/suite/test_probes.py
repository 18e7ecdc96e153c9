"""The readiness and liveness probes: /ready and /health answer 200 with application/json, and the
candidate is ready within the startup budget. Redirects are never followed."""

from __future__ import annotations

import json

import pytest

from conformance import exchange, mediatype
from conformance.candidate import CandidateUnavailable
from conformance.outcome import fail


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
    if answer.body.strip():
        try:
            json.loads(answer.body)
        except ValueError:
            fail(f"GET {path} declares application/json but its body is not JSON", answer.evidence())


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
