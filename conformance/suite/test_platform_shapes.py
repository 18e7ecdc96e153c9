"""Rules of other platforms' contracts about the shape of a call: the session header a platform
sends with each call (AgentCore) and the Responses API's event stream (Azure AI Foundry)."""

from __future__ import annotations

import json

import pytest

from conformance.check import NotChecked, fail, mediatype, request, see
from conformance.wire import sse

TERMINAL = ("response.completed", "response.failed", "response.incomplete")


def _declared(agent_config, path: str):
    endpoint = next((e for e in agent_config.endpoints if e.path == path), None)
    if endpoint is None:
        raise NotChecked(f"the agent config declares no endpoint at {path}, which this platform calls")
    return endpoint


@pytest.mark.requirement("SESSION-HEADER-ACCEPTED")
def test_the_session_header_changes_nothing(candidate, agent_config, platform, evidence):
    candidate.require_serving()
    endpoint = agent_config.endpoints[0]
    headers = {"Accept": mediatype.JSON, **({"Content-Type": mediatype.JSON} if endpoint.json is not None else {})}
    answers = {}
    for label, session in (("without", False), ("with", True)):
        with candidate.client_http() as http:
            if not session:
                for name in platform.session_headers:
                    del http.headers[name]
            answers[label] = request(http, endpoint.method, endpoint.path, headers=headers, body=endpoint.body_bytes())
    without, with_ = answers["without"], answers["with"]
    names = ", ".join(platform.session_headers)
    evidence += [f"without {names}: {without.summary()}", f"with it: {with_.summary()}"]
    if without.status is None or without.status >= 500:
        raise NotChecked(f"{endpoint.label} fails without the header too ({without.summary()}) {see('ENDPOINT-SERVES')}")
    if with_.status != without.status or mediatype.essence(with_.content_type) != mediatype.essence(without.content_type):
        fail(f"{endpoint.label} answers {with_.summary()} with {names}, and {without.summary()} without it",
             with_.evidence())


@pytest.mark.requirement("RESPONSES-EVENTS")
def test_the_responses_event_stream(candidate, http, agent_config, require_served, evidence):
    candidate.require_serving()
    endpoint = _declared(agent_config, "/responses")
    require_served(endpoint)
    body = {**(endpoint.json if isinstance(endpoint.json, dict) else {}), "stream": True}
    answer = request(http, endpoint.method, endpoint.path, body=json.dumps(body).encode(),
                     headers={"Content-Type": mediatype.JSON, "Accept": mediatype.EVENT_STREAM})
    evidence.append(answer.summary())
    if not mediatype.is_media_type(answer.content_type, mediatype.EVENT_STREAM):
        fail(f'{endpoint.label} with "stream": true answered {mediatype.describe(answer.content_type)}, not '
             "text/event-stream", answer.evidence())
    events, _ = sse.validate(answer.body)
    names = [e.type for e in events]
    evidence.append(f"{len(events)} events: " + ", ".join(names[:6]) + (" …" if len(names) > 6 else ""))
    problems = []
    for event in events:
        try:
            kind = json.loads(event.data).get("type")
        except (ValueError, AttributeError):
            kind = None
        if kind != event.type:
            problems.append(f"event {event.type!r} carries type {kind!r}: the name must be its JSON type")
            break
    if not names or names[0] != "response.created":
        problems.append(f"the first event is {names[0] if names else 'missing'!r}, not 'response.created'")
    terminal = [n for n in names if n in TERMINAL]
    if len(terminal) != 1 or names[-1] not in TERMINAL:
        problems.append(f"{len(terminal)} terminal events ({', '.join(TERMINAL)}); exactly one, last, is asked for")
    if problems:
        fail(f"the event stream of {endpoint.label} is not the Responses API's: {problems[0]}",
             problems[1:] + answer.evidence())
