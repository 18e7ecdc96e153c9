"""Content negotiation on every declared endpoint: the platform decides streaming by whether
Accept includes text/event-stream. Only unambiguous Accept values decide a verdict here; odd ones
belong to ROBUST-INPUT."""

from __future__ import annotations

import pytest

from conformance.check import JSON_ACCEPTS, JSON_MODE, SSE_ACCEPTS, SSE_MODE, fail, json_problem, sse_problem


def _accept_id(accept):
    return "no-Accept" if accept is None else accept.replace(" ", "")


@pytest.mark.requirement("NEGOTIATE-JSON")
@pytest.mark.parametrize("accept", JSON_ACCEPTS, ids=_accept_id)
def test_json_unless_event_stream_is_accepted(endpoint, accept, endpoint_answers, require_served, evidence):
    require_served(endpoint, JSON_MODE)
    answer = endpoint_answers(endpoint, accept)
    evidence.append(answer.summary())
    problem = json_problem(answer)
    if problem:
        shown = "without an Accept header" if accept is None else f"with Accept: {accept}"
        fail(f"{endpoint.label} {shown} {problem}", answer.evidence())


@pytest.mark.requirement("NEGOTIATE-SSE")
@pytest.mark.parametrize("accept", SSE_ACCEPTS, ids=_accept_id)
def test_event_stream_when_accepted(endpoint, accept, sse_captures, require_served, evidence):
    require_served(endpoint, SSE_MODE)
    capture = sse_captures(endpoint, accept)
    evidence.append(capture.answer.summary())
    problem = sse_problem(capture.answer)
    if problem:
        fail(f"{endpoint.label} with Accept: {accept} {problem}", capture.answer.evidence())
