"""Calling the agent's declared endpoints in the two modes the platform uses: JSON (Accept without
text/event-stream) and SSE (Accept with it), and judging an answer's mode in one sentence; the
probes and every endpoint in both modes (`exercise`): what the lifecycle trials compare."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx

from ..contract.agent_config import AgentConfig, Endpoint
from . import exchange, mediatype
from . import headers as headers_of

# Only unambiguous Accept values decide a verdict; odd ones belong to ROBUST-INPUT.
JSON_ACCEPTS: tuple[str | None, ...] = (None, "application/json", "*/*")
SSE_ACCEPTS: tuple[str, ...] = ("text/event-stream", "application/json, text/event-stream",
                                "text/event-stream, application/json")
JSON_MODE = mediatype.JSON  # the Accept used when one JSON call stands for all
SSE_MODE = mediatype.EVENT_STREAM


def call(client: httpx.Client, endpoint: Endpoint, accept: str | None) -> exchange.Exchange:
    """One call, within the client's budgets."""
    headers = {"Accept": accept} if accept is not None else {}
    return exchange.request(client, endpoint.method, endpoint.path, headers=headers, body=endpoint.body_bytes())


def json_problem(answer: exchange.Exchange) -> str | None:
    """Why this is not a JSON-mode success (2xx, application/json, body parses), or None."""
    if answer.status is None:
        return f"no answer: {answer.error}"
    if not 200 <= answer.status < 300:
        return f"answered {answer.status}"
    if not mediatype.is_media_type(answer.content_type, mediatype.JSON):
        return f"answered Content-Type {mediatype.describe(answer.content_type)}, not application/json"
    return answer.json_error()


def sse_problem(answer: exchange.Exchange) -> str | None:
    """Why this is not an SSE-mode success (2xx, text/event-stream), or None."""
    if answer.status is None:
        return f"no answer: {answer.error}"
    if not 200 <= answer.status < 300:
        return f"answered {answer.status}"
    if not mediatype.is_media_type(answer.content_type, mediatype.EVENT_STREAM):
        return f"answered Content-Type {mediatype.describe(answer.content_type)}, not text/event-stream"
    return None


@dataclass(frozen=True)
class Observation:
    """One request of an exercise, what came back and what is wrong with it (None: nothing)."""

    what: str  # "GET /ready", "POST /chat (Accept: text/event-stream)"
    answer: exchange.Exchange
    problem: str | None


def exercise(client: httpx.Client, config: AgentConfig, first_calls: list[exchange.Exchange] = (), *,
             platform) -> list[Observation]:
    """The probes (`platform.probe_paths`) and every declared endpoint in JSON and SSE mode: what a
    platform run does, each answer judged as the platform asks (where the agent chooses the form,
    JSON or an event stream will do, whatever Accept said). The calls go out together (on an agent
    with a model's latency they cost the slowest, not the sum).
    `first_calls`: the answers `call_at_ready` got the moment /ready said 200; when every one
    was served they are taken as they are rather than asked for again."""
    jobs: list[tuple[str, Callable[[], exchange.Exchange], Callable[[exchange.Exchange], str | None]]] = []
    judges = ((JSON_MODE, json_or_stream_problem), (SSE_MODE, chosen_form_problem)) if platform.agent_chooses_the_form \
        else ((JSON_MODE, json_problem), (SSE_MODE, sse_problem))
    for path in platform.probe_paths:
        jobs.append((f"GET {path}", lambda path=path: exchange.request(client, "GET", path), _probe_problem))
    for endpoint in config.endpoints:
        for mode, judge in judges:
            known = served_first(first_calls, endpoint, mode)
            jobs.append((f"{endpoint.label} (Accept: {mode})",
                         (lambda known=known: known) if known else (lambda e=endpoint, m=mode: call(client, e, m)),
                         judge))
    with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="exercise") as pool:
        answers = list(pool.map(lambda job: job[1](), jobs))
    return [Observation(what, answer, judge(answer)) for (what, _, judge), answer in zip(jobs, answers)]


def json_or_stream_problem(answer: exchange.Exchange) -> str | None:
    """Why this is not a success where the agent chooses the form (AgentCore) of what JSON mode
    asked: a 2xx, JSON or an event stream, as it likes."""
    if answer.status is not None and 200 <= answer.status < 300 and \
            mediatype.is_media_type(answer.content_type, mediatype.EVENT_STREAM):
        return None
    return json_problem(answer)


def chosen_form_problem(answer: exchange.Exchange) -> str | None:
    """… and of what SSE mode asked: a 4xx (406) is its choice of form; no answer, a 5xx, or a 2xx
    neither JSON nor an event stream is not."""
    if answer.status is None:
        return f"no answer: {answer.error}"
    if answer.status >= 500:
        return f"answered {answer.status}"
    return json_or_stream_problem(answer) if 200 <= answer.status < 300 else None


def _probe_problem(answer: exchange.Exchange) -> str | None:
    return None if answer.status == 200 else f"answered {answer.status or answer.error}"


def call_at_ready(client: httpx.Client, config: AgentConfig) -> list[exchange.Exchange]:
    """The calls made the moment /ready first says 200: every endpoint in JSON mode (what
    READY-TRUTHFUL judges: `json_mode`) and in SSE mode (taken by `exercise` as they are), all at
    once, so an agent with a model's latency costs one answer's time here, not three."""
    jobs = [(endpoint, mode) for mode in (JSON_MODE, SSE_MODE) for endpoint in config.endpoints]
    with ThreadPoolExecutor(max_workers=max(1, len(jobs)), thread_name_prefix="first-calls") as pool:
        return list(pool.map(lambda job: call(client, *job), jobs))


def served_first(first_calls: list[exchange.Exchange], endpoint: Endpoint, accept: str | None):
    """The answer among the first calls (`first_calls`) to this endpoint with this Accept value,
    if every first call was served: the checks take it instead of asking again. Else None."""
    if unserved(list(first_calls)):
        return None
    return next((a for a in first_calls if _accept(a) == accept and (a.method, a.target, a.request_body) ==
                 (endpoint.method, endpoint.path, endpoint.body_bytes())), None)


def json_mode(answers: list[exchange.Exchange]) -> list[exchange.Exchange]:
    """The JSON-mode answers among these."""
    return [a for a in answers if _accept(a) != SSE_MODE]


def _accept(answer: exchange.Exchange) -> str | None:
    return headers_of.first(answer.request_headers, "accept")


def call_all(client: httpx.Client, config: AgentConfig, accept: str | None = JSON_MODE) -> list[exchange.Exchange]:
    return [call(client, endpoint, accept) for endpoint in config.endpoints]


def serving_problems(json_answer: exchange.Exchange, sse_answer: exchange.Exchange,
                     stream_asked_must_succeed: bool = True) -> list[tuple[str, exchange.Exchange, str]]:
    """(mode, answer, problem) for each mode in which an endpoint does not serve its example
    request (ENDPOINT-SERVES): no answer or not a 2xx. `stream_asked_must_succeed`: False where the
    agent, not Accept, chooses the form: then a 4xx to `Accept: text/event-stream` (406) is its
    choice, and only no answer or a 5xx there fails."""
    found = []
    for mode, answer in ((JSON_MODE, json_answer), (SSE_MODE, sse_answer)):
        strict = mode == JSON_MODE or stream_asked_must_succeed
        if answer.status is None:
            found.append((mode, answer, f"no answer: {answer.error}"))
        elif answer.status >= 500 or (strict and not 200 <= answer.status < 300):
            found.append((mode, answer, f"answered {answer.status}"))
    return found


def unserved(answers: list[exchange.Exchange]) -> list[exchange.Exchange]:
    """Answers that mean "not actually ready": no answer at all, or a 5xx."""
    return [a for a in answers if a.status is None or a.status >= 500]


def settle(client: httpx.Client, config: AgentConfig, within_s: float, poll_s: float = 0.1) -> float | None:
    """Seconds until every endpoint answers without 5xx (None if not within `within_s`), so the
    other checks judge a settled agent and the early 5xx is reported once, as READY-TRUTHFUL."""
    started = time.monotonic()
    while time.monotonic() - started < within_s:
        if not unserved(call_all(client, config)):
            return time.monotonic() - started
        time.sleep(poll_s)
    return None
