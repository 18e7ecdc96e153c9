"""An agent config drafted from the agent's own OpenAPI document (FastAPI serves one at
/openapi.json): the operations that take a JSON body, each with an example body built from its
schema. Pure: the document in, endpoints and notes out; a document that cannot be used gives
notes, never an exception.
"""

from __future__ import annotations

import json
from typing import Any

from .agent_config import AgentConfig, Endpoint

OPENAPI_PATH = "/openapi.json"
_METHODS = ("get", "put", "post", "delete", "patch")
_NOT_AGENT_PATHS = {OPENAPI_PATH, "/docs", "/redoc", "/docs/oauth2-redirect", "/metrics"}
_MAX_DEPTH = 6  # of nested schemas followed for an example (and of $ref chains)
MAX_ENDPOINTS = 8


def endpoints_from_openapi(document: Any, probe_paths: tuple[str, ...] = ()) -> tuple[list[Endpoint], list[str]]:
    """(endpoints with an example JSON body, notes on what was left out or guessed); the platform's
    probes (`probe_paths`) are no agent endpoint."""
    if not isinstance(document, dict) or not isinstance(document.get("paths"), dict):
        return [], ["the document has no `paths` object: not an OpenAPI document"]
    found: list[Endpoint] = []
    notes: list[str] = []
    for path, item in document["paths"].items():
        if not isinstance(path, str) or not path.startswith("/") or not isinstance(item, dict):
            continue
        if path in _NOT_AGENT_PATHS or path in probe_paths:
            continue
        if "{" in path:
            notes.append(f"{path}: a templated path, left out (declare it with a real value)")
            continue
        for method in _METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            schema = _json_body_schema(operation)
            if schema is None:
                continue
            found.append(Endpoint(method.upper(), path, example(schema, document)))
    if len(found) > MAX_ENDPOINTS:
        notes.append(f"{len(found)} operations take a JSON body; the first {MAX_ENDPOINTS} are declared")
        found = found[:MAX_ENDPOINTS]
    return found, notes


def _json_body_schema(operation: dict) -> Any | None:
    body = operation.get("requestBody")
    if not isinstance(body, dict) or not isinstance(body.get("content"), dict):
        return None
    media = next((v for k, v in body["content"].items() if isinstance(k, str) and "json" in k.lower()), None)
    return media.get("schema", {}) if isinstance(media, dict) else None


def example(schema: Any, document: dict, depth: int = 0) -> Any:
    """A value the schema accepts: its own example or default when it gives one, else the simplest
    value of its type (strings "hello", numbers 1, the required properties of objects)."""
    if depth > _MAX_DEPTH or not isinstance(schema, dict):
        return "hello"
    if "$ref" in schema:
        return example(_resolve(schema["$ref"], document), document, depth + 1)
    for key in ("example", "default"):
        if key in schema:
            return schema[key]
    if isinstance(schema.get("examples"), list) and schema["examples"]:
        return schema["examples"][0]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    if isinstance(schema.get("allOf"), list) and schema["allOf"]:
        return example(_merged(schema, document, depth), document, depth + 1)
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            choices = [s for s in schema[key] if not (isinstance(s, dict) and s.get("type") == "null")]
            return example((choices or schema[key])[0], document, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        required = [k for k in schema.get("required", []) if isinstance(k, str)]
        # Every required field, also one the schema names but does not describe (its value then a
        # string); with none required, every described one.
        return {key: example(properties.get(key, {"type": "string"}), document, depth + 1)
                for key in (required or list(properties))}
    if kind == "array":
        return [example(schema.get("items", {}), document, depth + 1)]
    return {"integer": 1, "number": 1.0, "boolean": True}.get(kind, "hello")


def _merged(schema: dict, document: dict, depth: int) -> dict:
    """An `allOf` as one object schema: every member's properties and required fields (a model
    that extends another lists the other's required fields in its first member)."""
    merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
    for part in [schema] + [p for p in schema["allOf"] if isinstance(p, dict)]:
        part = _resolve(part["$ref"], document) if "$ref" in part and depth < _MAX_DEPTH else part
        if isinstance(part.get("properties"), dict):
            merged["properties"].update(part["properties"])
        merged["required"] += [k for k in part.get("required", []) if k not in merged["required"]]
    return merged


def _resolve(ref: Any, document: dict) -> Any:
    """`#/components/schemas/ChatRequest` → that schema ({} when it does not resolve)."""
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return {}
    node: Any = document
    for part in ref[2:].split("/"):
        node = node.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


def draft(document: Any, probe_paths: tuple[str, ...] = ()) -> tuple[AgentConfig, list[str]]:
    """The agent config to write: the document's endpoints, or the platform's default one."""
    endpoints, notes = endpoints_from_openapi(document, probe_paths)
    if not endpoints:
        notes.append("no operation takes a JSON body: the platform's default endpoint is declared")
        return AgentConfig(), notes
    return AgentConfig(tuple(endpoints), source="openapi", endpoints_given=True), notes


# -- writing TOML (the standard library reads TOML, it does not write it) -----------------------


def toml_value(value: Any) -> str:
    """A TOML value (inline tables and arrays) for a JSON value; None has no TOML form: ""."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a TOML basic string: JSON's escapes are TOML's
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value if v is not None) + "]"
    if isinstance(value, dict):
        items = [f"{json.dumps(str(k), ensure_ascii=False)} = {toml_value(v)}" for k, v in value.items()
                 if v is not None]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    return json.dumps(str(value))


def render(config: AgentConfig, header: list[str], notes: list[str], profile: str = "") -> str:
    """agent.toml: a commented header, the notes, the profile when not the default, and one
    [[endpoints]] table per endpoint."""
    lines = [f"# {line}" for line in header]
    lines += [f"# note: {note}" for note in notes]
    if profile:
        lines += ["", f"profile = {toml_value(profile)}"]
    for endpoint in config.endpoints:
        lines += ["", "[[endpoints]]", f"method = {toml_value(endpoint.method)}", f"path = {toml_value(endpoint.path)}"]
        if endpoint.json is not None:
            lines.append(f"json = {toml_value(endpoint.json)}")
    lines += ["", "[budgets]", "# startup_s = 30, request_s = 10, stream_s = 30, … (see the README's agent.toml)", ""]
    return "\n".join(lines)

