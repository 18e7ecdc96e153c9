"""The fixed requests every campaign sends first, to each declared endpoint: the malformed bodies
that break real frameworks, so that ROBUST-INPUT finds those defects in every run, not only when
the random search happens to draw them.

Each is its endpoint's example, or its media type, bent in one known way:
- every body of `strategies.NOT_JSON` under `Content-Type: application/json` (broken syntax,
  `NaN`, a lone surrogate escape, a 5,000-digit integer, …);
- the example with one string value replaced by a lone surrogate escape (`"\\ud800"`: valid JSON
  syntax that cannot be encoded back to UTF-8), per string key, and once more with every boolean
  flipped (an SDK may echo input only in the other form, as `"stream": false` does);
- the example with a byte that is not UTF-8 in a string value, under `application/json` and
  under `text/plain` (a framework that echoes the raw body in its 422).
Random generation (`strategies`) then looks for everything else.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from ..contract.agent_config import Endpoint
from ..wire.mediatype import JSON
from ..wire.rawhttp import RawRequest
from .strategies import NOT_JSON

LONE_SURROGATE = "\ud800"
NOT_UTF8 = b"\xe9"  # Latin-1's é: a continuation byte missing


def for_endpoints(endpoints: Iterable[Endpoint]) -> list[RawRequest]:
    """The fixed requests for each endpoint, in a stable order, without repeats."""
    seen: set[bytes] = set()
    found = []
    for endpoint in endpoints:
        for request in _for(endpoint):
            key = request.to_bytes("h")
            if key not in seen:
                seen.add(key)
                found.append(request)
    return found


def _for(endpoint: Endpoint) -> list[RawRequest]:
    def request(body: bytes, content_type: str = JSON) -> RawRequest:
        return RawRequest(endpoint.method, endpoint.path, (("Accept", JSON), ("Content-Type", content_type)), body)

    requests = [request(body) for body in NOT_JSON]
    example = endpoint.json if isinstance(endpoint.json, dict) else None
    if not example:
        return requests
    strings = [key for key, value in example.items() if isinstance(value, str)]
    for key in strings:
        requests.append(request(_dump({**example, key: LONE_SURROGATE})))
    flipped = {key: (not value if isinstance(value, bool) else value) for key, value in example.items()}
    if flipped != example:
        requests.append(request(_dump({**flipped, **dict.fromkeys(strings, LONE_SURROGATE)})))
    if strings:
        spliced = _with_bad_byte(example, strings[0])
        requests += [request(spliced), request(spliced, "text/plain")]
    return requests


def _dump(document: dict) -> bytes:
    return json.dumps(document, ensure_ascii=True).encode("ascii")  # a lone surrogate travels as its escape


def _with_bad_byte(example: dict, key: str) -> bytes:
    """The example with a byte that is not UTF-8 inside the string value of `key`."""
    marker = "\u0000MARK\u0000"
    text = json.dumps({**example, key: example[key][:8] + marker}, ensure_ascii=False).encode("utf-8")
    return text.replace(json.dumps(marker, ensure_ascii=False)[1:-1].encode("utf-8"), NOT_UTF8)
