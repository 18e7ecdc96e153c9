"""Render a request as a `curl` command a user can paste to reproduce it.

The base URL is the one a user gets with `docker run -p 8080:8080 IMAGE`, never the ephemeral
host port of the candidate: evidence stays stable between runs and reproducible by hand.
"""

from __future__ import annotations

import shlex
from typing import Iterable

USER_BASE_URL = "http://127.0.0.1:8080"
_INLINE_BODY_LIMIT = 2000


def _quote_bytes(data: bytes) -> str:
    """Shell-quote bytes; non-printable or non-UTF-8 bytes go through printf (bash) escapes."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    # A leading "@" would make curl read a file of that name.
    if text is not None and not text.startswith("@") and all(ch.isprintable() or ch in "\n\t" for ch in text):
        return shlex.quote(text)
    escaped = "".join(f"\\x{b:02x}" if b < 0x20 or b >= 0x7F or b in b"'\\%" else chr(b) for b in data)
    return f"@<(printf '{escaped}')"  # process substitution keeps NUL bytes


def curl_command(
    method: str,
    target: str,
    headers: Iterable[tuple[str, str]] = (),
    body: bytes | None = None,
    *,
    base_url: str = USER_BASE_URL,
    stream: bool = False,
) -> str:
    """`curl` reproducing METHOD TARGET with these exact headers and body.

    `--path-as-is` keeps dot segments and odd targets as sent; `-i` shows status and headers.
    """
    parts = ["curl", "-sS", "-i"]
    if stream:
        parts.append("-N")
    if "/./" in target or "/../" in target or target.endswith(("/.", "/..")):
        parts.append("--path-as-is")
    if method != "GET" or body is not None:
        parts += ["-X", shlex.quote(method)]
    for name, value in headers:
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    parts.append(shlex.quote(base_url + target))
    if body is not None:
        if len(body) > _INLINE_BODY_LIMIT:
            # Too long to paste: the body goes in a file; the comment says what it held.
            parts += ["--data-binary", f"@body.bin  # {len(body)} bytes, starting {body[:60]!r}"]
        else:
            parts += ["--data-binary", _quote_bytes(body)]
    return " ".join(parts)
