"""Render a request as a `curl` command a user can paste to reproduce it, byte for byte.

The base URL is the one a user gets with `docker run -p 8080:8080 IMAGE`, never the ephemeral
host port of the candidate: evidence stays stable between runs and reproducible by hand.
"""

from __future__ import annotations

import base64
import shlex
from typing import Iterable

# What `docker run -p 8080:8080 IMAGE` gives a user; a run passes its platform's (`Platform.user_url`).
DEFAULT_USER_URL = "http://127.0.0.1:8080"
# Starts an evidence line that holds a runnable curl reproducing a failure (the report gathers them).
REPRO_PREFIX = "repro: "
_INLINE_BODY_LIMIT = 2000


def _bash_bytes(data: bytes) -> str:
    """A bash `$'…'` string: every byte exactly as given (latin-1 header bytes, control bytes)."""
    out = []
    for b in data:
        if b in b"'\\" or b < 0x20 or b >= 0x7F:
            out.append(f"\\x{b:02x}")
        else:
            out.append(chr(b))
    return "$'" + "".join(out) + "'"


def _quote_header(line: str) -> str:
    raw = line.encode("latin-1", "replace")
    return shlex.quote(line) if raw.isascii() else _bash_bytes(raw)


def _quote_body(data: bytes) -> str:
    """Shell-quote a body for --data-binary; bytes that are not printable UTF-8 go through printf."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    # A leading "@" would make curl read a file of that name.
    if text is not None and not text.startswith("@") and all(ch.isprintable() or ch in "\n\t" for ch in text):
        return shlex.quote(text)
    escaped = "".join(f"\\x{b:02x}" if b < 0x20 or b >= 0x7F or b in b"'\\%" else chr(b) for b in data)
    return f"@<(printf '{escaped}')"  # process substitution keeps NUL bytes


def _has_dot_segment(target: str) -> bool:
    path = target.split("?", 1)[0]
    return any(segment in (".", "..") for segment in path.split("/"))


def curl_command(
    method: str,
    target: str,
    headers: Iterable[tuple[str, str]] = (),
    body: bytes | None = None,
    *,
    base_url: str | None = None,
    stream: bool = False,
) -> str:
    """`curl` reproducing METHOD TARGET with exactly these headers and body.

    curl adds `Accept: */*` (and a form Content-Type with a body) when none is given: they are
    suppressed so the agent sees what the suite sent. `--path-as-is` keeps dot segments.
    """
    base_url = DEFAULT_USER_URL if base_url is None else base_url
    headers = list(headers)
    names = {name.lower() for name, _ in headers}
    parts = ["curl", "-sS", "-i"]
    if stream:
        parts.append("-N")
    if _has_dot_segment(target):
        parts.append("--path-as-is")
    if method == "HEAD" and body is None:
        parts.append("-I")  # `-X HEAD` would wait for a body that never comes
    elif method == "HEAD":
        # curl refuses -I with a body: `-X HEAD` sends it, and --max-time ends the wait for a body
        # that never comes (curl then exits 28, after the head is shown).
        parts += ["-X", "HEAD", "--max-time", "10"]
    elif method != "GET" or body is not None:
        parts += ["-X", shlex.quote(method)]
    for name, value in headers:
        # `-H 'X:'` removes a header; `-H 'X;'` sends it empty.
        parts += ["-H", _quote_header(f"{name}: {value}" if value else f"{name};")]
    if "accept" not in names:
        parts += ["-H", shlex.quote("Accept:")]
    if body is not None and "content-type" not in names:
        parts += ["-H", shlex.quote("Content-Type:")]
    parts.append(shlex.quote(base_url + target))
    if body is not None:
        if len(body) > _INLINE_BODY_LIMIT:
            # Too long to read as text: it travels with the command, base64 (any bytes, one line),
            # so the line runs as written on a clean machine.
            parts += ["--data-binary", f"@<(printf %s {base64.b64encode(body).decode()} | base64 -d)"]
        else:
            parts += ["--data-binary", _quote_body(body)]
    return " ".join(parts)
