"""Error answers to non-streaming requests are JSON: malformed bodies to each declared endpoint, an
unknown path and an undeclared method."""

from __future__ import annotations

import pytest

from conformance.check import JSON_MODE, Exchange, fail, mediatype, request

MALFORMED = {
    "not JSON": b'{"message": "unterminated',
    "JSON of the wrong shape": b'["not", "an", "object"]',
}


def _judge(answer: Exchange, what: str, evidence: list[str], want_4xx: bool) -> None:
    evidence.append(f"{what}: {answer.summary()}")
    if answer.status is None:
        fail(f"{what}: no answer ({answer.error})", answer.evidence())
    if want_4xx and answer.status < 400:
        fail(f"{what} was accepted with {answer.status}: malformed input should be refused with a 4xx",
             answer.evidence())
    if answer.status >= 400 and not mediatype.is_media_type(answer.content_type, mediatype.JSON):
        fail(f"{what} answered {answer.status} with Content-Type {mediatype.describe(answer.content_type)}, "
             "not application/json", answer.evidence())


@pytest.mark.requirement("ERRORS-JSON")
@pytest.mark.parametrize("kind", list(MALFORMED))
def test_malformed_body_gets_a_json_4xx(http, endpoint, kind, require_served, evidence):
    if endpoint.json is None:
        pytest.skip(f"{endpoint.label} declares no JSON body to malform")
    require_served(endpoint, JSON_MODE)  # a 5xx to every body is not the malformed body's doing
    answer = request(http, endpoint.method, endpoint.path, headers={"Accept": mediatype.JSON},
                              body=MALFORMED[kind])
    _judge(answer, f"{endpoint.label} with a body that is {kind}", evidence, want_4xx=True)
    if answer.status >= 500:
        fail(f"{endpoint.label} with a body that is {kind} answered {answer.status}: a client error is a 4xx",
             answer.evidence())


@pytest.mark.requirement("ERRORS-JSON")
def test_unknown_path_error_is_json(http, evidence):
    answer = request(http, "GET", "/conformance-no-such-path", headers={"Accept": mediatype.JSON})
    _judge(answer, "GET /conformance-no-such-path", evidence, want_4xx=True)


@pytest.mark.requirement("ERRORS-JSON")
def test_undeclared_method_error_is_json(http, agent_config, evidence):
    endpoint = agent_config.endpoints[0]
    method = "DELETE" if endpoint.method != "DELETE" else "PATCH"
    answer = request(http, method, endpoint.path, headers={"Accept": mediatype.JSON})
    _judge(answer, f"{method} {endpoint.path}", evidence, want_4xx=False)
