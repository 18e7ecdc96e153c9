"""The agent's own endpoints, before their form is judged: each answers its own example request
(ENDPOINT-SERVES), and, where the agent chooses the form (AgentCore's /invocations), answers JSON
or an event stream (ANSWER-JSON-OR-SSE). An endpoint that does not serve is reported here once;
the negotiation, stream and error checks of that endpoint say "(see ENDPOINT-SERVES)"."""

from __future__ import annotations

import pytest

from conformance.check import JSON_MODE, SSE_MODE, NotChecked, call, fail, mediatype, see


def _environment(agent_config, platform) -> str:
    given = agent_config.env_names
    if given:
        return (f"the agent was given {', '.join(given)} (values not shown), beside the platform's "
                f"{platform.name_list(platform.reserved_env) or 'none'}")
    return ("the agent was given no environment of its own: one that needs a model or credentials to answer "
            "gets them with --env NAME=VALUE, --env-file FILE or [env] in the agent config (or runs in its mock mode)")


@pytest.mark.requirement("ENDPOINT-SERVES")
def test_each_endpoint_serves_its_example(endpoint, endpoint_answers, serving_problems, agent_config, platform,
                                          evidence, run_state, candidate):
    json_answer = endpoint_answers(endpoint, JSON_MODE)
    stream = endpoint_answers(endpoint, SSE_MODE)
    evidence += [f"Accept: {JSON_MODE}: {json_answer.summary()}", f"Accept: {SSE_MODE}: {stream.answer.summary()}"]
    evidence += _setup(candidate)
    evidence.append(_environment(agent_config, platform))
    if run_state.internal_network:
        evidence.append("--no-egress: the agent cannot reach a model or any other service outside the run")
    problems = serving_problems(endpoint)
    if not problems:
        return
    mode, answer, problem = problems[0]
    _unless_the_session_header_is_the_cause(candidate, endpoint, platform, mode, problem)
    lines = [line for _, a, _ in problems for line in a.evidence()]
    if answer.status is not None and 400 <= answer.status < 500:
        lines.append("a 4xx: the endpoint refuses its example body; declare the request it accepts in the agent "
                     "config (json = …), and any call its API needs first (creating a session) as [[setup]]")
    fail(f"{endpoint.label} with Accept: {mode} {problem} to its own example request"
         + (f" (and {len(problems) - 1} more mode)" if len(problems) > 1 else ""), lines)


def _setup(candidate) -> list[str]:
    """The agent config's [[setup]] requests as the candidate answered them, once it was ready."""
    calls = candidate.startup.setup_calls if candidate.startup else []
    return [f"[[setup]] sent once ready: {call.summary()}" for call in calls]


def _unless_the_session_header_is_the_cause(candidate, endpoint, platform, mode: str, problem: str) -> None:
    """Every call carries the platform's session header, as the platform's do: when the endpoint
    serves without it, the header is the defect, SESSION-HEADER-ACCEPTED's, not this one's."""
    if not platform.session_headers:
        return
    with candidate.client_http() as bare:
        for name in platform.session_headers:
            del bare.headers[name]
        again = call(bare, endpoint, mode)
    if again.status is not None and 200 <= again.status < 300:
        raise NotChecked(f"{endpoint.label} with Accept: {mode} {problem} with the platform's session header and "
                         f"{again.status} without it {see('SESSION-HEADER-ACCEPTED')}")


@pytest.mark.requirement("ANSWER-JSON-OR-SSE")
def test_the_answer_is_json_or_an_event_stream(endpoint, endpoint_answers, evidence):
    judged = 0
    for accept in (JSON_MODE, SSE_MODE):
        got = endpoint_answers(endpoint, accept)
        answer = getattr(got, "answer", got)
        evidence.append(f"Accept: {accept}: {answer.summary()}")
        if answer.status is None or not 200 <= answer.status < 300:
            continue  # not served: ENDPOINT-SERVES reports it
        judged += 1
        if mediatype.is_media_type(answer.content_type, mediatype.EVENT_STREAM):
            continue  # the stream itself is SSE-FRAMING's
        if not mediatype.is_media_type(answer.content_type, mediatype.JSON):
            fail(f"{endpoint.label} answered Content-Type {mediatype.describe(answer.content_type)}: neither "
                 "application/json nor text/event-stream", answer.evidence())
        problem = answer.json_error()
        if problem:
            fail(f"{endpoint.label} declares application/json but its body is not JSON: {problem}", answer.evidence())
    if not judged:
        raise NotChecked(f"{endpoint.label} answered no 2xx to judge the form of {see('ENDPOINT-SERVES')}")
