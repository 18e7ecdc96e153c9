"""`agent-conformance init`'s pure part: an OpenAPI document → endpoints with example bodies → an
agent.toml that the suite reads back as written."""

from __future__ import annotations

import tomllib

from conformance.contract import openapi
from conformance.contract.agent_config import DEFAULT_BODY, parse_config

FASTAPI_LIKE = {
    "openapi": "3.1.0",
    "paths": {
        "/health": {"get": {"responses": {}}},
        "/ready": {"get": {"responses": {}}},
        "/chat": {"post": {"requestBody": {"content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/ChatRequest"}}}}}},
        "/v1/agents/{agent_id}/invoke": {"put": {"requestBody": {"content": {"application/json": {"schema": {}}}}}},
        "/tools": {"get": {"responses": {}}},
    },
    "components": {"schemas": {"ChatRequest": {
        "type": "object", "required": ["message", "options"],
        "properties": {
            "message": {"type": "string"},
            "thread_id": {"type": "string", "default": "default"},
            "options": {"$ref": "#/components/schemas/Options"},
        }},
        "Options": {"type": "object", "properties": {
            "temperature": {"anyOf": [{"type": "number"}, {"type": "null"}]},
            "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
            "stream": {"type": "boolean", "example": False},
        }},
    }},
}


def test_json_operations_become_endpoints_with_example_bodies():
    endpoints, notes = openapi.endpoints_from_openapi(FASTAPI_LIKE)
    assert [e.label for e in endpoints] == ["POST /chat"]  # probes, GETs without a body and templates left out
    assert endpoints[0].json == {"message": "hello",
                                 "options": {"temperature": 1.0, "tags": ["a"], "stream": False}}
    assert notes == ["/v1/agents/{agent_id}/invoke: a templated path, left out (declare it with a real value)"]


def test_documents_that_cannot_be_used_give_notes_not_exceptions():
    for document in (None, [], "x", {"openapi": "3.1.0"}, {"paths": []}):
        endpoints, notes = openapi.endpoints_from_openapi(document)
        assert endpoints == [] and "not an OpenAPI document" in notes[0]
    looping = {"paths": {"/a": {"post": {"requestBody": {"content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/A"}}}}}}},
        "components": {"schemas": {"A": {"$ref": "#/components/schemas/A"}}}}
    assert openapi.endpoints_from_openapi(looping)[0][0].json == "hello"  # a $ref cycle ends


def test_no_json_operation_falls_back_to_the_platform_default():
    config, notes = openapi.draft({"paths": {"/tools": {"get": {}}}})
    assert [e.label for e in config.endpoints] == ["POST /chat"] and config.endpoints[0].json == DEFAULT_BODY
    assert "default endpoint" in notes[-1]


def test_the_written_file_reads_back_as_the_same_config():
    config, notes = openapi.draft(FASTAPI_LIKE)
    text = openapi.render(config, ["drafted for a test"], notes)
    read = parse_config(tomllib.loads(text), "agent.toml")
    assert read.endpoints == config.endpoints
    assert text.startswith("# drafted for a test\n# note: /v1/agents/{agent_id}/invoke")


def test_toml_values_for_every_json_shape():
    value = {"s": 'quote " and \\ and é\n', "n": 3, "f": 0.5, "b": True, "list": [1, "x", {"k": None}], "none": None,
             "weird key": {}}
    text = f"v = {openapi.toml_value(value)}\n"
    assert tomllib.loads(text)["v"] == {"s": 'quote " and \\ and é\n', "n": 3, "f": 0.5, "b": True,
                                        "list": [1, "x", {}], "weird key": {}}


def test_required_fields_of_every_allof_member_and_undescribed_ones_are_drafted():
    document = {"paths": {"/run": {"post": {"requestBody": {"content": {"application/json": {"schema": {
        "$ref": "#/components/schemas/RunRequest"}}}}}}},
        "components": {"schemas": {
            "Base": {"type": "object", "properties": {"appName": {"type": "string"}}, "required": ["appName"]},
            "RunRequest": {"allOf": [{"$ref": "#/components/schemas/Base"}, {
                "type": "object", "properties": {"userId": {"type": "string"}, "streaming": {"type": "boolean"}},
                "required": ["userId", "sessionId"]}]}}}}
    endpoints, _ = openapi.endpoints_from_openapi(document)
    assert endpoints[0].json == {"appName": "hello", "userId": "hello", "sessionId": "hello"}


def test_a_drafted_config_names_its_profile_and_keeps_its_endpoints():
    config, _ = openapi.draft(FASTAPI_LIKE)
    assert config.endpoints_given
    text = openapi.render(config, ["header"], [], "aws-agentcore")
    assert 'profile = "aws-agentcore"' in text and text.index("profile =") < text.index("[[endpoints]]")
    import tomllib

    assert tomllib.loads(text)["profile"] == "aws-agentcore"
