"""Media types compared the way HTTP defines them (RFC 9110 §8.3.1): type and subtype are
case-insensitive, parameters such as `; charset=utf-8` are allowed."""

from __future__ import annotations

JSON = "application/json"
EVENT_STREAM = "text/event-stream"


def essence(content_type: str | None) -> str:
    """`Application/JSON; charset=UTF-8` → `application/json`; absent or empty → ``."""
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def is_media_type(content_type: str | None, expected: str) -> bool:
    return essence(content_type) == expected


def describe(content_type: str | None) -> str:
    return repr(content_type) if content_type else "no Content-Type header"


def accept_includes(accept: str | None, media_type: str) -> bool:
    """Whether an Accept header lists `media_type` (any position, any parameters, q>0)."""
    if not accept:
        return False
    for item in accept.split(","):
        kind, *params = [part.strip() for part in item.split(";")]
        if kind.lower() != media_type:
            continue
        q = next((p.split("=", 1)[1].strip() for p in params if p.lower().startswith("q=")), "1")
        try:
            if float(q) > 0:
                return True
        except ValueError:
            return True  # a malformed q-value does not un-list the type
    return False


def asks_for_event_stream(accept: str | None) -> bool:
    """The platform's rule: an Accept that includes text/event-stream asks for a stream."""
    return accept_includes(accept, EVENT_STREAM)
