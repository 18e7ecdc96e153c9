"""Header lookups, the one way: header names compare case-insensitively (RFC 9110 §5.1), and a
header list keeps the order and repeats it came with (`(name, value)` pairs)."""

from __future__ import annotations

from collections.abc import Iterable


def every(headers: Iterable[tuple[str, str]], name: str) -> list[str]:
    """Every value of the header `name`, in order."""
    name = name.lower()
    return [value for key, value in headers if key.lower() == name]


def first(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    """The first value of the header `name` (None when absent)."""
    return next(iter(every(headers, name)), None)


def has(headers: Iterable[tuple[str, str]], name: str) -> bool:
    return bool(every(headers, name))
