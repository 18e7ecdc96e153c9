"""Hypothesis strategies for ROBUST-INPUT: odd requests that are still valid on the wire.

Everything generated parses with a strict HTTP/1.1 parser, so a 5xx, a hang or a dropped
connection is the candidate's doing, never a framing error of ours. Framing headers (Host,
Content-Length, Connection, …) are left to `RawRequest.to_bytes`; the fuzz goes into what an
application sees: method, target, ordinary headers, body.
Generation stays cheap: builds/sampled_from/one_of, no rejection-heavy filters.
"""

from __future__ import annotations

import json
import string

from hypothesis import strategies as st

from ..wire.rawhttp import RawRequest

TCHAR = "!#$%&'*+-.^_`|~" + string.digits + string.ascii_letters  # RFC 9110 §5.6.2
EXCLUDED_HEADERS = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "keep-alive", "proxy-connection",
     "te", "trailer", "upgrade", "expect"}  # framing and hop-by-hop: ours to set, or they change the exchange
)  # fmt: skip
VCHAR = "".join(map(chr, range(0x21, 0x7F)))
OBS_TEXT = "".join(map(chr, range(0x80, 0x100)))  # one byte each under RawRequest's latin-1
_PCHAR = string.ascii_letters + string.digits + "-._~" + "!$&'()*+,;=" + ":@"  # RFC 3986 path characters
TARGET_CHARS = _PCHAR + "/?%"  # also keeps curl's URL globbing ([]{}) out of reproduction lines
MAX_TARGET = 4096


def weighted(*choices: tuple[int, st.SearchStrategy]) -> st.SearchStrategy:
    """one_of with integer weights (one_of alone picks its branches uniformly); shrinks toward the first."""
    table = [s for weight, s in choices for _ in range(weight)]
    return st.integers(0, len(table) - 1).flatmap(table.__getitem__)  # short repr, unlike sampled_from(table)


# --- methods ------------------------------------------------------------------------------------

STANDARD_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_tokens = st.text(TCHAR, min_size=1, max_size=16)


def methods() -> st.SearchStrategy[str]:
    return weighted((3, st.sampled_from(STANDARD_METHODS)), (1, _tokens))


# --- headers ------------------------------------------------------------------------------------

COMMON_HEADERS = (
    "Accept", "Content-Type", "User-Agent", "Authorization", "Accept-Encoding", "Accept-Language",
    "Accept-Charset", "Cookie", "Origin", "Referer", "Cache-Control", "Pragma", "Range", "If-None-Match",
    "If-Modified-Since", "X-Request-Id", "X-Forwarded-For", "X-Forwarded-Proto", "Forwarded",
    "Last-Event-ID", "opc-request-id", "Access-Control-Request-Method",
)  # fmt: skip


def _not_excluded(name: str) -> str:
    return "X-" + name if name.lower() in EXCLUDED_HEADERS else name  # a rename, not a filter


def header_names() -> st.SearchStrategy[str]:
    cased = st.builds(lambda n, c: (n, n.lower(), n.upper())[c], st.sampled_from(COMMON_HEADERS), st.integers(0, 2))
    return st.one_of(cased, st.text(TCHAR, min_size=1, max_size=40).map(_not_excluded))


_words = st.one_of(st.text(VCHAR, min_size=1, max_size=24), st.text(VCHAR + OBS_TEXT, min_size=1, max_size=12))


def header_values() -> st.SearchStrategy[str]:
    """Visible words joined by interior spaces/tabs: no CR/LF/NUL and no edge whitespace by construction."""
    gaps = st.sampled_from([" ", "\t", "  ", " \t "])
    rest = st.lists(st.tuples(gaps, _words), max_size=4)
    joined = st.builds(lambda first, more: first + "".join(g + w for g, w in more), _words, rest)
    # Now and then a long value (up to 8 KB): header buffers and naive parsers break on those.
    long = st.builds(lambda word, n: (word * (n // len(word) + 1))[:n], _words, st.integers(256, 8192))
    return weighted((12, joined), (2, st.just("")), (2, st.integers().map(str)), (1, long))


def _with_repeats(headers: list[tuple[str, str]], picks: list[int]) -> tuple[tuple[str, str], ...]:
    return tuple(headers + [headers[i % len(headers)] for i in picks if headers])


def header_lists(max_size: int = 5) -> st.SearchStrategy[tuple[tuple[str, str], ...]]:
    """Random headers, some repeated verbatim (repeats of common names also arise with other values)."""
    pairs = st.lists(st.tuples(header_names(), header_values()), max_size=max_size)
    return st.builds(_with_repeats, pairs, st.lists(st.integers(0, 10), max_size=2))


# --- Accept -------------------------------------------------------------------------------------

MEDIA_TYPES = (
    "application/json", "text/event-stream", "*/*", "text/*", "application/*", "text/html",
    "application/xml", "text/plain", "application/x-ndjson", "application/problem+json", "image/png",
    "multipart/mixed", "TEXT/EVENT-STREAM", "Application/JSON",
)  # fmt: skip
_JUNK_MEDIA = ("", "*", "json", "text/", "/json", "*/json", "a/b/c", ";", "text/event-stream/json", "event-stream")
ACCEPT_PARAMS = (
    ";q=0.5", ";q=0", ";q=1.000", ";q=1", "; q=0.9", " ;q=0.3", ";q=0.001", ";q=abc", ";q=2", ";q=-1",
    ";q=", ";q=0.5;q=0.1", ";charset=utf-8", ';charset="utf-8"', ";level=1", ";x", ";=",
)  # fmt: skip


def accept_values() -> st.SearchStrategy[str]:
    media = weighted((4, st.sampled_from(MEDIA_TYPES)), (1, st.sampled_from(_JUNK_MEDIA)), (1, _tokens))
    media_range = st.builds(lambda m, ps: m + "".join(ps), media, st.lists(st.sampled_from(ACCEPT_PARAMS), max_size=2))
    seps = st.sampled_from([",", ", ", " , ", ",,", ",\t", " ,"])
    joined = st.builds(
        lambda first, more: (first + "".join(s + m for s, m in more)).strip(" \t"),
        media_range,
        st.lists(st.tuples(seps, media_range), max_size=4),
    )
    return weighted((8, joined), (1, st.just("")))


CONTENT_TYPES = (
    "application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "application/json;charset=latin-1",
    "application/vnd.api+json", "text/plain", "text/json", "application/x-www-form-urlencoded",
    "multipart/form-data", "multipart/form-data; boundary=x", "application/octet-stream", "application/xml",
    "text/event-stream", "*/*", "", "json", "application/json; charset=\"utf-16\"",
)  # fmt: skip


def content_types() -> st.SearchStrategy[str]:
    return weighted((4, st.sampled_from(CONTENT_TYPES)), (1, header_values()))


# --- request targets ----------------------------------------------------------------------------

ODD_SEGMENTS = (
    ".", "..", "%2e", "%2E", "%2e%2e", ".%2e", "%2e.", "%2f", "%2F..", "%5c", "..%5c", "%00", "%0d%0a",
    "%C0%AE", "%zz", "%", "%4", "%G1", "%%", "%u002e", "~", "@", ":", ";", ";a=b", "*", "'", "()",
)  # fmt: skip
ODD_QUERIES = (
    "?", "??", "?&", "?=", "?=&=", "?a=1&a=2", "?a=b?c/d", "?%zz", "?%", "?q=%0D%0A", "?x=%FF%FE",
    "?x=%00", "?a%5B%5D=1", "?stream=true", "?__proto__=x", "?;", "?+%2B+",
)  # fmt: skip


def _percent(data: bytes) -> str:
    return "".join(f"%{b:02X}" for b in data)


def paths(base_path: str = "/") -> st.SearchStrategy[str]:
    """Raw request targets in origin-form: always "/"-led, only visible ASCII, at most MAX_TARGET long.

    `base_path` is the endpoint's path: most variants stay near it so routing reaches the endpoint.
    """
    assert base_path.startswith("/"), base_path
    base = base_path.rstrip("/")  # "/" -> "" so joins do not double the slash by accident
    segment = weighted(
        (3, st.text(_PCHAR, min_size=1, max_size=12)),
        (2, st.sampled_from(ODD_SEGMENTS)),
        (1, st.binary(min_size=1, max_size=6).map(_percent)),  # valid escapes of any byte, %2F and %00 too
        (1, st.just("")),  # an empty segment: a double slash
    )
    segments = st.lists(segment, max_size=6).map("/".join)
    path = weighted(
        (3, st.just(base_path)),
        (1, st.just(base + "/")),
        (3, segments.map(lambda s: f"{base}/{s}")),  # below the endpoint
        (2, segments.map(lambda s: f"/{s}{base}")),  # in front of it: "/../chat", "//chat"
        (2, segments.map(lambda s: f"/{s}")),  # elsewhere
        (1, st.integers(2, 300).map(lambda depth: "/a" * depth)),  # deep
        (1, st.integers(256, MAX_TARGET).map(lambda n: f"{base}/{'x' * n}")),  # long
    )
    query = weighted(
        (4, st.just("")),
        (2, st.text(TARGET_CHARS, max_size=40).map(lambda q: "?" + q)),
        (2, st.sampled_from(ODD_QUERIES)),
    )
    return st.builds(lambda p, q: (p + q)[:MAX_TARGET], path, query)


# --- bodies -------------------------------------------------------------------------------------

INVALID_UTF8 = (  # stray continuation, overlong, truncated, surrogate, beyond U+10FFFF
    b"\xff", b"\xfe\xff", b"\x80", b"\xc3\x28", b"\xc0\xaf", b"\xe2\x82", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
)  # fmt: skip
NOT_JSON = (
    b"not json", b"{", b"}", b"[1, 2", b"{'a': 1}", b'{"a": 1,}', b'{"a" 1}', b"NaN", b"-Infinity", b"1e999",
    b"<xml/>", b"a=1&b=2", b"\x00\x00\x00\x00", b"\xef\xbb\xbf{}", b'{"a": 1}{"b": 2}', b" ", b"\n",
    b'{"a": 1, "a": [2]}', b'"\\ud800"', b'{"x": "\\udc00"}', b'{"x": "\\u0000"}', b"[" + b"1" * 5000 + b"]",
)  # fmt: skip  (lone surrogates and 5000-digit ints pass json.loads' syntax but break naive code)

_text = st.one_of(
    st.text(max_size=30),
    st.text(st.characters(min_codepoint=0x80, codec="utf-8"), min_size=1, max_size=20),  # non-ASCII
    st.text(st.characters(min_codepoint=0x10000, codec="utf-8"), min_size=1, max_size=8),  # astral: pairs in UTF-16
)
_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), _text)
json_values = st.recursive(
    _scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4), max_leaves=8
)


def _nest(depth: int, kind: int) -> object:
    value: object = "deep"
    for _ in range(depth):
        value = [value] if kind else {"a": value}
    return value


_deep = st.builds(_nest, st.integers(1, 200), st.integers(0, 1))
_huge = st.builds(  # n bytes once escaped by json.dumps(ensure_ascii=True): ≤ 1 MB on the wire
    lambda ch, n: ch * (n // (len(json.dumps(ch)) - 2)), st.sampled_from("xé😀\\"), st.integers(64 << 10, 1 << 20)
)
_swapped = weighted(  # a key's value replaced by one of another type (any type: usually a different one)
    (8, _scalars),
    (2, st.lists(json_values, max_size=3)),
    (2, st.dictionaries(_text, json_values, max_size=3)),
    (1, _deep),
)


def _mutate(example: dict, drop: set, swaps: dict, extra: dict) -> dict:
    out = {**example, **swaps}
    for key in drop:
        out.pop(key, None)
    return {**out, **extra}


def _dump(value: object, ascii_only: bool) -> bytes:
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8")


def _splice(data: bytes, bad: bytes, at: int) -> bytes:
    at %= len(data) + 1
    return data[:at] + bad + data[at:]


def bodies(example: dict | None = None) -> st.SearchStrategy[bytes | None]:
    """Bodies around an endpoint's JSON example (None: no body at all, b"": an empty one)."""
    if isinstance(example, dict) and example:
        keys = sorted(example)
        documents = st.builds(
            _mutate,
            st.just(example),
            st.sets(st.sampled_from(keys), max_size=len(keys)),
            st.dictionaries(st.sampled_from(keys), _swapped, max_size=len(keys)),
            st.dictionaries(_text, json_values, max_size=3),
        )
    else:
        keys, example = ["text"], {}
        documents = st.dictionaries(_text, _swapped, max_size=4)
    as_json = st.builds(_dump, documents, st.booleans())
    huge = st.builds(lambda key, text: _dump({**example, key: text}, True), st.sampled_from(keys), _huge)
    return weighted(  # weights out of 61: a huge body is about 1 in 60, costly to send and to handle
        (24, as_json),
        (4, st.just(None if not example else _dump(example, True))),  # the example itself: a control
        (4, st.sampled_from([None, b""])),
        (8, st.builds(_splice, as_json, st.sampled_from(INVALID_UTF8), st.integers(0, 1 << 16))),
        (8, st.sampled_from(NOT_JSON)),
        (4, st.one_of(st.text(max_size=40).map(str.encode), st.binary(max_size=40))),
        (8, st.builds(_dump, st.one_of(_scalars, st.lists(json_values, max_size=4), _deep), st.booleans())),  # not objects
        (1, huge),
    )


# --- whole requests -----------------------------------------------------------------------------


def requests_for(
    endpoint_method: str,
    endpoint_path: str,
    example_json: dict | None = None,
    base_headers: tuple[tuple[str, str], ...] = (),
) -> st.SearchStrategy[RawRequest]:
    """Requests mostly to the declared endpoint (so bodies reach the handler), the rest anywhere.

    `base_headers` (e.g. credentials) go first on every request and are not fuzzed.
    """
    content_type = weighted(
        (6, st.just((("Content-Type", "application/json"),))),
        (2, _one("Content-Type", content_types())),
        (1, st.just(())),
    )
    accept = weighted(
        (4, _one("Accept", accept_values())),
        (3, _one("Accept", st.sampled_from(["application/json", "text/event-stream"]))),  # both modes, plainly
        (2, st.just(())),
    )
    on_endpoint = st.builds(
        RawRequest,
        weighted((9, st.just(endpoint_method)), (1, methods())),
        weighted((7, st.just(endpoint_path)), (3, paths(endpoint_path))),
        st.builds(lambda ct, acc, extra: tuple(base_headers) + ct + acc + extra, content_type, accept, header_lists(3)),
        bodies(example_json),
    )
    elsewhere = st.builds(
        RawRequest,
        methods(),
        paths(endpoint_path),
        header_lists().map(lambda extra: tuple(base_headers) + extra),
        weighted((3, st.none()), (1, bodies(example_json))),
    )
    return weighted((4, on_endpoint), (1, elsewhere))


def _one(name: str, values: st.SearchStrategy[str]) -> st.SearchStrategy[tuple[tuple[str, str], ...]]:
    return values.map(lambda v: ((name, v),))
